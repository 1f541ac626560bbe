"""JSON API under /api/v1 for what the pages' scripts need. Read-only (GET only, so no
CSRF exemption is needed). Errors: {"error": {"code", "message"}}."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.api.openapi import API_PREFIX, build_document
from app.api.serializers import campaign_detail, campaign_summary
from app.campaigns import queries
from app.core.errors import ApiError, InvalidParameter
from app.core.params import bounded_int, page_arg
from app.core.replica import reads_from_replica

bp = Blueprint("api", __name__)
MAX_PER_PAGE = 50


@bp.get("/campaigns")
@reads_from_replica
def list_campaigns():
    page = page_arg(request.args)
    per_page = _per_page()
    pagination = queries.search_live(request.args.get("q", ""), page, per_page)
    return jsonify(items=[campaign_summary(c) for c in pagination.items], page=pagination.page,
                   per_page=pagination.per_page, total=pagination.total,
                   pages=pagination.pages)


@bp.get("/campaigns/<id:campaign_id>")
@reads_from_replica
def get_campaign(campaign_id: int):
    campaign = queries.public_campaign(campaign_id)
    if campaign is None:
        raise ApiError(404, "campaign_not_found", "筹款不存在或尚未公开")
    return jsonify(campaign_detail(campaign))


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_document(request.host_url.rstrip("/") + API_PREFIX))


def _per_page() -> int:
    raw = request.args.get("per_page", "")
    if not raw.strip():
        return queries.PER_PAGE
    value = bounded_int(raw, 1, MAX_PER_PAGE)
    if value is None:
        raise InvalidParameter("per_page", f"每页条数须为 1 至 {MAX_PER_PAGE} 的整数")
    return value

