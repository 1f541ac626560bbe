"""The 失信名单's business actions and look-ups. Adding and removing are staff decisions: each is
one transaction with its audit row (who, when, why). The launch check runs in the organizer's
create or submit transaction and refuses with a Chinese message."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, or_, select

from app.auth.models import StaffAccount, StaffRole
from app.blacklist.models import BlacklistEntry, ListedRole
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign
from app.core import crypto, idcard
from app.core.audit import record_audit
from app.core.reasons import ReasonRefused, clean_reason
from app.extensions import db
from app.models_base import utcnow
from app.pledges.models import Pledge, PledgeStatus
from app.pledges.services import standing
from app.review.models import CampaignIdentity
from app.review.services import ID_INDEX_PURPOSE, identity_of

LISTED_MESSAGE = ("您或本次求助的患者已被列入平台失信名单，不能在相助发起筹款。"
                  "如有异议，请联系平台客服申诉。")
REASON_MAX = 500
LISTING_ROLES = (StaffRole.reviewer, StaffRole.admin)


class BlacklistError(Exception):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def id_index_of(number: str) -> str:
    return crypto.blind_index(number, ID_INDEX_PURPOSE)


# --- staff decisions ------------------------------------------------------------------------------

def add_entry(staff: StaffAccount, *, role: ListedRole | str, reason: str,
              id_number: str = "", campaign_id: int | None = None) -> BlacklistEntry:
    """List the organizer or the patient of a campaign (their ID number taken from its real-name
    record), or whoever holds `id_number`."""
    _check_staff(staff)
    try:
        role = ListedRole(role)
    except ValueError:
        raise BlacklistError("请选择列入的是发起人还是患者") from None
    reason = _reason(reason)
    number, user_id = None, None
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise BlacklistError(f"没有编号为 {campaign_id} 的筹款", "not_found")
        identity = identity_of(campaign.id)
        if role == ListedRole.organizer:
            user_id = campaign.organizer_id
            number = identity.organizer_id_number if identity else None
        elif identity is not None:
            number = identity.patient_id_number
    if (id_number or "").strip():
        try:
            number = idcard.parse(id_number).number
        except idcard.IdCardError as error:
            raise BlacklistError(str(error)) from None
    if number is None and user_id is None:
        raise BlacklistError("该筹款还没有患者的实名信息，请填写患者的身份证号")
    index = id_index_of(number) if number else None
    if _active_duplicate(index, user_id):
        raise BlacklistError("此人已在失信名单中", "duplicate")
    entry = BlacklistEntry(role=role, id_index=index, id_masked=idcard.mask(number) if number else "",
                           user_id=user_id, campaign_id=campaign_id, reason=reason,
                           added_by_id=staff.id, removal_reason="")
    db.session.add(entry)
    db.session.flush()
    record_audit(staff, "blacklist.add", "blacklist", entry.id,
                 after={"role": role.value, "id_masked": entry.id_masked, "user_id": user_id,
                        "campaign_id": campaign_id},
                 reason=reason, campaign_id=campaign_id)
    db.session.commit()
    return entry


def remove_entry(entry_id: int, staff: StaffAccount, reason: str) -> BlacklistEntry:
    _check_staff(staff)
    reason = _reason(reason)
    entry = db.session.get(BlacklistEntry, entry_id, with_for_update=True)
    if entry is None:
        raise BlacklistError("名单中没有这一条", "not_found")
    if not entry.is_active:
        raise BlacklistError("这一条已经移出失信名单", "already_removed")
    entry.removed_at = utcnow()
    entry.removed_by_id = staff.id
    entry.removal_reason = reason
    record_audit(staff, "blacklist.remove", "blacklist", entry.id, before={"removed": False},
                 after={"removed": True}, reason=reason, campaign_id=entry.campaign_id)
    db.session.commit()
    return entry


def entries(active: bool) -> list[BlacklistEntry]:
    removed = BlacklistEntry.removed_at
    query = select(BlacklistEntry).where(removed.is_(None) if active else removed.is_not(None))
    return list(db.session.scalars(query.order_by(BlacklistEntry.id.desc())))


# --- the launch check -----------------------------------------------------------------------------

def refuse_listed(user, campaign: Campaign | None = None) -> None:
    """Campaigns' launch check: the organizer's account, an ID number they gave as organizer
    before, or this campaign's patient or organizer ID number on the list → refused."""
    if not db.session.scalar(select(exists().where(BlacklistEntry.removed_at.is_(None)))):
        return
    indexes = _organizer_indexes(user.id)
    if campaign is not None:
        indexes |= set(_identity_indexes(identity_of(campaign.id)).values())
    if listings_for(user.id, indexes):
        raise CampaignError(LISTED_MESSAGE, "blacklisted")


def listings_for(user_id: int | None, indexes: set[str]) -> list[BlacklistEntry]:
    matches = [BlacklistEntry.id_index.in_(sorted(indexes))] if indexes else []
    if user_id is not None:
        matches.append(BlacklistEntry.user_id == user_id)
    if not matches:
        return []
    return list(db.session.scalars(select(BlacklistEntry).where(
        BlacklistEntry.removed_at.is_(None), or_(*matches)).order_by(BlacklistEntry.id)))


def _identity_indexes(identity: CampaignIdentity | None) -> dict[str, str]:
    if identity is None:
        return {}
    return {"patient": identity.patient_id_index,
            "organizer": id_index_of(identity.organizer_id_number)}


def _organizer_indexes(user_id: int) -> set[str]:
    identities = db.session.scalars(
        select(CampaignIdentity).join(Campaign, Campaign.id == CampaignIdentity.campaign_id)
        .where(Campaign.organizer_id == user_id))
    return {id_index_of(identity.organizer_id_number) for identity in identities}


# --- what the review console shows --------------------------------------------------------------

@dataclass(frozen=True)
class PledgeLine:
    pledge: Pledge
    standing: str          # on_track / late / kept / broken (pledges.services.standing)
    matched_by: str        # 同一微信账号 / 同一身份证号


@dataclass(frozen=True)
class LaunchHistory:
    listings: list[BlacklistEntry]
    pledges: list[PledgeLine]

    @property
    def broken(self) -> list[PledgeLine]:
        return [line for line in self.pledges if line.standing == "broken"]


STANDING_LABELS = {"on_track": "按期履行中", "late": "已逾期", "kept": "已兑现", "broken": "未兑现（失信）"}


def launch_history(campaign: Campaign) -> LaunchHistory:
    """This person's past, for the reviewer of their new campaign: active listings that match
    the organizer's account or either ID number, and the 诺言 of their other campaigns — made
    from the same WeChat account, or (broken ones) by whoever gave the same ID number."""
    indexes = _identity_indexes(identity_of(campaign.id))
    wanted = set(indexes.values())
    listings = listings_for(campaign.organizer_id, wanted)
    lines = {pledge.id: PledgeLine(pledge, standing(pledge), "同一微信账号")
             for pledge in db.session.scalars(
                 select(Pledge).where(Pledge.user_id == campaign.organizer_id,
                                      Pledge.campaign_id != campaign.id))}
    if wanted:
        others = db.session.execute(
            select(Pledge, CampaignIdentity)
            .join(CampaignIdentity, CampaignIdentity.campaign_id == Pledge.campaign_id)
            .where(Pledge.campaign_id != campaign.id, Pledge.status == PledgeStatus.broken,
                   Pledge.user_id != campaign.organizer_id)).all()
        for pledge, identity in others:
            if wanted & set(_identity_indexes(identity).values()):
                lines[pledge.id] = PledgeLine(pledge, "broken", "同一身份证号")
    return LaunchHistory(listings, sorted(lines.values(), key=lambda line: -line.pledge.id))


# --- helpers --------------------------------------------------------------------------------------

def _check_staff(staff) -> None:
    if not isinstance(staff, StaffAccount) or not staff.active or \
            not staff.has_role(*LISTING_ROLES):
        raise BlacklistError("只有审核员可以管理失信名单", "forbidden")


def _reason(text: str) -> str:
    try:
        return clean_reason(text, required=True, max_len=REASON_MAX)
    except ReasonRefused as error:
        raise BlacklistError(error.message, error.code) from None


def _active_duplicate(index: str | None, user_id: int | None) -> bool:
    if index is not None:
        match = BlacklistEntry.id_index == index
    else:
        match = (BlacklistEntry.user_id == user_id) & BlacklistEntry.id_index.is_(None)
    return db.session.scalar(select(exists().where(BlacklistEntry.removed_at.is_(None), match)))
