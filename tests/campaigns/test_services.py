"""The campaign life cycle through the services: transitions, events, rules."""
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from app.auth.models import StaffRole
from app.campaigns import services
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.photos import process_image
from app.campaigns.services import CampaignError
from app.models_base import as_utc, utcnow
from tests.campaigns.helpers import campaign_data, count_campaigns, events_of, stored_files
from tests.campaigns.images import jpeg_bytes
from tests.factories import CampaignFactory, StaffFactory, UserFactory
from tests.factories_plugin import add_cover

S = CampaignStatus


def photo():
    return process_image(jpeg_bytes((80, 60)))


def test_full_life_cycle_records_every_step(db, patient, staff):
    campaign = services.create_campaign(patient, campaign_data(), [photo()])
    assert campaign.status == S.draft and len(campaign.photos) == 1
    services.submit_campaign(campaign, by_user=patient)
    assert campaign.status == S.submitted and campaign.submitted_at is not None
    services.approve_campaign(campaign.id, by_staff=staff, reason="材料齐全")
    assert campaign.status == S.live
    assert as_utc(campaign.ends_at) - as_utc(campaign.live_at) == timedelta(days=30)
    ended = services.end_due_campaigns(now=as_utc(campaign.ends_at) + timedelta(seconds=1))
    assert ended == 1
    db.session.refresh(campaign)
    assert campaign.status == S.ended and campaign.ended_at is not None

    steps = [(e.from_status, e.to_status, e.actor_user_id, e.actor_staff_id, e.reason)
             for e in events_of(campaign.id)]
    assert steps == [
        (None, "draft", patient.id, None, "创建草稿"),
        ("draft", "submitted", patient.id, None, "提交审核"),
        ("submitted", "live", None, staff.id, "材料齐全"),
        ("live", "ended", None, None, services.REASON_DEADLINE),
    ]
    assert all(e.created_at is not None for e in events_of(campaign.id))


def test_reject_then_edit_and_resubmit(db, patient, staff, submitted_campaign):
    with pytest.raises(CampaignError, match="请填写原因"):
        services.reject_campaign(submitted_campaign, by_staff=staff, reason="   ")
    assert submitted_campaign.status == S.submitted
    services.reject_campaign(submitted_campaign, by_staff=staff, reason="请补充诊断证明")
    assert submitted_campaign.status == S.rejected
    assert submitted_campaign.last_decision.reason == "请补充诊断证明"

    services.update_campaign(submitted_campaign, patient, {"diagnosis": "白血病（已补充）"})
    assert submitted_campaign.diagnosis == "白血病（已补充）"
    services.submit_campaign(submitted_campaign, by_user=patient)
    services.approve_campaign(submitted_campaign, by_staff=staff)
    assert submitted_campaign.status == S.live
    assert [e.to_status for e in events_of(submitted_campaign.id)][-4:] == [
        "submitted", "rejected", "submitted", "live"]


@pytest.mark.parametrize("action", ["approve", "reject", "end"])
def test_draft_cannot_skip_review(db, staff, draft_campaign, action):
    with pytest.raises(CampaignError) as caught:
        if action == "approve":
            services.approve_campaign(draft_campaign, by_staff=staff)
        elif action == "reject":
            services.reject_campaign(draft_campaign, by_staff=staff, reason="x")
        else:
            services.end_campaign(draft_campaign, reason="x", by_staff=staff)
    assert caught.value.code == "invalid_transition"
    assert "草稿" in caught.value.message
    db.session.refresh(draft_campaign)
    assert draft_campaign.status == S.draft
    assert len(events_of(draft_campaign.id)) == 0  # the factory draft has no creation event


def test_live_campaign_cannot_be_resubmitted_edited_or_reapproved(db, patient, staff,
                                                                  live_campaign):
    with pytest.raises(CampaignError):
        services.submit_campaign(live_campaign, by_user=patient)
    with pytest.raises(CampaignError, match="不能再修改"):
        services.update_campaign(live_campaign, patient, {"title": "改个标题改个标题"})
    with pytest.raises(CampaignError):
        services.approve_campaign(live_campaign, by_staff=staff)
    with pytest.raises(CampaignError):
        services.add_photos(live_campaign, patient, [photo()])
    assert live_campaign.status == S.live


def test_only_the_organizer_submits_and_only_reviewers_decide(db, draft_campaign, patient):
    stranger = UserFactory()
    with pytest.raises(CampaignError, match="发起人"):
        services.submit_campaign(draft_campaign, by_user=stranger)
    services.submit_campaign(draft_campaign, by_user=patient)
    finance = StaffFactory(role=StaffRole.finance)
    with pytest.raises(CampaignError, match="审核员"):
        services.approve_campaign(draft_campaign, by_staff=finance)
    inactive = StaffFactory(role=StaffRole.reviewer, active=False)
    with pytest.raises(CampaignError):
        services.approve_campaign(draft_campaign, by_staff=inactive)
    with pytest.raises(CampaignError):
        services.approve_campaign(draft_campaign, by_staff=patient)
    admin = StaffFactory(role=StaffRole.admin)
    services.approve_campaign(draft_campaign, by_staff=admin)
    assert draft_campaign.status == S.live


def test_submit_needs_a_photo(db, patient):
    campaign = CampaignFactory(organizer=patient)
    with pytest.raises(CampaignError) as caught:
        services.submit_campaign(campaign, by_user=patient)
    assert caught.value.code == "photo_required"
    assert campaign.status == S.draft


def test_target_reached_ends_the_campaign(db, live_campaign):
    assert services.end_if_target_reached(live_campaign.id) is False
    live_campaign.raised_fen = live_campaign.target_fen
    db.session.commit()
    assert services.end_if_target_reached(live_campaign.id) is True
    assert live_campaign.status == S.ended
    assert events_of(live_campaign.id)[-1].reason == services.REASON_TARGET
    assert services.end_if_target_reached(live_campaign.id) is False  # idempotent


def test_end_due_campaigns_leaves_running_ones(db, live_campaign, patient, staff):
    other = add_cover(CampaignFactory(organizer=patient, patient_name="李四"), patient)
    services.submit_campaign(other, by_user=patient)
    services.approve_campaign(other, by_staff=staff)
    other.raised_fen = other.target_fen + 100
    db.session.commit()
    assert services.end_due_campaigns(now=utcnow()) == 1
    db.session.refresh(live_campaign)
    db.session.refresh(other)
    assert live_campaign.status == S.live and other.status == S.ended
    assert services.end_due_campaigns(now=utcnow()) == 0


def test_staff_can_end_with_reason(db, staff, live_campaign):
    with pytest.raises(CampaignError):
        services.end_campaign(live_campaign, reason="", by_staff=staff)
    services.end_campaign(live_campaign, reason="患者已康复出院", by_staff=staff)
    event = events_of(live_campaign.id)[-1]
    assert (event.to_status, event.actor_staff_id, event.reason) == (
        "ended", staff.id, "患者已康复出院")


# --- one live campaign per patient -----------------------------------------------------------

def test_same_patient_cannot_have_two_campaigns_running(db, patient, live_campaign):
    second = add_cover(CampaignFactory(organizer=patient, patient_name=" 王 小明 "), patient)
    with pytest.raises(CampaignError, match="同一患者") as caught:
        services.submit_campaign(second, by_user=patient)
    assert caught.value.code == "patient_busy"
    assert second.status == S.draft


def test_second_submission_blocked_while_first_is_in_review(db, patient, submitted_campaign):
    second = add_cover(CampaignFactory(organizer=patient), patient)
    with pytest.raises(CampaignError, match="审核中"):
        services.submit_campaign(second, by_user=patient)


def test_approval_also_checks_the_patient(db, patient, staff, submitted_campaign):
    # A second submission that slipped in (e.g. created before the rule existed).
    second = add_cover(CampaignFactory(organizer=patient), patient)
    second.status = S.submitted
    db.session.commit()
    services.approve_campaign(submitted_campaign, by_staff=staff)
    with pytest.raises(CampaignError, match="同一患者"):
        services.approve_campaign(second, by_staff=staff)
    assert second.status == S.submitted


def test_other_patients_and_finished_campaigns_do_not_block(db, patient, staff, live_campaign):
    sibling = add_cover(CampaignFactory(organizer=patient, patient_name="王小红"), patient)
    services.submit_campaign(sibling, by_user=patient)
    services.end_campaign(live_campaign, reason=services.REASON_DEADLINE)
    again = add_cover(CampaignFactory(organizer=patient), patient)
    services.submit_campaign(again, by_user=patient)
    assert sibling.status == again.status == S.submitted


def test_normalized_patient_names():
    key = services.normalize_patient_name
    assert key("王 小明") == key("王小明 ") == key("王　小明")
    assert key("Ayi·Maimaiti") == key("ayi maimaiti") == key("ＡＹＩ・ＭＡＩＭＡＩＴＩ")
    assert key("王小明") != key("王小红")


# --- editing and photos ----------------------------------------------------------------------

def test_service_refuses_invalid_data(db, patient):
    for bad in ({"target_fen": 999_99}, {"target_fen": 500_000_01}, {"target_fen": 1000.5},
                {"duration_days": 6}, {"relation": "boss"}, {"title": ""}, {"story": "  "}):
        with pytest.raises(CampaignError):
            services.create_campaign(patient, campaign_data(**bad))
    assert count_campaigns() == 0


def test_photos_add_remove_cover_and_limit(db, patient, draft_campaign):
    services.add_photos(draft_campaign, patient, [photo() for _ in range(7)])
    assert len(draft_campaign.photos) == 8
    assert [p.position for p in draft_campaign.photos] == list(range(8))
    with pytest.raises(CampaignError, match="最多上传 8 张"):
        services.add_photos(draft_campaign, patient, [photo()])
    third = draft_campaign.photos[2]
    services.set_cover(draft_campaign, patient, third.id)
    assert draft_campaign.cover.id == third.id
    removed_key = third.storage_key
    services.remove_photo(draft_campaign, patient, third.id)
    assert len(draft_campaign.photos) == 7
    assert [p.position for p in draft_campaign.photos] == list(range(7))
    assert f"{removed_key}.jpg" not in stored_files()


def test_new_cover_on_update_goes_first(db, patient, draft_campaign):
    old_cover = draft_campaign.cover.id
    services.update_campaign(draft_campaign, patient, {}, photos=[photo()], cover=photo())
    assert len(draft_campaign.photos) == 3
    assert draft_campaign.photos[1].id == old_cover
    assert [p.position for p in draft_campaign.photos] == [0, 1, 2]


def test_failed_commit_leaves_no_photo_files(db, patient, monkeypatch):
    before = stored_files()

    def broken_commit():
        raise OperationalError("COMMIT", {}, Exception("database went away"))

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(OperationalError):
        services.create_campaign(patient, campaign_data(), [photo(), photo()])
    monkeypatch.undo()
    assert stored_files() == before
    assert count_campaigns() == 0


def test_someone_else_cannot_touch_photos(db, draft_campaign):
    stranger = UserFactory()
    with pytest.raises(CampaignError):
        services.add_photos(draft_campaign, stranger, [photo()])
    with pytest.raises(CampaignError):
        services.remove_photo(draft_campaign, stranger, draft_campaign.cover.id)
    assert db.session.get(Campaign, draft_campaign.id).cover is not None


def test_periodic_job_ends_due_campaigns(db, live_campaign):
    from app.campaigns.tasks import PERIODIC_JOBS, end_due_campaigns_job

    assert PERIODIC_JOBS[0][0] is end_due_campaigns_job
    assert end_due_campaigns_job() == 0
    live_campaign.ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert end_due_campaigns_job() == 1
    db.session.refresh(live_campaign)
    assert live_campaign.status == S.ended
