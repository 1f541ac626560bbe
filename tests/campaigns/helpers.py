"""Shared bits for the campaign, staff and API tests."""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.campaigns.models import Campaign, CampaignEvent
from app.extensions import db

STORY = ("孩子今年六岁，上个月确诊急性淋巴细胞白血病。\n\n"
         "化疗和骨髓移植还需要三十万元，恳请好心人帮帮我们。")


def form_data(**overrides) -> dict:
    """A valid campaign form; pass name=None to leave a field out."""
    data = {
        "title": "六岁小明急需骨髓移植，恳请帮助",
        "patient_name": "王小明",
        "relation": "parent",
        "diagnosis": "急性淋巴细胞白血病",
        "hospital": "北京儿童医院",
        "target_yuan": "300000",
        "duration_days": "30",
        "story": STORY,
        "house": "none",
        "car": "none",
        "savings": "lt10k",
        "medical_insurance": "yes",
        "commercial_insurance": "no",
        "disclosure_note": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def campaign_data(**overrides) -> dict:
    """Valid service input (already parsed, as the form hands it over)."""
    data = {
        "title": "六岁小明急需骨髓移植", "patient_name": "王小明", "relation": "parent",
        "diagnosis": "急性淋巴细胞白血病", "hospital": "北京儿童医院", "target_fen": 300_000_00,
        "duration_days": 30, "story": STORY, "house": "none", "car": "none", "savings": "lt10k",
        "has_medical_insurance": True, "has_commercial_insurance": False, "disclosure_note": "",
    }
    data.update(overrides)
    return data


def count_campaigns() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


def events_of(campaign_id: int) -> list[CampaignEvent]:
    return list(db.session.scalars(select(CampaignEvent).where(
        CampaignEvent.campaign_id == campaign_id).order_by(CampaignEvent.id)))


def stored_files() -> set[str]:
    directory = Path(current_app.config["UPLOAD_DIR"]) / "photos"
    return {p.name for p in directory.iterdir()} if directory.exists() else set()
