from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core import outbox
from app.core.files import StorageFull
from app.extensions import db, jobs
from app.core.jobs import REDIS_DOWN_ERRORS

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    return redirect(url_for("campaigns.explore"))


@bp.get("/healthz")
def healthz():
    """200 "ok"; 200 "degraded" when only Redis is down (pages and payment notices still work,
    jobs wait in the outbox, so a load balancer must keep sending traffic); 503 when the
    database is down (nothing works)."""
    report = {"status": "ok", "db": "ok", "queue": "inline"}
    down = []
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        report["db"] = "down"
        down.append("db")
    try:
        report["queue"] = jobs.ping()
    except REDIS_DOWN_ERRORS:
        report["queue"] = "down"
        down.append("queue")
    if not down:
        return jsonify(report)
    report["status"] = "degraded"
    report["down"] = down
    if "db" in down:
        return jsonify(report), 503
    report["deferred_jobs"] = outbox.waiting()
    return jsonify(report)


@bp.app_errorhandler(StorageFull)
def storage_full(error: StorageFull):
    """A full upload disk reached a form that does not catch it itself: back to the page the
    form was on, with the message (the service already removed what it had written)."""
    if request.path.startswith("/api/"):
        return jsonify(error={"code": error.code, "message": error.message}), 507
    flash(error.message, "error")
    referrer = urlsplit(request.referrer or "")
    same_site = referrer.netloc == request.host and referrer.scheme in ("http", "https")
    return redirect(request.referrer if same_site else url_for("core.index"))
