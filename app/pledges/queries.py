"""What the public sees of pledges on other pages: the campaign page's badge. Read-only."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.campaigns import page_data
from app.campaigns.models import Campaign
from app.campaigns.page_data import CAMPAIGN_ID, ORGANIZER_ID, rows_of
from app.pledges.models import FundEntry, FundEntryKind, Instalment, Pledge
from app.pledges.services import STANDING_LABELS, pledge_of, record_of, standing


@dataclass(frozen=True)
class PledgeBadge:
    pledge: Pledge | None
    standing: str | None
    record: list[tuple[Pledge, str]]

    @property
    def label(self) -> str:
        return STANDING_LABELS.get(self.standing or "", "")

    @property
    def shown(self) -> bool:
        return self.pledge is not None or bool(self.record)


def pledge_badge(campaign: Campaign) -> PledgeBadge:
    """This campaign's pledge, and the organizer's record of pledges on other campaigns (read
    in the campaign page's one statement when it ran)."""
    fetched = page_data.prefetched(campaign.id, "pledges")
    if fetched is page_data.MISSING:
        pledge = pledge_of(campaign.id)
        others = record_of(campaign.organizer_id, campaign.id)
    else:
        pledge = next((p for p in fetched if p.campaign_id == campaign.id), None)
        others = [p for p in fetched if p.campaign_id != campaign.id]
    record = [(p, standing(p)) for p in others]
    return PledgeBadge(pledge=pledge, standing=standing(pledge) if pledge else None,
                       record=record)


def page_part() -> page_data.Part:
    """Every pledge of the campaign's organizer (this campaign's and their record), with the
    instalments their standing is read from, and the fund's grants to the campaign."""
    mine = rows_of(select(*Pledge.__table__.c).where(Pledge.user_id == ORGANIZER_ID),
                   Pledge.id.desc())
    instalments = rows_of(select(*Instalment.__table__.c)
                          .join(Pledge, Pledge.id == Instalment.pledge_id)
                          .where(Pledge.user_id == ORGANIZER_ID),
                          Instalment.pledge_id, Instalment.seq)

    def decode(values: dict) -> list[Pledge]:
        by_pledge: dict[int, list] = {}
        for row in page_data.decode_rows(values["instalments"], instalments):
            by_pledge.setdefault(row["pledge_id"], []).append(
                page_data.transient(Instalment, row))
        return [page_data.transient(Pledge, row, instalments=by_pledge.get(row["id"], []))
                for row in page_data.decode_rows(values["pledges"], mine)]

    return page_data.Part("pledges", lambda: {"pledges": mine, "instalments": instalments},
                          decode)


def grant_page_part() -> page_data.Part:
    """What the fund granted the campaign, for its disclosure (distribution.granted_to)."""
    granted = (select(func.coalesce(func.sum(FundEntry.amount_fen), 0))
               .where(FundEntry.kind == FundEntryKind.campaign,
                      FundEntry.campaign_id == CAMPAIGN_ID).scalar_subquery())
    return page_data.Part("forward_fund_grant", lambda: {"fen": granted},
                          lambda values: int(values["fen"]))
