"""Campaigns with documents and real names, built through the real services."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.auth import legal
from app.core.idcard import make_number
from app.extensions import db
from app.review import decisions, services
from app.review.models import CampaignDocument, DocumentKind
from app.core.storage import get_storage
from app.core.uploads import check_bytes
from tests.factories import CampaignFactory
from tests.factories_plugin import add_cover
from tests.review.files import jpeg_bytes, pdf_bytes

PATIENT_ID = make_number("110101", date(2018, 5, 1), 123)
ORGANIZER_ID = make_number("110101", date(1988, 3, 2), 456)


def add_documents(campaign, organizer, kinds=None) -> list[CampaignDocument]:
    kinds = kinds or services.required_kinds(campaign) + [DocumentKind.costs]
    added = []
    for kind in kinds:
        data = pdf_bytes(2) if kind == DocumentKind.costs else jpeg_bytes((400, 300))
        added += services.upload_documents(campaign, organizer, kind, [check_bytes(data)])
    return added


def add_identity(campaign, organizer, patient_id: str = PATIENT_ID, patient_name: str = "王小明",
                 accept_legal: bool = True):
    """Real names; and, as the organizer does on the page where they submit, the acceptance of
    the 用户协议 and 隐私政策 in force (tests of that acceptance pass accept_legal=False)."""
    identity = services.save_identity(campaign, organizer, patient_name=patient_name,
                                      patient_id=patient_id, organizer_name="李红",
                                      organizer_id=ORGANIZER_ID)
    if accept_legal:
        legal.accept(organizer, legal.VIA_CAMPAIGN)
    return identity


def patient_id(sequence: int) -> str:
    """Another valid ID number, for another patient."""
    return make_number("310104", date(2015, 7, 9), sequence)


def ready_campaign(organizer, patient_id: str = PATIENT_ID, **fields):
    """A draft with cover, every required document and real names: ready to submit."""
    campaign = add_cover(CampaignFactory(organizer=organizer, **fields), organizer)
    add_documents(campaign, organizer)
    add_identity(campaign, organizer, patient_id=patient_id)
    return campaign


def submitted_ready(organizer, patient_id: str = PATIENT_ID, **fields):
    campaign = ready_campaign(organizer, patient_id=patient_id, **fields)
    services.submit_for_review(campaign, organizer)
    return campaign


def approve_all(campaign, staff) -> None:
    """Approve every current document and the real names (not the campaign itself)."""
    for document in services.current_documents(campaign.id):
        decisions.decide_document(document.id, staff, approve=True)
    decisions.verify_identity(campaign.id, staff, ok=True)


def stored_keys() -> set[str]:
    return get_storage().keys()


def document_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CampaignDocument))
