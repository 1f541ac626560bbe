"""Claims: documents kept private, staff decisions with reasons, 公示 with objections, the
waiting-period refund, and a confirmed case paid by the next round."""
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core import idcard
from app.extensions import db
from app.ledger.services import balance
from app.ledger.verify import verify
from app.models_base import utcnow
from app.mutual_aid import claims, paybacks, rounds
from app.mutual_aid.accounts import wallet_account
from app.mutual_aid.accounts import PAYOUT_CLEARING, claim_payable
from app.core.audit import AuditEntry
from app.mutual_aid.models import (Claim, ClaimStatus, MembershipStatus,
                                   ObjectionStatus)
from app.mutual_aid.money_models import ItemKind, RoundItem, ShareCharge
from app.mutual_aid.services import MutualAidError, china_today
from tests.campaigns.images import gif_bytes, jpeg_bytes, upload
from tests.factories import UserFactory
from tests.mutual_aid.conftest import announce, members, owe
from tests.mutual_aid.test_rounds import pay_by_wechat
from tests.test_upload_disk_full import disk_full_after, files_under  # noqa: F401  (fixture)


def claim_form(**overrides):
    data = {"condition": "恶性肿瘤（癌症）", "diagnosis": "肺腺癌 IIIA 期", "hospital": "四川大学华西医院",
            "diagnosed_on": china_today().isoformat(), "description": "化疗中",
            "documents": [upload(jpeg_bytes((400, 300))), upload(jpeg_bytes((300, 400)), "b.jpg")]}
    return data | overrides


def submit(app, membership, **overrides):
    client = app.test_client(user=membership_user(membership))
    return client, client.post(f"/mutual-aid/memberships/{membership.id}/claim",
                               data=claim_form(**overrides), content_type="multipart/form-data")


def membership_user(membership):
    from app.auth.models import User

    return db.session.get(User, membership.user_id)


@pytest.fixture()
def submitted(app, plan):
    membership = members(plan, 1)[0]
    client, response = submit(app, membership)
    assert response.status_code == 302
    claim = db.session.scalars(select(Claim)).one()
    return client, claim


def test_a_claim_on_a_full_disk_gets_its_form_again_and_keeps_nothing(app, plan,
                                                                      disk_full_after):
    from app.core.files import STORAGE_FULL_MESSAGE

    membership = members(plan, 1)[0]
    before = files_under("mutual_aid")
    disk_full_after(1)   # the first of the two photos fits, the second does not
    _, response = submit(app, membership)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and STORAGE_FULL_MESSAGE in html
    assert "肺腺癌 IIIA 期" in html                     # what was typed is still there
    assert db.session.scalar(select(Claim.id)) is None
    assert files_under("mutual_aid") == before        # neither the first nor a partial second


def test_documents_are_encrypted_outside_static_and_served_only_to_owner_and_staff(
        app, submitted, staff_client, donor_client, client):
    owner, claim = submitted
    assert len(claim.documents) == 2
    stored = Path(app.config["UPLOAD_DIR"]) / "mutual_aid" / f"{claim.documents[0].storage_key}.bin"
    assert stored.exists() and not stored.read_bytes().startswith(b"\xff\xd8")
    url = f"/mutual-aid/claims/{claim.id}/documents/{claim.documents[0].id}.jpg"
    for who in (owner, staff_client):
        response = who.get(url)
        assert response.status_code == 200 and response.data.startswith(b"\xff\xd8")
        assert "no-store" in response.headers["Cache-Control"]
    assert donor_client.get(url).status_code == 404
    assert client.get(url).status_code == 302          # to sign-in
    assert "肺腺癌" in owner.get(f"/mutual-aid/claims/{claim.id}").get_data(as_text=True)
    assert donor_client.get(f"/mutual-aid/claims/{claim.id}").status_code == 404


def test_a_bad_upload_or_date_is_refused_and_nothing_is_kept(app, plan):
    membership = members(plan, 1)[0]
    _, response = submit(app, membership, documents=[upload(gif_bytes(), "x.gif")])
    assert response.status_code == 422 and "JPG" in response.get_data(as_text=True)
    before_joining = china_today() - timedelta(days=365)     # they joined 200 days ago
    _, response = submit(app, membership, diagnosed_on=before_joining.isoformat())
    assert response.status_code == 422 and "确诊日期" in response.get_data(as_text=True)
    assert db.session.scalars(select(Claim)).all() == []


def test_through_public_notice_to_payout(app, plan, submitted, staff, run_jobs, client, standin):
    _, claim = submitted
    with pytest.raises(MutualAidError, match="驳回原因"):
        claims.reject_claim(claim.id, staff, "  ")
    claims.approve_claim(claim.id, staff, "诊断证明与病理报告一致")
    claim = db.session.get(Claim, claim.id)
    assert claim.status == ClaimStatus.publicized and claim.payout_fen == 300_000_00
    assert claim.age_at_diagnosis == idcard.age_on(claim.membership.birth_date, claim.diagnosed_on)
    with pytest.raises(MutualAidError, match="已处理"):
        claims.approve_claim(claim.id, staff)

    page = client.get(f"/mutual-aid/plans/{plan.slug}/notices").get_data(as_text=True)
    assert claim.membership.name_masked in page and claim.membership.id_masked in page
    assert "张三丰" not in page and "公示中" in page

    objector = UserFactory()
    objection = claims.file_objection(claim.id, objector.id, "此人加入前已确诊")
    assert claims.confirm_noticed_claims(utcnow() + timedelta(days=6)) == 0   # open objection
    claims.decide_objection(objection.id, staff, uphold=False, reason="核实为加入后首次确诊")
    assert claims.confirm_noticed_claims() == 0                   # the window is still open
    assert claims.confirm_noticed_claims(utcnow() + timedelta(days=6)) == 1
    item = db.session.scalars(select(RoundItem)).one()
    assert (item.kind, item.requested_fen, item.claim_id) == (ItemKind.claim, 300_000_00, claim.id)

    others = members(plan, 4)
    round_ = announce(plan, run_jobs)
    assert db.session.get(Claim, claim.id).status == ClaimStatus.in_round
    assert round_.capped and round_.total_fen == 5 * 188_00   # far past ¥188 each
    for person in [claim.membership] + others:
        pay_by_wechat(client, person.user_id, plan)
    rounds.close_round(round_.id, staff=staff, reason="全部会员已缴费")
    assert db.session.get(Claim, claim.id).status == ClaimStatus.awarded   # 待打款: see
    item = db.session.get(RoundItem, item.id)                               # test_claim_payouts
    assert item.distributed_fen == item.granted_fen == balance(claim_payable(claim.id))
    assert balance(PAYOUT_CLEARING) == 0
    assert item.granted_fen + round_.fee_fen == 5 * 188_00
    report = client.get(f"/mutual-aid/rounds/{round_.id}").get_data(as_text=True)
    assert "已触及年度分摊上限" in report and "按同一比例降低" in report
    actions = [r.action.removeprefix("mutual_aid.")
               for r in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    for expected in ("claim_submitted", "claim_approved", "objection_filed",
                     "objection_dismissed", "claim_confirmed", "round_announced",
                     "round_computed", "round_closed_early"):
        assert expected in actions
    approved = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "mutual_aid.claim_approved")).one()
    assert approved.actor_staff_id == staff.id and approved.reason == "诊断证明与病理报告一致"
    assert verify() == []


def test_an_upheld_objection_revokes_the_case(plan, submitted, staff):
    _, claim = submitted
    claims.approve_claim(claim.id, staff)
    objection = claims.file_objection(claim.id, UserFactory().id, "病历系伪造")
    claims.decide_objection(objection.id, staff, uphold=True, reason="医院回函：无此病历")
    assert db.session.get(Claim, claim.id).status == ClaimStatus.revoked
    assert objection.status == ObjectionStatus.upheld
    assert claims.confirm_noticed_claims(utcnow() + timedelta(days=30)) == 0
    with pytest.raises(MutualAidError, match="公示期"):
        claims.file_objection(claim.id, UserFactory().id, "再次异议")


def test_diagnosed_in_the_waiting_period_gets_shares_back_and_leaves(app, plan, staff, run_jobs,
                                                                     client, standin):
    newcomer = members(plan, 1, aged=False)[0]
    others = members(plan, 2)
    owe(plan, 30_00, membership=others[0])
    first = announce(plan, run_jobs)
    for person in [newcomer] + others:
        pay_by_wechat(client, person.user_id, plan)
    paid = db.session.scalars(select(ShareCharge).where(
        ShareCharge.membership_id == newcomer.id)).one().amount_fen
    _, response = submit(app, newcomer)
    claim = db.session.scalars(select(Claim)).one()
    with pytest.raises(MutualAidError, match="观察期内"):
        claims.approve_claim(claim.id, staff)
    claims.refund_in_waiting_period(claim.id, staff)
    assert db.session.get(Claim, claim.id).status == ClaimStatus.refunded
    assert db.session.get(type(newcomer), newcomer.id).status == MembershipStatus.left
    refund = db.session.scalars(select(RoundItem).where(RoundItem.kind == ItemKind.refund)).one()
    assert refund.requested_fen == paid and refund.round_id is None

    # The next round pays it back to the member directly (no wallet): WeChat or 商家转账.
    rounds.close_round(first.id, staff=staff, reason="全部会员已缴费")
    second = announce(plan, run_jobs, first.announced_on + timedelta(days=14))
    assert second.members == 2 and second.fee_requested_fen == 0
    for person in others:
        pay_by_wechat(client, person.user_id, plan)
    rounds.close_round(second.id, staff=staff, reason="全部会员已缴费")
    paybacks.pay_back_all()
    run_jobs()
    assert balance(wallet_account(newcomer.user_id)) == 0
    assert paybacks.owed_fen(paybacks.subject_of(paybacks.REFUND_ITEM, refund.id)) == 0
    assert verify() == []
