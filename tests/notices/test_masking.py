"""Personal data typed into free text never reaches WeChat or another person's 通知 verbatim:
an update's phone number, ID number, bank card or e-mail is masked in the template message the
donors get (before it is cut to the field's 20 characters) and in their in-app notice."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.campaigns import trust
from app.core import idcard
from app.extensions import db
from app.wechat.models import WechatMessage
from tests.notices.conftest import drain_jobs, notices_of
from tests.payouts.helpers import donate

ID_NUMBER = idcard.make_number("110101", date.today() - timedelta(days=365 * 40), 321)
KINDS = {
    "mobile": ("13812345678", "138****5678"),
    "id_number": (ID_NUMBER, f"{ID_NUMBER[:3]}{'*' * 11}{ID_NUMBER[-4:]}"),
    "bank_card": ("6222021234567890128", "**** **** **** 0128"),
    "email": ("alice@example.com", "a***@example.com"),
}


def _sent_updates(standin) -> list[dict]:
    from app.wechat_standin.messages import sent_messages

    drain_jobs()
    return [m for m in sent_messages(standin.wsgi_app)
            if m["template_id"] == "xiangzhu_campaign_update"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_update_with_personal_data_is_masked_in_the_donors_messages(
        app, client, campaign, patient, donors, standin, kind):
    secret, masked = KINDS[kind]
    donate(client, campaign, donors[0], 100_00)
    trust.post_update(campaign.id, patient, f"有事联系{secret}，谢谢大家")

    sent = _sent_updates(standin)
    assert len(sent) == 1
    value = sent[0]["data"]["thing2"]["value"]
    assert secret not in value
    assert value.startswith("有事联系" + masked[:15])
    assert len(value) <= 20
    stored = db.session.query(WechatMessage).filter_by(template="campaign_update").one()
    assert secret not in str(stored.fields)

    [notice] = notices_of(donors[0].id, "campaign_update")
    assert secret not in notice.body and masked in notice.body
    response = app.test_client(user=donors[0]).get("/me/notices")
    assert response.status_code == 200
    assert secret not in response.get_data(as_text=True)
    assert masked in response.get_data(as_text=True)


def test_a_number_past_the_fields_twenty_characters_leaves_no_readable_digits(
        client, campaign, patient, donors, standin):
    """Cut first, the 20 characters would hold the first eight digits of the phone number —
    too few to be recognised, enough to be read."""
    donate(client, campaign, donors[0], 100_00)
    trust.post_update(campaign.id, patient, "第二次化疗结束了，有事联系13812345678")
    value = _sent_updates(standin)[0]["data"]["thing2"]["value"]
    assert "1381234" not in value
    assert value == "第二次化疗结束了，有事联系138***…"


def test_amounts_and_times_are_sent_as_they_are(client, campaign, patient, donors, standin):
    donate(client, campaign, donors[0], 100_00)
    trust.post_update(campaign.id, patient, "已花费 123456 元，20241203 手术")
    sent = _sent_updates(standin)[0]["data"]
    assert sent["thing2"]["value"] == "已花费 123456 元，20241203 手术"[:19] + "…"
    assert sent["time3"]["value"]
