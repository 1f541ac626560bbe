"""`ledger verify` checks of pledges and the pay-it-forward fund, registered by the manifest:

- no pledge custody and not the fund is ever negative;
- a pledge's cached repaid total equals its paid repayments and the payments into its custody;
  its custody holds exactly what is not yet distributed or still being transferred back (less
  what is on its way in a WeChat transfer);
- a distributed repayment's shares sum exactly to it; a repayment is paid iff its payment is;
- the fund holds exactly what came in less what it granted.
"""
from __future__ import annotations

from sqlalchemy import and_, func, select

from app.extensions import db
from app.ledger.models import Account, Entry
from app.ledger.services import moved_by_source_ref, totals_by_account
from app.payments.models import Payment, PaymentState
from app.payouts.transfer_models import OPEN_TRANSFERS, PersonTransfer
from app.pledges.accounts import FORWARD_FUND, SOURCE_FORWARD, pledge_custody
from app.pledges.models import FundEntry, Pledge, Repayment, Share, ShareRoute, ShareStatus
from app.pledges.services import PAYABLE_TYPE


def negative_problems() -> list[str]:
    rows = db.session.execute(
        select(Account.code, func.sum(Entry.amount_fen)).join(Entry.account)
        .where((Account.code.startswith("pledge:")) | (Account.code == FORWARD_FUND))
        .group_by(Account.code).having(func.sum(Entry.amount_fen) < 0)).all()
    return [f"{code} is overdrawn ({total} fen)" for code, total in rows]


def pledge_problems() -> list[str]:
    payments_in = totals_by_account("pledge:", ("payment",))
    balances = {code: int(total) for code, total in db.session.execute(
        select(Account.code, func.sum(Entry.amount_fen)).join(Entry.account)
        .where(Account.code.startswith("pledge:")).group_by(Account.code))}
    paid = dict(db.session.execute(
        select(Repayment.pledge_id, func.sum(Repayment.amount_fen))
        .where(Repayment.paid_at.is_not(None)).group_by(Repayment.pledge_id)).all())
    undistributed = dict(db.session.execute(
        select(Repayment.pledge_id, func.sum(Repayment.amount_fen))
        .where(Repayment.paid_at.is_not(None), Repayment.distributed_at.is_(None))
        .group_by(Repayment.pledge_id)).all())
    in_transfer = dict(db.session.execute(
        select(Share.pledge_id, func.sum(Share.amount_fen))
        .where(Share.route == ShareRoute.back, Share.status == ShareStatus.pending)
        .group_by(Share.pledge_id)).all())
    # Pending shares already in a WeChat transfer have left the custody for its clearing.
    by_wechat = dict(db.session.execute(
        select(PersonTransfer.from_account, func.sum(PersonTransfer.amount_fen))
        .where(PersonTransfer.from_account.startswith("pledge:"),
               PersonTransfer.status.in_(OPEN_TRANSFERS))
        .group_by(PersonTransfer.from_account)).all())
    problems = []
    for pledge_id, repaid in db.session.execute(select(Pledge.id, Pledge.repaid_fen)):
        code = pledge_custody(pledge_id)
        received = int(paid.get(pledge_id) or 0)
        if repaid != received or payments_in.get(code, (0, 0))[0] != received:
            problems.append(f"pledge {pledge_id}: repaid {repaid} fen, paid repayments "
                            f"{received}, ledger payments {payments_in.get(code, (0, 0))[0]}")
        held = int(undistributed.get(pledge_id) or 0) + int(in_transfer.get(pledge_id) or 0) \
            - int(by_wechat.get(code) or 0)
        if balances.get(code, 0) != held:
            problems.append(f"pledge {pledge_id}: custody holds {balances.get(code, 0)} fen, "
                            f"undistributed and in transfer {held}")
    shares = dict(db.session.execute(select(Share.repayment_id, func.sum(Share.amount_fen))
                                     .group_by(Share.repayment_id)).all())
    for rid, amount in db.session.execute(select(Repayment.id, Repayment.amount_fen).where(
            Repayment.distributed_at.is_not(None))):
        if int(shares.get(rid) or 0) != amount:
            problems.append(f"repayment {rid} of {amount} fen: shares sum to {shares.get(rid)}")
    return problems


def repayment_payment_problems() -> list[str]:
    """A repayment is paid exactly when its payment is, and of the same amount."""
    paid_payment = and_(Payment.payable_type == PAYABLE_TYPE,
                        Payment.payable_id == Repayment.id,
                        Payment.state.in_((PaymentState.paid, PaymentState.refunded)))
    unbacked = db.session.scalars(select(Repayment.id).outerjoin(Payment, paid_payment).where(
        Repayment.paid_at.is_not(None), Payment.id.is_(None))).all()
    unmarked = db.session.scalars(select(Repayment.id).join(Payment, paid_payment).where(
        Repayment.paid_at.is_(None))).all()
    wrong = db.session.scalars(select(Repayment.id).join(Payment, paid_payment).where(
        Payment.amount_fen != Repayment.amount_fen)).all()
    return ([f"repayment {i} is marked paid but its payment is not" for i in unbacked]
            + [f"repayment {i}'s payment is paid but the repayment is not" for i in unmarked]
            + [f"repayment {i}'s amount differs from its payment" for i in wrong])


def fund_problems() -> list[str]:
    entries = db.session.execute(select(FundEntry.kind, FundEntry.amount_fen)).all()
    expected = sum(a if k.is_in else -a for k, a in entries)
    actual = int(db.session.scalar(
        select(func.coalesce(func.sum(Entry.amount_fen), 0)).join(Entry.account)
        .where(Account.code == FORWARD_FUND)))
    moved = moved_by_source_ref(SOURCE_FORWARD)
    problems = [] if expected == actual else [
        f"the pay-it-forward fund holds {actual} fen; its entries say {expected}"]
    for entry_id, amount in db.session.execute(select(FundEntry.id, FundEntry.amount_fen)):
        if moved.pop(str(entry_id), None) != amount:
            problems.append(f"fund entry {entry_id} of {amount} fen has no matching transaction")
    problems += [f"ledger fund movement {ref} has no fund entry" for ref in moved]
    return problems


def pledges_problems() -> list[str]:
    return (negative_problems() + pledge_problems() + repayment_payment_problems()
            + fund_problems())
