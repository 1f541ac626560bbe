"""Members told once: the claimant hears the decision on their claim; every other member of
the plan a new case in 公示 — by 通知 and by WeChat message, once however often it is decided."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.mutual_aid import claims
from app.mutual_aid.services import MutualAidError
from app.notices.models import Notice
from app.wechat_standin.messages import sent_messages
from tests.mutual_aid.conftest import members
from tests.notices.conftest import drain_jobs
from tests.mutual_aid.test_claims import submit, submitted  # noqa: F401  (fixture)


def _received(standin, template: str) -> Counter:
    drain_jobs()
    return Counter(m["touser"] for m in sent_messages(standin.wsgi_app)
                   if m["template_id"] == f"xiangzhu_{template}")


def _titles(user_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notice.title).where(Notice.user_id == user_id)
                                   .order_by(Notice.id)))


def test_an_approved_claim_is_told_to_the_claimant_and_every_other_member(
        app, plan, submitted, staff, standin):  # noqa: F811
    sent_messages(standin.wsgi_app).clear()
    others = members(plan, 3)
    _, claim = submitted
    claims.approve_claim(claim.id, staff, "诊断证明与病理报告一致")
    with pytest.raises(MutualAidError):
        claims.approve_claim(claim.id, staff)          # decided once
    claimant = db.session.get(User, claim.user_id)
    assert _titles(claimant.id) == ["互助申请已通过审核"]
    openids = [db.session.get(User, m.user_id).openid for m in others]
    assert _received(standin, "claim_result") == {claimant.openid: 1}
    assert _received(standin, "case_notice") == {openid: 1 for openid in openids}
    for membership in others:
        assert _titles(membership.user_id) == ["新的互助病例公示"]
    told = [m for m in sent_messages(standin.wsgi_app)
            if m["template_id"] == "xiangzhu_case_notice"][0]
    assert told["url"].endswith(f"/auth/login?next=/mutual-aid/plans/{plan.slug}/notices")


def test_a_rejected_claim_tells_its_reason(plan, submitted, staff, standin):  # noqa: F811
    sent_messages(standin.wsgi_app).clear()
    _, claim = submitted
    claims.reject_claim(claim.id, staff, "病理报告与诊断证明不一致")
    drain_jobs()
    claimant = db.session.get(User, claim.user_id)
    assert _titles(claimant.id) == ["互助申请未通过"]
    [told] = [m for m in sent_messages(standin.wsgi_app) if m["touser"] == claimant.openid]
    assert told["data"]["phrase2"]["value"] == "未通过"
    assert told["data"]["thing3"]["value"].startswith("病理报告")
