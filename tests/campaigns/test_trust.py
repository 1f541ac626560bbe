"""Attestations (证实) and updates (动态) on the campaign page."""
from app.campaigns import trust
from app.campaigns.errors import CampaignError
from tests.campaigns.images import jpeg_bytes, upload
from tests.factories import UserFactory


def body(response) -> str:
    return response.get_data(as_text=True)


def test_attestations_one_per_person_not_by_the_organizer(app, db, patient, patient_client,
                                                         donor, donor_client, client,
                                                         live_campaign):
    url = f"/c/{live_campaign.id}/attest"
    response = donor_client.post(url, data={"relation": "colleague",
                                            "statement": "我是患者妈妈的同事，情况属实。"},
                                 follow_redirects=True)
    assert "感谢您的证实" in body(response)
    again = donor_client.post(url, data={"relation": "friend", "statement": "再证实一次看看"},
                              follow_redirects=True)
    assert "已经证实过" in body(again)
    own = patient_client.post(url, data={"relation": "relative", "statement": "我自己证实自己"},
                              follow_redirects=True)
    assert "发起人不能为自己的筹款证实" in body(own)
    neighbour = app.test_client(user=UserFactory(nickname="隔壁张阿姨"))
    neighbour.post(url, data={"relation": "neighbour", "statement": "住在隔壁，孩子确实生病了"})
    assert trust.attestation_counts(live_campaign.id) == [("同事", 1), ("邻居", 1)]
    page = body(client.get(f"/c/{live_campaign.id}"))
    assert "同事 <strong>1</strong>" in page and "住在隔壁，孩子确实生病了" in page
    assert "隔壁张阿姨" not in page  # nicknames are masked
    assert client.post(url, data={}).status_code == 302  # sign in first


def test_attestation_needs_a_relation_and_a_statement(db, donor, live_campaign):
    for relation, statement in [("boss", "情况属实，我认识"), ("friend", "短")]:
        try:
            trust.attest(live_campaign.id, donor, relation, statement)
        except CampaignError:
            continue
        raise AssertionError("invalid attestation accepted")


def test_updates_newest_first_with_photos(db, patient, patient_client, donor_client, client,
                                          live_campaign):
    url = f"/c/{live_campaign.id}/updates"
    patient_client.post(url, data={"body": "第一次化疗结束，孩子状态不错。"})
    response = patient_client.post(url, content_type="multipart/form-data", follow_redirects=True,
                                   data={"body": "今天转入移植仓，谢谢大家。",
                                         "photos": [upload(jpeg_bytes((320, 240)))]})
    assert "动态已发布" in body(response)
    assert donor_client.post(url, data={"body": "我不是发起人哦"}).status_code == 404
    page = body(client.get(f"/c/{live_campaign.id}"))
    assert page.index("今天转入移植仓") < page.index("第一次化疗结束")
    assert "我不是发起人哦" not in page
    updates = trust.updates_of(live_campaign.id)
    assert len(updates[0].photos) == 1 and not updates[1].photos


def test_draft_campaigns_take_no_updates(db, patient, patient_client, draft_campaign):
    patient_client.post(f"/c/{draft_campaign.id}/updates", data={"body": "还没上线的动态内容"})
    assert trust.updates_of(draft_campaign.id) == []
