"""A live campaign changed by its organizer, over HTTP: the change waits for review while the page
keeps the approved version; staff see before → after and approve (the page changes, 修改记录
lists it with its date, the API too, the organizer and each donor are told once) or reject with a
reason (the page stays as it was); one pending change at a time; other people's campaigns 404."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.campaigns.change_models import CampaignChange, ChangeStatus
from app.core.audit import AuditEntry
from app.extensions import db
from app.notices.models import Notice
from app.notices.services import set_muted
from tests.campaigns.helpers import stored_files
from tests.campaigns.images import jpeg_bytes
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start

NEW_STORY = ("孩子化疗后复发，医生建议转院做二次移植。\n\n"
             "我们已转到上海儿童医学中心，后续费用还需要二十万元，联系电话 13812345678。")


def edit_form(campaign, **overrides) -> dict:
    data = {"title": campaign.title, "diagnosis": campaign.diagnosis,
            "hospital": "上海儿童医学中心", "story": NEW_STORY, "reason": "患者已转院，更新医院和病情"}
    data.update(overrides)
    return data


def paid_donor(client, campaign, nickname: str):
    donor = UserFactory(nickname=nickname)
    assert acknowledged(post_notice(client, notice_for(start(campaign, donor, 20_00))))
    return donor


def notices(user_id: int, prefix: str) -> list[Notice]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notice).where(
        Notice.user_id == user_id, Notice.dedupe_key.like(f"{prefix}%"))))


def the_change(campaign) -> CampaignChange:
    db.session.expire_all()
    return db.session.scalars(select(CampaignChange).where(
        CampaignChange.campaign_id == campaign.id).order_by(CampaignChange.id.desc())).first()


def test_edit_review_approve_then_the_page_and_its_change_log_show_it(
        app, client, patient_client, staff_client, live_campaign, patient):
    donor = paid_donor(client, live_campaign, "张三丰")
    muted = paid_donor(client, live_campaign, "李四")
    set_muted(muted.id, live_campaign.id, True)
    old_story_line = live_campaign.story_paragraphs[0]

    form = patient_client.get(f"/c/{live_campaign.id}/changes/new")
    assert form.status_code == 200 and old_story_line in form.get_data(as_text=True)
    response = patient_client.post(f"/c/{live_campaign.id}/changes/new",
                                   data=edit_form(live_campaign))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/c/{live_campaign.id}/changes")

    page = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert old_story_line in page and "二次移植" not in page and "修改记录" not in page
    assert client.get(f"/api/v1/campaigns/{live_campaign.id}/changes").json["changes"] == []
    mine = patient_client.get(f"/c/{live_campaign.id}/changes").get_data(as_text=True)
    assert "待审核" in mine and "患者已转院" in mine

    change = the_change(live_campaign)
    queue = staff_client.get("/staff/changes").get_data(as_text=True)
    assert f'data-change="{change.id}"' in queue
    review = staff_client.get(f"/staff/changes/{change.id}").get_data(as_text=True)
    assert "修改前 → 修改后" in review and "就诊医院" in review and "求助故事" in review
    assert "<del>北京儿童医院</del> → <ins>上海儿童医学中心</ins>" in review
    assert "+ 我们已转到上海儿童医学中心" in review

    assert staff_client.post(f"/staff/changes/{change.id}/approve",
                             data={"approve-note": "已核对转院证明"}).status_code == 302
    page = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "二次移植" in page and old_story_line not in page.split('id="changes"')[0]
    assert "修改记录" in page and "就诊医院：北京儿童医院 → 上海儿童医学中心" in page
    assert "13812345678" not in page and "138****5678" in page   # masked in story and log
    log = client.get(f"/api/v1/campaigns/{live_campaign.id}/changes").json["changes"]
    assert [entry["kind"] for entry in log] == ["edit"]
    assert [item["label"] for item in log[0]["items"]] == ["就诊医院", "求助故事"]
    assert log[0]["approved_date"] and log[0]["reason"] == "患者已转院，更新医院和病情"
    assert "13812345678" not in str(log) and "138****5678" in log[0]["items"][1]["after"]

    assert len(notices(patient.id, "campaign_change_approved")) == 1
    assert len(notices(donor.id, "campaign_changed")) == 1       # the story changed: told once
    assert notices(muted.id, "campaign_changed") == []          # muted: not told
    audit = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "campaign_change.approve"))
    assert audit.campaign_id == live_campaign.id and audit.reason == "已核对转院证明"
    assert "修改内容" in [change.label for change in audit.readable_changes]
    audit_page = staff_client.get("/staff/audit").get_data(as_text=True)
    assert "筹款修改通过" in audit_page and "修改内容：— → 就诊医院、求助故事" in audit_page
    assert "对象：筹款修改" in audit_page
    # decided once: approving again changes nothing
    again = staff_client.post(f"/staff/changes/{change.id}/approve", data={})
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "campaign_change.approve")) == 1


def test_a_rejected_change_leaves_the_page_as_it_was(client, patient_client, staff_client,
                                                      live_campaign, patient):
    before_files = stored_files()
    response = patient_client.post(
        f"/c/{live_campaign.id}/changes/new",
        data={**edit_form(live_campaign, title="标题改成了别的内容"),
              "photos": [(io.BytesIO(jpeg_bytes((300, 200))), "new.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert len(stored_files()) == len(before_files) + 1          # re-encoded, stored, unused
    change = the_change(live_campaign)
    assert [p["width"] for p in change.after["photos_added"]] == [300]

    refused = staff_client.post(f"/staff/changes/{change.id}/reject", data={"reject-note": ""})
    assert refused.status_code == 422 and "请填写驳回原因" in refused.get_data(as_text=True)
    assert the_change(live_campaign).status == ChangeStatus.pending
    assert staff_client.post(f"/staff/changes/{change.id}/reject",
                             data={"reject-note": "转院证明与填写的医院不一致"}).status_code == 302
    assert the_change(live_campaign).status == ChangeStatus.rejected
    page = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "标题改成了别的内容" not in page and "二次移植" not in page and "修改记录" not in page
    assert stored_files() == before_files                        # the unused photo is gone
    told = notices(patient.id, "campaign_change_rejected")
    assert len(told) == 1 and "转院证明与填写的医院不一致" in told[0].body
    mine = patient_client.get(f"/c/{live_campaign.id}/changes").get_data(as_text=True)
    assert "未通过原因" in mine and "转院证明与填写的医院不一致" in mine
    # and the organizer may ask again
    assert patient_client.get(f"/c/{live_campaign.id}/changes/new").status_code == 200


def test_photos_added_and_removed_on_approval(client, patient_client, staff_client,
                                              live_campaign):
    cover = live_campaign.photos[0]
    response = patient_client.post(
        f"/c/{live_campaign.id}/changes/new",
        data={**edit_form(live_campaign, reason="换一张更近的照片"),
              "remove_photos": [str(cover.id)],
              "photos": [(io.BytesIO(jpeg_bytes((200, 300))), "a.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    change = the_change(live_campaign)
    staff_client.post(f"/staff/changes/{change.id}/approve", data={})
    db.session.expire_all()
    photos = the_change(live_campaign).campaign.photos
    assert [(p.width, p.height) for p in photos] == [(200, 300)]
    assert cover.storage_key + ".jpg" not in stored_files()
    page = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "新增照片 1 张" in page and "删除照片 1 张" in page


def test_bad_input_gets_the_form_again_and_changes_nothing(patient_client, live_campaign):
    url = f"/c/{live_campaign.id}/changes/new"
    cases = [
        (edit_form(live_campaign, reason=""), "请说明为什么修改"),
        (edit_form(live_campaign, story="太短"), "求助故事需要 20 到 5000 个字"),
        (edit_form(live_campaign, hospital="上"), "医院名称需要 2 到 100 个字"),
        ({**edit_form(live_campaign), "remove_photos": [str(live_campaign.photos[0].id)]},
         "至少要保留一张照片作为封面"),
        (edit_form(live_campaign, hospital=live_campaign.hospital,
                   story=live_campaign.story), "没有需要修改的内容"),
    ]
    for data, message in cases:
        response = patient_client.post(url, data=data)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True)
    bad_photo = patient_client.post(
        url, data={**edit_form(live_campaign),
                   "photos": [(io.BytesIO(b"not an image"), "x.jpg")]},
        content_type="multipart/form-data")
    assert bad_photo.status_code == 422 and "无法识别该文件" in bad_photo.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CampaignChange)) == 0


def test_one_pending_change_at_a_time(patient_client, live_campaign):
    url = f"/c/{live_campaign.id}/changes/new"
    assert patient_client.post(url, data=edit_form(live_campaign)).status_code == 302
    again = patient_client.get(url)
    assert again.status_code == 302
    followed = patient_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "已有一项修改正在审核" in followed
    assert patient_client.post(url, data=edit_form(live_campaign, title="又改一次标题内容")
                               ).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(CampaignChange)) == 1


@pytest.mark.parametrize("path", ["/changes/new", "/changes", "/end", "/target"])
def test_other_people_and_staff_cannot_reach_the_organizer_pages(app, client, donor_client,
                                                                 staff_client, live_campaign,
                                                                 path):
    url = f"/c/{live_campaign.id}{path}"
    assert donor_client.get(url).status_code == 404
    if path != "/changes":   # a page only
        assert donor_client.post(url, data=edit_form(live_campaign)).status_code == 404
    assert staff_client.get(url).status_code in (403, 404)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(CampaignChange)) == 0


def test_only_reviewers_decide_and_a_draft_cannot_be_changed_this_way(
        app, donor_client, patient_client, draft_campaign, live_campaign):
    patient_client.post(f"/c/{live_campaign.id}/changes/new", data=edit_form(live_campaign))
    change = the_change(live_campaign)
    assert donor_client.get("/staff/changes").status_code == 403
    assert donor_client.post(f"/staff/changes/{change.id}/approve").status_code == 403
    assert the_change(live_campaign).status == ChangeStatus.pending
    response = patient_client.get(f"/c/{draft_campaign.id}/changes/new")
    assert response.status_code == 302   # drafts are edited directly, not through a change
    assert response.headers["Location"].endswith(f"/c/{draft_campaign.id}/edit")
    assert client_api_404(app, draft_campaign)


def client_api_404(app, campaign) -> bool:
    response = app.test_client().get(f"/api/v1/campaigns/{campaign.id}/changes")
    return response.status_code == 404 and response.json["error"]["code"] == "campaign_not_found"


def test_the_organizer_is_warned_of_a_full_name_in_the_title_and_of_numbers_in_the_reason(
        patient_client, live_campaign):
    name = live_campaign.patient_name
    response = patient_client.post(
        f"/c/{live_campaign.id}/changes/new", follow_redirects=True,
        data=edit_form(live_campaign, title=f"{name}复发后急需二次移植",
                       reason="转院了，有事请打 13812345678"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "修改已提交审核" in html
    assert f"标题中含有患者全名“{name}”" in html and "公开页面将自动隐藏" in html
