"""Submit with documents → per-document decisions → reject with reasons → fix and resubmit →
approve → live with badges; the rounds are kept."""
from app.campaigns.models import CampaignStatus
from app.review import decisions, services
from app.review.models import CampaignDocument, DocumentStatus, ReviewRound
from app.review.services import ReviewError
from tests.factories import CampaignFactory
from tests.factories_plugin import add_cover
from tests.review.files import jpeg_bytes, upload
from tests.review.helpers import add_documents, add_identity, ready_campaign


def text(response) -> str:
    return response.get_data(as_text=True)


def test_submission_needs_documents_and_real_names(db, patient, patient_client):
    campaign = add_cover(CampaignFactory(organizer=patient), patient)
    response = patient_client.post(f"/c/{campaign.id}/documents/submit", follow_redirects=True)
    assert "提交前请上传" in text(response) and "诊断证明" in text(response)
    add_documents(campaign, patient)
    response = patient_client.post(f"/c/{campaign.id}/submit", follow_redirects=True)
    assert "实名信息" in text(response)
    assert campaign.status == CampaignStatus.draft
    add_identity(campaign, patient)
    response = patient_client.post(f"/c/{campaign.id}/documents/submit", follow_redirects=True)
    assert "已提交审核" in text(response)
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.submitted
    assert db.session.query(ReviewRound).one().number == 1


def test_review_round_trip_with_resubmission(db, patient, patient_client, staff, staff_client,
                                             client):
    campaign = ready_campaign(patient)
    patient_client.post(f"/c/{campaign.id}/documents/submit")
    docs = services.current_documents(campaign.id)
    diagnosis = next(d for d in docs if d.kind.value == "diagnosis")
    base = f"/staff/campaigns/{campaign.id}"

    review = text(staff_client.get(base))
    assert "诊断证明" in review and "王小明" in review and "还有" in review
    assert f"/documents/{diagnosis.id}" in review
    for doc in docs:
        if doc.id != diagnosis.id:
            staff_client.post(f"{base}/documents/{doc.id}", data={"decision": "approve"})
    response = staff_client.post(f"{base}/documents/{diagnosis.id}", follow_redirects=True,
                                 data={"decision": "reject", "reasons": ["unclear", "no_stamp"],
                                       "note": "请拍清楚医院公章"})
    assert "已驳回该材料" in text(response)
    # Cannot approve with a rejected document.
    response = staff_client.post(f"{base}/approve", follow_redirects=True)
    assert "还不能通过" in text(response)
    staff_client.post(f"{base}/reject", data={"reject-reason": "请补充清晰的诊断证明"})
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.rejected

    page = text(patient_client.get(f"/c/{campaign.id}/documents"))
    assert "图片模糊或不完整" in page and "缺少医院公章" in page and "请拍清楚医院公章" in page
    assert "第 1 轮审核未通过" in page

    patient_client.post(f"/c/{campaign.id}/documents/{diagnosis.id}/remove")
    patient_client.post(f"/c/{campaign.id}/documents", content_type="multipart/form-data",
                        data={"kind": "diagnosis", "files": [upload(jpeg_bytes((500, 400)))]})
    response = patient_client.post(f"/c/{campaign.id}/documents/submit", follow_redirects=True)
    assert "已提交审核" in text(response)
    new = db.session.query(CampaignDocument).filter_by(kind="diagnosis", removed_at=None).one()
    assert new.status == DocumentStatus.pending

    staff_client.post(f"{base}/documents/{new.id}", data={"decision": "approve"})
    staff_client.post(f"{base}/identity", data={"decision": "ok"})
    response = staff_client.post(f"{base}/approve", data={"approve-reason": "材料齐全"})
    assert response.status_code == 302
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.live
    rounds = db.session.query(ReviewRound).order_by(ReviewRound.number).all()
    assert [(r.number, r.outcome.value) for r in rounds] == [(1, "rejected"), (2, "approved")]
    assert rounds[1].verified == ["diagnosis", "hospital", "identity"]

    public = text(client.get(f"/c/{campaign.id}"))
    assert "诊断证明已核实" in public and "就诊医院已核实" in public and "身份已核实" in public
    assert "/documents/" not in public and "110101" not in public


def test_reject_needs_a_reason(db, patient, staff):
    campaign = ready_campaign(patient)
    services.submit_for_review(campaign, patient)
    try:
        decisions.reject_review(campaign.id, staff, "")
    except ReviewError as error:
        assert "驳回" in error.message
    else:
        raise AssertionError("rejecting without any reason must fail")
    try:
        decisions.decide_document(services.current_documents(campaign.id)[0].id, staff, False, [])
    except ReviewError as error:
        assert "原因" in error.message
    else:
        raise AssertionError("rejecting a document without a reason must fail")


def test_campaigns_submitted_without_a_round_get_one_on_the_first_decision(
        db, staff, patient, submitted_campaign):
    decisions.reject_review(submitted_campaign.id, staff, "请上传诊断证明和身份证")
    assert db.session.query(ReviewRound).one().outcome.value == "rejected"
