"""The 用户协议 and 隐私政策 pages, and what templates ask of them: the documents in force, whether
the signed-in person has accepted them, and whether they allow an optional processing."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app.auth import legal

bp = Blueprint("legal", __name__)


def _page(code: str):
    document = next(d for d in legal.documents() if d.code == code)
    return render_template(f"legal/{code}.html", document=document)


@bp.get("/terms")
def terms():
    return _page("terms")


@bp.get("/privacy")
def privacy():
    return _page("privacy")


@bp.app_context_processor
def legal_helpers():
    def accepted() -> bool:
        return current_user.is_authenticated and legal.has_accepted(current_user)

    def consent_allows(purpose: str) -> bool:
        user_id = current_user.id if current_user.is_authenticated and not current_user.is_staff \
            else None
        return legal.allows(user_id, purpose)

    return {"legal_documents": legal.documents, "legal_accepted": accepted,
            "consent_allows": consent_allows}
