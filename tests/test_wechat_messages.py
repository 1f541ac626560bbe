"""WeChat template messages owed by a change: written with it, sent once through the stand-in,
retried after a transient failure, given up after a permanent one, taken back from a sender
that died, and never sent to real WeChat without a configured template id."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from app.extensions import db
from app.models_base import utcnow
from app.wechat import messages
from app.wechat.models import MessageStatus, WechatMessage
from app.wechat_standin.messages import sent_messages
from tests.factories import UserFactory

S = MessageStatus
VALUES = {"thing1": "诺言还款", "amount2": "¥75", "time3": "明天 20:00"}


@pytest.fixture()
def owed(db, standin):
    user = UserFactory()
    messages.queue_message("test:1:waiting", user.openid, "transfer_waiting", VALUES, "/me")
    db.session.commit()
    message = db.session.scalar(select(WechatMessage))
    return message.id, user.openid


def _sent_to(standin, openid: str) -> list[dict]:
    return [m for m in sent_messages(standin.wsgi_app) if m["touser"] == openid]


def _row(message_id: int) -> WechatMessage:
    db.session.expire_all()
    return db.session.get(WechatMessage, message_id)


def test_owed_once_sent_once(owed, standin):
    message_id, openid = owed
    messages.queue_message("test:1:waiting", openid, "transfer_waiting", VALUES, "/me")
    db.session.commit()   # the same change told twice: still one message owed
    assert db.session.query(WechatMessage).count() == 1
    assert messages.deliver(message_id) == "sent"
    assert messages.deliver(message_id) == "sent"          # a twin job: nothing more
    assert messages.deliver_due(utcnow() + timedelta(hours=1)) == {}
    sent = _sent_to(standin, openid)
    assert len(sent) == 1
    assert sent[0]["template_id"] == "xiangzhu_transfer_waiting"
    assert sent[0]["data"] == {k: {"value": v} for k, v in VALUES.items()}
    assert sent[0]["url"].endswith("/me")
    assert _row(message_id).msgid == str(sent[0]["msgid"])


def test_a_transient_failure_is_sent_later_a_permanent_one_never(owed, standin, monkeypatch):
    message_id, openid = owed
    real = messages.send_template
    answers = [WeChatClientException(45009, "reach max api daily quota limit"),
               WeChatClientException(43004, "require subscribe")]

    def flaky(*args, **kwargs):
        if answers:
            raise answers.pop(0)
        return real(*args, **kwargs)

    monkeypatch.setattr(messages, "send_template", flaky)
    assert messages.deliver(message_id) == "pending"
    assert "45009" in _row(message_id).last_error
    assert messages.deliver_due(utcnow()) == {}     # not before RETRY_AFTER
    assert messages.deliver_due(utcnow() + timedelta(minutes=2)) == {"failed": 1}
    assert _row(message_id).status == S.failed and _row(message_id).attempts == 2
    assert messages.deliver_due(utcnow() + timedelta(hours=1)) == {}
    assert _sent_to(standin, openid) == []


def test_a_sender_that_died_while_sending_is_taken_back(owed, standin):
    message_id, openid = owed
    db.session.execute(WechatMessage.__table__.update().values(status=S.sending))
    db.session.commit()
    assert messages.deliver(message_id) == "sending"  # someone else is at it
    assert messages.deliver_due(utcnow() + timedelta(minutes=5)) == {}
    assert messages.deliver_due(utcnow() + messages.STALE_SENDING
                                + timedelta(minutes=2)) == {"sent": 1}
    assert len(_sent_to(standin, openid)) == 1


def test_real_wechat_without_a_template_id_is_not_asked(owed, standin, app):
    message_id, openid = owed
    app.config["WECHAT_STANDIN"] = False
    try:
        assert messages.deliver(message_id) == "skipped"
        app.config["WECHAT_TEMPLATE_IDS"] = {"transfer_waiting": "TPL-real-id"}
        assert messages.template_id("transfer_waiting") == "TPL-real-id"
    finally:
        app.config["WECHAT_STANDIN"] = True
        app.config["WECHAT_TEMPLATE_IDS"] = {}
    assert _row(message_id).status == S.skipped and _sent_to(standin, openid) == []


def test_nobody_to_tell_and_unknown_fields(db):
    messages.queue_message("test:2", None, "transfer_waiting", VALUES)
    assert db.session.query(WechatMessage).count() == 0
    with pytest.raises(ValueError):
        messages.queue_message("test:3", "oUser", "transfer_waiting", {"keyword1": "x"})


def test_long_values_are_clipped_to_wechats_limits(db):
    messages.queue_message("test:4", "oUser", "transfer_returned",
                           {"thing1": "诺言还款", "amount2": "¥1", "thing3": "原因" * 20})
    db.session.commit()
    value = db.session.scalar(select(WechatMessage.fields))["thing3"]
    assert len(value) == 20 and value.endswith("…")
