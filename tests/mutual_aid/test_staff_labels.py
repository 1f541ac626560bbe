"""The plan's staff pages name a round's state and an item's kind in Chinese, never the stored
code (`announced`)."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.mutual_aid import claims
from app.mutual_aid.models import Claim
from app.models_base import utcnow
from tests.mutual_aid.conftest import announce, members
from tests.mutual_aid.test_claims import submit
from tests.mutual_aid.test_close_early import finance, finance_client  # noqa: F401 (fixtures)


def test_round_page_reads_in_chinese(app, plan, staff, run_jobs, finance_client):  # noqa: F811
    submit(app, members(plan, 1)[0])
    claim = db.session.scalars(select(Claim)).one()
    claims.approve_claim(claim.id, staff, "材料齐全")
    assert claims.confirm_noticed_claims(utcnow() + timedelta(days=6)) == 1
    members(plan, 2)
    round_ = announce(plan, run_jobs)
    page = finance_client.get(f"/staff/mutual-aid/rounds/{round_.id}").get_data(as_text=True)
    assert f"第 {round_.number} 期 · 缴费中" in page and "互助金 · " in page
    assert "announced" not in page.replace("announced_on", "")
    index = finance_client.get("/staff/mutual-aid/").get_data(as_text=True)
    assert "缴费中" in index
