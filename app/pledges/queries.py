"""What the public sees of pledges on other pages: the campaign page's badge. Read-only."""
from __future__ import annotations

from dataclasses import dataclass

from app.campaigns.models import Campaign
from app.pledges.models import Pledge
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
    """This campaign's pledge, and the organizer's record of pledges on other campaigns."""
    pledge = pledge_of(campaign.id)
    record = [(p, standing(p)) for p in record_of(campaign.organizer_id, campaign.id)]
    return PledgeBadge(pledge=pledge, standing=standing(pledge) if pledge else None,
                       record=record)
