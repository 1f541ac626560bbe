"""Read-only queries behind the plan's pages (public, member and staff)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.core.audit import AuditEntry
from app.extensions import db
from app.mutual_aid.audit import TARGET_PREFIX
from app.mutual_aid import apportionment
from app.mutual_aid.models import (Claim, ClaimStatus, MemberNotice, Membership,
                                   Objection, ObjectionStatus, Plan)
from app.mutual_aid.money_models import (COMPUTED, ChargeStatus, Distribution, Round,
                                         RoundItem, RoundStatus, ShareCharge, WalletRefund,
                                         WalletRefundStatus)

PUBLIC_CLAIM_STATUSES = (ClaimStatus.publicized, ClaimStatus.confirmed, ClaimStatus.in_round,
                         ClaimStatus.awarded, ClaimStatus.paying, ClaimStatus.paid,
                         ClaimStatus.revoked)


def member_counts(plan_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Membership.status, func.count())
                              .where(Membership.plan_id == plan_id)
                              .group_by(Membership.status)).all()
    return {status.value: int(n) for status, n in rows}


def rounds_of(plan_id: int, limit: int = 24) -> list[Round]:
    return list(db.session.scalars(select(Round).where(Round.plan_id == plan_id,
                                                       Round.status.in_(COMPUTED))
                                   .order_by(Round.number.desc()).limit(limit)))


def public_claims(plan_id: int, limit: int = 50) -> list[Claim]:
    return list(db.session.scalars(select(Claim).where(
        Claim.plan_id == plan_id, Claim.status.in_(PUBLIC_CLAIM_STATUSES))
        .order_by(Claim.decided_at.desc()).limit(limit)))


def notices_of(user_id: int, limit: int = 20) -> list[MemberNotice]:
    return list(db.session.scalars(select(MemberNotice).where(MemberNotice.user_id == user_id)
                                   .order_by(MemberNotice.id.desc()).limit(limit)))


def claims_of(user_id: int) -> list[Claim]:
    return list(db.session.scalars(select(Claim).where(Claim.user_id == user_id)
                                   .order_by(Claim.id.desc())))


@dataclass(frozen=True)
class ChargeView:
    charge: ShareCharge
    round: Round
    membership: Membership

    @property
    def recomputed(self) -> int:
        r = self.round
        return apportionment.share_at(self.charge.position, r.members, r.base_share_fen,
                                      r.remainder, r.remainder_offset)

    @property
    def gets_extra_fen(self) -> bool:
        return self.recomputed > self.round.base_share_fen


def charges_of(user_id: int, round_id: int | None = None, limit: int = 50) -> list[ChargeView]:
    query = (select(ShareCharge, Round, Membership)
             .join(Round, Round.id == ShareCharge.round_id)
             .join(Membership, Membership.id == ShareCharge.membership_id)
             .where(ShareCharge.user_id == user_id).order_by(ShareCharge.id.desc()).limit(limit))
    if round_id is not None:
        query = query.where(ShareCharge.round_id == round_id)
    return [ChargeView(*row) for row in db.session.execute(query)]


def year_paid_by_member(user_id: int, year: int) -> dict[int, int]:
    """{membership id: fen charged this year} — what counts against the yearly cap."""
    rows = db.session.execute(
        select(ShareCharge.membership_id, func.sum(ShareCharge.amount_fen))
        .join(Round, Round.id == ShareCharge.round_id)
        .where(ShareCharge.user_id == user_id, Round.year == year)
        .group_by(ShareCharge.membership_id))
    return {mid: int(total) for mid, total in rows}


def round_items(round_id: int) -> list[RoundItem]:
    return list(db.session.scalars(select(RoundItem).where(RoundItem.round_id == round_id)
                                   .order_by(RoundItem.id)))


def round_collection(round_id: int) -> dict[str, int]:
    rows = db.session.execute(select(ShareCharge.status, func.count(),
                                     func.sum(ShareCharge.amount_fen))
                              .where(ShareCharge.round_id == round_id)
                              .group_by(ShareCharge.status)).all()
    out = {f"{s.value}_{unit}": 0 for s in ChargeStatus for unit in ("count", "fen")}
    for status, n, total in rows:
        out[f"{status.value}_count"] = int(n)
        out[f"{status.value}_fen"] = int(total or 0)
    return out


def distributions_of(round_id: int) -> list[Distribution]:
    return list(db.session.scalars(select(Distribution).where(Distribution.round_id == round_id)
                                   .order_by(Distribution.seq)))


@dataclass(frozen=True)
class Shortfall:
    """A closed round paid its items less than it granted them: how much is paid and still
    owed, and why — `grace`: unpaid members may still pay until close_on; `late`: money comes
    still (suspended members paying within rejoin_days, or payments not yet paid out); `final`:
    nobody can pay any more, the rest is never paid (unpaid shares are not made up by others)."""
    paid_fen: int
    owed_fen: int
    why: str
    close_on: date
    rejoin_days: int


def shortfall(round_: Round, items: list[RoundItem], today: date) -> Shortfall | None:
    if round_.status != RoundStatus.closed:
        return None
    owed = sum((item.granted_fen or 0) - item.distributed_fen for item in items)
    if owed <= 0:
        return None
    open_ = dict(db.session.execute(
        select(ShareCharge.status, func.count()).where(
            ShareCharge.round_id == round_.id,
            ShareCharge.status.in_((ChargeStatus.due, ChargeStatus.overdue)))
        .group_by(ShareCharge.status)).all())
    collected = db.session.scalar(select(func.coalesce(func.sum(ShareCharge.amount_fen), 0))
                                  .where(ShareCharge.round_id == round_.id,
                                         ShareCharge.status == ChargeStatus.paid))
    paid_out = db.session.scalar(select(func.coalesce(
        func.sum(Distribution.items_fen + Distribution.fee_fen), 0))
        .where(Distribution.round_id == round_.id))
    if open_.get(ChargeStatus.due) and today < round_.close_on:
        why = "grace"
    elif open_ or collected > paid_out:
        why = "late"
    else:
        why = "final"
    return Shortfall(paid_fen=sum(item.distributed_fen for item in items), owed_fen=owed,
                     why=why, close_on=round_.close_on, rejoin_days=round_.plan.rejoin_days)


def claim_item(claim_id: int) -> RoundItem | None:
    return db.session.scalar(select(RoundItem).where(RoundItem.claim_id == claim_id))


def share_rows(round_id: int, batch: int = 10_000):
    """(position, membership number, share, status) for the CSV, by keyset, never all at once."""
    after = -1
    while True:
        rows = db.session.execute(
            select(ShareCharge.position, ShareCharge.membership_id, ShareCharge.amount_fen,
                   ShareCharge.status).where(ShareCharge.round_id == round_id,
                                             ShareCharge.membership_id > after)
            .order_by(ShareCharge.membership_id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].membership_id


# --- staff --------------------------------------------------------------------------------------

def claims_waiting() -> list[Claim]:
    return list(db.session.scalars(select(Claim).where(Claim.status == ClaimStatus.submitted)
                                   .order_by(Claim.id)))


def open_objections() -> list[Objection]:
    return list(db.session.scalars(select(Objection).where(
        Objection.status == ObjectionStatus.open).order_by(Objection.id)))


def objections_of(claim_id: int) -> list[Objection]:
    return list(db.session.scalars(select(Objection).where(Objection.claim_id == claim_id)
                                   .order_by(Objection.id)))


def latest_refund(user_id: int) -> WalletRefund | None:
    return db.session.scalar(select(WalletRefund).where(WalletRefund.user_id == user_id)
                             .order_by(WalletRefund.id.desc()).limit(1))


def requested_refunds() -> list[WalletRefund]:
    return list(db.session.scalars(select(WalletRefund).where(
        WalletRefund.status == WalletRefundStatus.requested).order_by(WalletRefund.id)))


def audit_of(subject_type: str | None = None, subject_id: int | None = None,
             limit: int = 100) -> list[AuditEntry]:
    """The plan's rows of the platform's audit log, newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject_type:
        query = query.where(AuditEntry.target_type == f"{TARGET_PREFIX}{subject_type}"[:32])
    else:
        query = query.where(AuditEntry.target_type.startswith(TARGET_PREFIX, autoescape=True))
    if subject_id is not None:
        query = query.where(AuditEntry.target_id == subject_id)
    return list(db.session.scalars(query))


def plans() -> list[Plan]:
    return list(db.session.scalars(select(Plan).order_by(Plan.id)))
