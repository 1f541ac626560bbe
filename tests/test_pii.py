"""Personal data in free text: the detector (app.core.pii), and every public page and API
response masking each kind whatever was stored, while the writer is warned."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core import idcard, pii
from app.core.pii import PiiKind
from tests.factories import CampaignFactory, UserFactory
from tests.factories_plugin import add_cover
from tests.payments.helpers import acknowledged, notice_for, post_notice, start

BIRTH = date.today() - timedelta(days=365 * 30 + 17)
ID_NUMBER = idcard.make_number("110101", BIRTH, 123)
CARD = "6222021234567890128"   # passes Luhn
assert pii.luhn_valid(CARD)


# --- the detector ----------------------------------------------------------------------------

def test_a_checksum_valid_id_number_is_found_and_masked_with_a_hint():
    text = f"患者身份证：{ID_NUMBER}。"
    assert [hit.kind for hit in pii.find(text)] == [PiiKind.id_number]
    assert pii.mask(text) == f"患者身份证：{ID_NUMBER[:3]}{'*' * 11}{ID_NUMBER[-4:]}。"


def test_an_id_number_with_a_wrong_check_character_is_not_an_id_number():
    wrong = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
    assert PiiKind.id_number not in pii.kinds(wrong)


def test_an_x_check_character_is_found_in_either_case():
    first17 = next(f"110101{BIRTH:%Y%m%d}{seq:03d}" for seq in range(1000)
                   if idcard.check_char(f"110101{BIRTH:%Y%m%d}{seq:03d}") == "X")
    assert pii.kinds(first17 + "X") == [PiiKind.id_number]
    assert pii.kinds(first17 + "x") == [PiiKind.id_number]


@pytest.mark.parametrize("written", [
    "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678",
    "86-13812345678",
])
def test_mobile_numbers_in_the_ways_people_write_them(written):
    text = f"有事请打{written}联系"
    assert pii.kinds(text) == [PiiKind.mobile]
    assert pii.mask(text) == "有事请打138****5678联系"


def test_a_number_that_is_not_a_mobile_is_left_alone():
    assert pii.find("12812345678") == []                  # no mobile begins 12
    assert pii.find("138123456789") == []                 # twelve digits


@pytest.mark.parametrize("written", [CARD, "6222 0212 3456 7890 128", "4111-1111-1111-1111"])
def test_bank_card_numbers_passing_luhn(written):
    text = f"卡号{written}，谢谢"
    assert pii.kinds(text) == [PiiKind.bank_card]
    last_four = written.replace(" ", "").replace("-", "")[-4:]
    assert pii.mask(text) == f"卡号**** **** **** {last_four}，谢谢"


def test_a_card_length_number_failing_luhn_is_not_a_card():
    assert pii.find("卡号6222021234567890129") == []


def test_emails_keep_their_first_letter_and_domain():
    text = "写信给 alice.wang@example.com 吧"
    assert pii.kinds(text) == [PiiKind.email]
    assert pii.mask(text) == "写信给 a***@example.com 吧"


@pytest.mark.parametrize("text", [
    "目标金额50000元，已筹集 123456 元", "2024-12-03 住院，20241203 手术",
    "第 3 次化疗花费 38000.50 元", "住院号 88012345", "金额 50000 20241203 合计",
    f"{date.today():%Y年%m月%d日} 下午三点复查",
])
def test_amounts_and_dates_are_no_personal_data(text):
    assert pii.find(text) == []
    assert pii.mask(text) == text


def test_the_warning_names_every_kind_found():
    message = pii.warning(f"电话 13812345678，身份证 {ID_NUMBER}")
    assert message == "内容中含有手机号码、身份证号码，公开页面将自动隐藏；如需修改请返回编辑"
    assert pii.warning("愿早日康复") is None


# --- every public page and API response ------------------------------------------------------

KINDS = {
    "id_number": (ID_NUMBER, f"{ID_NUMBER[:3]}{'*' * 11}{ID_NUMBER[-4:]}"),
    "mobile": ("13812345678", "138****5678"),
    "bank_card": (CARD, "**** **** **** 0128"),
    "email": ("alice@example.com", "a***@example.com"),
}


def _live_campaign(patient, staff, story: str):
    from app.campaigns.services import approve_campaign, submit_campaign

    campaign = add_cover(CampaignFactory(organizer=patient, story=story), patient)
    submit_campaign(campaign, by_user=patient)
    approve_campaign(campaign, by_staff=staff, reason="材料齐全")
    return campaign


JSON = {"Accept": "application/json"}


def _story(client, patient, staff, secret):
    from tests.sharing.conftest import Person, share

    campaign = _live_campaign(patient, staff, f"孩子确诊白血病。\n联系方式 {secret} 请帮帮我们。")
    link = share(campaign, Person(patient.id))
    # the share link a friend opens leads to the campaign page
    return [f"/c/{campaign.id}", f"/api/v1/campaigns/{campaign.id}", f"/s/{link.token}"]


def _update(client, patient, staff, secret):
    from app.campaigns import trust

    campaign = _live_campaign(patient, staff, "孩子确诊白血病，请帮帮我们。")
    trust.post_update(campaign.id, patient, f"第二次化疗结束，有事联系 {secret}，谢谢大家。")
    return [f"/c/{campaign.id}"]


def _attestation(client, patient, staff, secret):
    from app.campaigns import trust

    campaign = _live_campaign(patient, staff, "孩子确诊白血病，请帮帮我们。")
    trust.attest(campaign.id, UserFactory(nickname="邻居老李"), "neighbour",
                 f"我是他家邻居，情况属实，可联系 {secret}")
    return [f"/c/{campaign.id}"]


def _blessing(client, patient, staff, secret):
    campaign = _live_campaign(patient, staff, "孩子确诊白血病，请帮帮我们。")
    payment = start(campaign, UserFactory(nickname="阿杰"), 50_00,
                    blessing=f"加油！需要帮忙找我 {secret}")
    assert acknowledged(post_notice(client, notice_for(payment)))
    return [f"/c/{campaign.id}", f"/c/{campaign.id}/donations",
            (f"/c/{campaign.id}/donations", JSON), f"/api/v1/campaigns/{campaign.id}/donations"]


def _claim(client, patient, staff, secret):
    """A mutual-aid claim's words on the plan's public 病例公示."""
    from sqlalchemy import select

    from app.extensions import db
    from app.mutual_aid import claims, services
    from app.mutual_aid.models import Claim
    from tests.mutual_aid.conftest import members
    from tests.mutual_aid.test_claims import submit

    plan = services.seed_demo_plan()
    _, response = submit(client.application, members(plan, 1)[0],
                         diagnosis=f"肺腺癌，联系 {secret}", hospital=f"华西医院（{secret}）")
    assert response.status_code == 302
    claims.approve_claim(db.session.scalar(select(Claim.id)), staff, "材料齐全")
    return [f"/mutual-aid/plans/{plan.slug}/notices"]


def _objection(client, patient, staff, secret):
    """Someone else's objection, on the claimant's own page of their claim."""
    from sqlalchemy import select

    from app.extensions import db
    from app.mutual_aid import claims, services
    from app.mutual_aid.models import Claim
    from tests.mutual_aid.conftest import members
    from tests.mutual_aid.test_claims import membership_user, submit

    plan = services.seed_demo_plan()
    membership = members(plan, 1)[0]
    submit(client.application, membership)
    claim_id = db.session.scalar(select(Claim.id))
    claims.approve_claim(claim_id, staff, "材料齐全")
    claims.file_objection(claim_id, UserFactory().id, f"此人早已确诊，知情人电话 {secret}")
    claimant = client.application.test_client(user=membership_user(membership))
    return [(f"/mutual-aid/claims/{claim_id}", {}, claimant)]


def _statement(client, patient, staff, secret):
    """The organizer's 剩余善款说明 in the campaign page's 资金公示."""
    from app.campaigns.services import end_campaign
    from app.payouts import documents

    campaign = _live_campaign(patient, staff, "孩子确诊白血病，请帮帮我们。")
    payment = start(campaign, UserFactory(nickname="阿杰"), 50_00)
    assert acknowledged(post_notice(client, notice_for(payment)))
    end_campaign(campaign, "筹款期限已到", by_staff=staff)
    documents.save_statement(campaign.id, patient, f"剩余善款用于康复治疗，有疑问请联系 {secret}。")
    return [f"/c/{campaign.id}"]


PLACES = {"statement": _statement, "story": _story, "update": _update, "attestation": _attestation,
          "blessing": _blessing, "claim": _claim, "objection": _objection}


def _visit(app, place):
    url, headers, viewer = (place, {}, None) if isinstance(place, str) else (place + (None,))[:3]
    return url, (viewer or app.test_client()).get(url, headers=headers, follow_redirects=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("place", PLACES)
def test_every_kind_is_masked_on_every_public_page_and_api(app, client, patient, staff, place,
                                                          kind):
    secret, masked = KINDS[kind]
    for where in PLACES[place](client, patient, staff, secret):
        url, response = _visit(app, where)
        assert response.status_code == 200, url
        body = str(response.get_json()) if response.is_json else response.get_data(as_text=True)
        assert secret not in body, url
        assert masked in body, url


def test_the_stored_text_stays_as_written(app, client, patient, staff):
    from sqlalchemy import select

    from app.campaigns.models import Campaign
    from app.extensions import db

    _story(client, patient, staff, "13812345678")
    assert "13812345678" in db.session.scalar(select(Campaign.story))


# --- the writer is warned --------------------------------------------------------------------

def test_the_organizer_is_warned_after_writing_the_leftover_statement_with_a_card(
        app, client, patient, staff):
    from app.campaigns.services import end_campaign

    campaign = _live_campaign(patient, staff, "孩子确诊白血病，请帮帮我们。")
    end_campaign(campaign, "筹款期限已到", by_staff=staff)
    response = app.test_client(user=patient).post(
        f"/c/{campaign.id}/statement", data={"body": f"剩余善款请转入我的卡 {CARD}，谢谢大家。"},
        follow_redirects=True)
    assert "内容中含有银行卡号，公开页面将自动隐藏；如需修改请返回编辑" in response.get_data(
        as_text=True)


def test_the_organizer_is_warned_after_posting_an_update_with_a_phone_number(app, patient, staff):
    campaign = _live_campaign(patient, staff, "孩子确诊白血病，请帮帮我们。")
    response = app.test_client(user=patient).post(
        f"/c/{campaign.id}/updates", data={"body": "化疗结束，有事打 13812345678"},
        follow_redirects=True)
    assert response.status_code == 200
    assert "内容中含有手机号码，公开页面将自动隐藏；如需修改请返回编辑" in response.get_data(
        as_text=True)


def test_an_attester_is_warned_after_vouching_with_an_id_number(app, patient, staff):
    campaign = _live_campaign(patient, staff, "孩子确诊白血病，请帮帮我们。")
    response = app.test_client(user=UserFactory()).post(
        f"/c/{campaign.id}/attest",
        data={"relation": "friend", "statement": f"我是他朋友，我的身份证 {ID_NUMBER}"},
        follow_redirects=True)
    assert response.status_code == 200
    assert "内容中含有身份证号码" in response.get_data(as_text=True)


def test_a_donor_sees_their_own_blessing_as_written_with_a_warning(app, client, patient, staff):
    from app.donations.models import Donation
    from app.extensions import db

    campaign = _live_campaign(patient, staff, "孩子确诊白血病，请帮帮我们。")
    donor = UserFactory(nickname="阿杰")
    payment = start(campaign, donor, 20_00, blessing="加油 alice@example.com")
    assert acknowledged(post_notice(client, notice_for(payment)))
    donation = db.session.get(Donation, payment.payable_id)
    html = app.test_client(user=donor).get(f"/donations/{donation.id}/thanks").get_data(
        as_text=True)
    assert "alice@example.com" in html and "内容中含有电子邮箱" in html


def test_the_campaign_form_warns_of_a_phone_in_the_story_and_suggests_the_masked_name(
        db, patient_client):
    from tests.campaigns.helpers import STORY, form_data
    from tests.campaigns.images import jpeg_bytes, upload

    data = form_data(title="救救王小明，六岁急需骨髓移植", story=STORY + "\n电话 138-1234-5678")
    data["cover"] = upload(jpeg_bytes((400, 300)), "cover.jpg")
    response = patient_client.post("/campaigns/new", data=data,
                                   content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "内容中含有手机号码，公开页面将自动隐藏；如需修改请返回编辑" in html
    assert "标题中含有患者全名“王小明”" in html and "可改为“王**”" in html


def test_the_claimant_reads_an_objections_state_in_chinese(app, client, patient, staff):
    (url, _, claimant), = _objection(client, patient, staff, "13812345678")
    html = claimant.get(url).get_data(as_text=True)
    assert "138****5678 <span class=\"meta\">待处理" in html and ">open<" not in html


def test_a_claimant_and_an_objector_are_told_their_numbers_are_hidden(app, client, patient,
                                                                     staff):
    from sqlalchemy import select

    from app.extensions import db
    from app.mutual_aid import claims, services
    from app.mutual_aid.models import Claim
    from tests.mutual_aid.conftest import members
    from tests.mutual_aid.test_claims import membership_user, submit

    plan = services.seed_demo_plan()
    claimant, response = submit(app, members(plan, 1)[0], hospital="华西医院，床位电话 13812345678")
    html = claimant.get(response.headers["Location"]).get_data(as_text=True)
    assert "内容中含有手机号码，公开页面已自动隐藏" in html
    claim_id = db.session.scalar(select(Claim.id))
    claims.approve_claim(claim_id, staff, "材料齐全")
    objector = app.test_client(user=membership_user(members(plan, 1)[0]))
    response = objector.post(f"/mutual-aid/claims/{claim_id}/objection",
                             data={"text": f"此人早已确诊，知情人身份证 {ID_NUMBER}"},
                             follow_redirects=True)
    assert "内容中含有身份证号码，公开页面已自动隐藏" in response.get_data(as_text=True)


def test_the_campaign_form_warns_of_a_phone_number_in_the_title(db, patient_client):
    from tests.campaigns.helpers import form_data
    from tests.campaigns.images import jpeg_bytes, upload

    data = form_data(title="六岁孩子急需骨髓移植 电话13812345678")
    data["cover"] = upload(jpeg_bytes((400, 300)), "cover.jpg")
    response = patient_client.post("/campaigns/new", data=data,
                                   content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "标题中含有手机号码，标题会照原样公开显示，请删去后再提交审核。" in response.get_data(
        as_text=True)
