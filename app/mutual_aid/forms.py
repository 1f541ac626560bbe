"""Turning posted forms into service requests (the plan's questions are per plan, so these are
plain functions rather than fixed WTForms classes). Errors are MutualAidError with a message for
the person who filled the form in."""
from __future__ import annotations

from datetime import date

from werkzeug.datastructures import FileStorage, MultiDict

from app.campaigns.photos import PhotoError, process_upload
from app.models_base import yuan_to_fen
from app.mutual_aid.claims import ClaimRequest
from app.mutual_aid.documents import MAX_DOCUMENTS
from app.mutual_aid.models import Plan
from app.mutual_aid.services import JoinRequest, MutualAidError


def parse_join(form: MultiDict, plan: Plan, user_id: int,
               source_campaign_id: int | None) -> JoinRequest:
    answers: dict[int, bool] = {}
    for index in range(len(plan.health_questions)):
        value = form.get(f"q{index}")
        if value in ("yes", "no"):
            answers[index] = value == "yes"
    return JoinRequest(plan_id=plan.id, user_id=user_id, real_name=form.get("real_name", ""),
                       id_number=form.get("id_number", ""), relation=form.get("relation", ""),
                       answers=answers, accepted_rules=form.get("accept_rules") == "1",
                       accepted_notice=form.get("accept_notice") == "1",
                       source_campaign_id=source_campaign_id)


def parse_date(text: str | None) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise MutualAidError("请填写正确的确诊日期", "date_invalid") from None


def parse_claim(form: MultiDict, files: list[FileStorage], membership_id: int,
                user_id: int) -> ClaimRequest:
    uploads = [f for f in files if f and f.filename]
    if len(uploads) > MAX_DOCUMENTS:
        raise MutualAidError(f"材料照片最多 {MAX_DOCUMENTS} 张", "documents_too_many")
    try:
        images = [process_upload(upload) for upload in uploads]
    except PhotoError as error:
        raise MutualAidError(str(error), "document_invalid") from None
    return ClaimRequest(membership_id=membership_id, user_id=user_id,
                        condition=form.get("condition", ""), diagnosis=form.get("diagnosis", ""),
                        hospital=form.get("hospital", ""),
                        diagnosed_on=parse_date(form.get("diagnosed_on")),
                        description=form.get("description", ""), images=images)


def parse_amount(text: str | None) -> int:
    try:
        return yuan_to_fen(text or "")
    except ValueError:
        raise MutualAidError("请填写正确的金额，例如 50 或 50.5", "amount_invalid") from None
