"""JSON API under /api/v1 for what the pages' scripts need. Read-only for now (GET only, so no
CSRF exemption is needed). Errors: {"error": {"code", "message"}}."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.api.openapi import API_PREFIX, build_document
from app.api.serializers import campaign_detail, campaign_summary
from app.campaigns import queries
from app.core.errors import ApiError
from app.core.replica import reads_from_replica

bp = Blueprint("api", __name__)
MAX_PER_PAGE = 50


@bp.get("/campaigns")
@reads_from_replica
def list_campaigns():
    page = _int_arg("page", 1, minimum=1)
    per_page = _int_arg("per_page", queries.PER_PAGE, minimum=1, maximum=MAX_PER_PAGE)
    pagination = queries.search_live(request.args.get("q", ""), page, per_page)
    return jsonify(items=[campaign_summary(c) for c in pagination.items], page=pagination.page,
                   per_page=pagination.per_page, total=pagination.total,
                   pages=pagination.pages)


@bp.get("/campaigns/<int:campaign_id>")
@reads_from_replica
def get_campaign(campaign_id: int):
    campaign = queries.public_campaign(campaign_id)
    if campaign is None:
        raise ApiError(404, "campaign_not_found", "筹款不存在或尚未公开")
    return jsonify(campaign_detail(campaign))


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_document(request.host_url.rstrip("/") + API_PREFIX))


def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not raw.isascii() or not raw.isdigit():
        raise ApiError(400, "invalid_parameter", f"参数 {name} 必须是正整数")
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError(400, "invalid_parameter", f"参数 {name} 超出范围")
    return value

