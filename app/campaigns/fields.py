"""Copying organizer input onto a campaign, re-checking the rules the form checks (defence in
depth: the services may be called from elsewhere than the form)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.campaigns.errors import CampaignError
from app.campaigns.models import (
    CAR_LABELS,
    HOUSE_LABELS,
    MAX_DURATION_DAYS,
    MIN_DURATION_DAYS,
    RELATION_LABELS,
    SAVINGS_LABELS,
    TARGET_MAX_FEN,
    TARGET_MIN_FEN,
    Campaign,
)

TEXT_FIELDS = {"title": 60, "patient_name": 32, "diagnosis": 100, "hospital": 100}
CHOICE_FIELDS = {"relation": RELATION_LABELS, "house": HOUSE_LABELS, "car": CAR_LABELS,
                 "savings": SAVINGS_LABELS}
REQUIRED_FIELDS = (*TEXT_FIELDS, "relation", "target_fen", "story")
EDITABLE_FIELDS = (*TEXT_FIELDS, *CHOICE_FIELDS, "target_fen", "duration_days", "story",
                   "has_medical_insurance", "has_commercial_insurance", "disclosure_note")


def apply_fields(campaign: Campaign, data: Mapping[str, Any], require_all: bool) -> None:
    """Copy known fields after checking the rules the form also checks (defence in depth)."""
    if require_all and any(name not in data for name in REQUIRED_FIELDS):
        raise CampaignError("请把信息填写完整", "incomplete")
    for name in EDITABLE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in TEXT_FIELDS:
            value = str(value).strip()
            if not value or len(value) > TEXT_FIELDS[name]:
                raise CampaignError("请把信息填写完整", "invalid_field")
        elif name in CHOICE_FIELDS and value not in CHOICE_FIELDS[name]:
            raise CampaignError("选项无效", "invalid_field")
        elif name == "target_fen":
            if not isinstance(value, int) or isinstance(value, bool) or not (
                    TARGET_MIN_FEN <= value <= TARGET_MAX_FEN):
                raise CampaignError("目标金额需在 1,000 元到 500,000 元之间", "invalid_target")
        elif name == "duration_days":
            if not isinstance(value, int) or not MIN_DURATION_DAYS <= value <= MAX_DURATION_DAYS:
                raise CampaignError("筹款天数需在 7 到 90 天之间", "invalid_duration")
        elif name == "story":
            value = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
            if not value:
                raise CampaignError("请填写求助故事", "invalid_field")
        elif name in ("has_medical_insurance", "has_commercial_insurance"):
            value = bool(value)
        elif name == "disclosure_note":
            value = str(value or "").strip()[:300]
        setattr(campaign, name, value)
