"""Reading donations: the public list (keyset-paginated) and the consistency checks that
`ledger verify` runs for campaigns and donations."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, case, func, select, tuple_

from app.auth.models import User
from app.campaigns.models import Campaign
from app.core.params import DB_ID_MAX, bounded_int
from app.core.templating import mask_name
from app.donations.models import Donation
from app.extensions import db
from app.ledger.services import campaign_custody, totals_by_account
from app.models_base import as_utc
from app.payments.models import Payment, PaymentState

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MAX_CURSOR_MICROS = ((datetime.max.replace(tzinfo=timezone.utc) - EPOCH)
                      // timedelta(microseconds=1))
PAGE_SIZE = 20


NAMELESS = "爱心人士"     # a donor who never showed WeChat their name
WECHAT_DEFAULT_NICKNAME = "微信用户"


@dataclass(frozen=True)
class DonationRow:
    id: int
    name: str                 # as the viewer sees it: masked, 匿名, 爱心人士, or their own
    amount_fen: int
    blessing: str
    paid_at: datetime
    avatar_url: str = ""      # the donor's WeChat avatar; never an anonymous donor's
    mine: bool = False        # the viewer's own donation (then `name` is theirs, unmasked)
    anonymous: bool = False

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "amount_fen": self.amount_fen,
                "blessing": self.blessing, "paid_at": self.paid_at.isoformat(),
                "avatar_url": self.avatar_url, "mine": self.mine}


def public_donor_name(nickname: str | None, anonymous: bool) -> str:
    if anonymous:
        return "匿名"
    if not nickname or nickname == WECHAT_DEFAULT_NICKNAME:
        return NAMELESS
    return mask_name(nickname)


def _row(r, viewer_id: int | None) -> DonationRow:
    mine = viewer_id is not None and r.user_id == viewer_id
    if mine:   # nobody sees their own name masked
        name = r.nickname if r.nickname and r.nickname != WECHAT_DEFAULT_NICKNAME else "我"
    else:
        name = public_donor_name(r.nickname, r.anonymous)
    return DonationRow(id=r.id, name=name, amount_fen=r.amount_fen, blessing=r.blessing,
                       paid_at=as_utc(r.paid_at), mine=mine, anonymous=r.anonymous,
                       avatar_url="" if r.anonymous and not mine else (r.avatar_url or ""))


def encode_cursor(row: DonationRow) -> str:
    micros = (row.paid_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{row.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    micros, _, row_id = cursor.partition(".")
    after_micros = bounded_int(micros, 0, _MAX_CURSOR_MICROS)
    after_id = bounded_int(row_id, 1, DB_ID_MAX)
    if after_micros is None or after_id is None:
        raise ValueError("bad cursor")
    return EPOCH + timedelta(microseconds=after_micros), after_id


# A blessing hidden by the organizer or removed by staff reads as none; the donation stays.
SHOWN_BLESSING = case((and_(Donation.blessing_hidden_at.is_(None),
                            Donation.blessing_removed_at.is_(None)), Donation.blessing),
                      else_="").label("blessing")


def paid_donations(campaign_id: int, cursor: str | None = None, limit: int = PAGE_SIZE,
                   viewer_id: int | None = None) -> tuple[list[DonationRow], str | None]:
    """Newest first; one index range scan per page (campaign_id, paid_at, id). The viewer's
    own donations carry their own name."""
    query = (select(Donation.id, Donation.anonymous, Donation.user_id, User.nickname,
                    User.avatar_url, Donation.amount_fen, SHOWN_BLESSING, Donation.paid_at)
             .outerjoin(User, User.id == Donation.user_id)
             .where(Donation.campaign_id == campaign_id, Donation.paid_at.is_not(None))
             .order_by(Donation.paid_at.desc(), Donation.id.desc()).limit(limit + 1))
    if cursor is None and limit == PAGE_SIZE:
        from app.campaigns import page_data

        fetched = page_data.prefetched(campaign_id, "donations")
        if fetched is not page_data.MISSING:
            return _first_page(fetched, viewer_id, limit)
    after = decode_cursor(cursor)
    if after is not None:
        paid_at, row_id = after
        # A row-value comparison is one index range condition: the page costs the same deep
        # in the list as at its top (an OR of the two cases filtered its way down).
        query = query.where(tuple_(Donation.paid_at, Donation.id) < tuple_(paid_at, row_id))
    rows = [_row(r, viewer_id) for r in db.session.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]) if more else None


def _first_page(rows: list, viewer_id: int | None, limit: int):
    shown = [_row(r, viewer_id) for r in rows]
    return shown[:limit], encode_cursor(shown[limit - 1]) if len(shown) > limit else None


def page_part():
    """The donor list's first page (and the newest three at the top of the page), read in the
    campaign page's one statement; who "mine" is stays per viewer (_row)."""
    from types import SimpleNamespace

    from app.campaigns import page_data
    from app.campaigns.page_data import CAMPAIGN_ID, rows_of

    first_page = rows_of(
        select(Donation.id, Donation.anonymous, Donation.user_id, User.nickname,
               User.avatar_url, Donation.amount_fen, SHOWN_BLESSING, Donation.paid_at)
        .outerjoin(User, User.id == Donation.user_id)
        .where(Donation.campaign_id == CAMPAIGN_ID, Donation.paid_at.is_not(None))
        .limit(PAGE_SIZE + 1), Donation.paid_at.desc(), Donation.id.desc())

    def decode(values: dict) -> list:
        return [SimpleNamespace(**row) for row in page_data.decode_rows(values["rows"],
                                                                         first_page)]

    return page_data.Part("donations", lambda: {"rows": first_page}, decode)


# --- ledger verify --------------------------------------------------------------------------

def campaign_problems() -> list[str]:
    """Each campaign's cached raised_fen / donation_count equals its custody account's
    donations in the ledger, and equals its paid donations."""
    ledger = totals_by_account("campaign:", ("payment",))
    paid = {cid: (int(total), int(count)) for cid, total, count in db.session.execute(
        select(Donation.campaign_id, func.sum(Donation.amount_fen), func.count())
        .where(Donation.paid_at.is_not(None)).group_by(Donation.campaign_id))}
    problems = []
    seen = set()
    for cid, raised, count in db.session.execute(
            select(Campaign.id, Campaign.raised_fen, Campaign.donation_count)):
        code = campaign_custody(cid)
        seen.add(code)
        in_ledger = ledger.get(code, (0, 0))
        if (raised, count) != in_ledger:
            problems.append(f"campaign {cid}: cached raised {raised} fen in {count} donations, "
                            f"ledger says {in_ledger[0]} fen in {in_ledger[1]}")
        if paid.get(cid, (0, 0)) != in_ledger:
            problems.append(f"campaign {cid}: paid donations {paid.get(cid, (0, 0))} "
                            f"≠ ledger {in_ledger}")
    problems += [f"ledger account {code} belongs to no campaign"
                 for code in ledger if code not in seen]
    return problems


def donation_payment_problems() -> list[str]:
    """A donation is paid exactly when its payment is."""
    paid_payment = and_(Payment.payable_type == "donation", Payment.payable_id == Donation.id,
                        Payment.state.in_((PaymentState.paid, PaymentState.refunded)))
    unpaid_marked = db.session.scalars(
        select(Donation.id).outerjoin(Payment, paid_payment)
        .where(Donation.paid_at.is_not(None), Payment.id.is_(None))).all()
    paid_unmarked = db.session.scalars(
        select(Donation.id).join(Payment, paid_payment).where(Donation.paid_at.is_(None))).all()
    wrong_amount = db.session.scalars(
        select(Donation.id).join(Payment, paid_payment)
        .where(Payment.amount_fen != Donation.amount_fen)).all()
    return ([f"donation {i} is marked paid but its payment is not" for i in unpaid_marked]
            + [f"donation {i}'s payment is paid but the donation is not" for i in paid_unmarked]
            + [f"donation {i}'s amount differs from its payment" for i in wrong_amount])
