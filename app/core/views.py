from flask import Blueprint, jsonify, redirect, url_for
from sqlalchemy import text

from app.extensions import db, jobs

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    return redirect(url_for("campaigns.explore"))


@bp.get("/healthz")
def healthz():
    report = {"status": "ok", "db": "ok", "queue": "inline"}
    down = []
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any driver error means the database is down for this check
        db.session.rollback()
        report["db"] = "down"
        down.append("db")
    try:
        report["queue"] = jobs.ping()
    except Exception:  # redis-py raises several kinds; all mean the queue is unreachable
        report["queue"] = "down"
        down.append("queue")
    if down:
        report["status"] = "degraded"
        report["down"] = down
        return jsonify(report), 503
    return jsonify(report)
