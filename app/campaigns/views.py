from flask import Blueprint, render_template

bp = Blueprint("campaigns", __name__)


@bp.get("/campaigns")
def explore():
    return render_template("campaigns/explore.html", campaigns=[])
