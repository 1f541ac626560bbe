import re
from tests.payments.test_flow import donate
from sqlalchemy import select
from app.payments.models import Payment
from app.extensions import db
def test_dbg(live_server, donor_client, live_campaign):
    r = donate(donor_client, live_campaign, preset="", amount="66.6")
    html = donor_client.get(r.headers["Location"]).get_data(as_text=True)
    print(html[html.index('<main'):html.index('</main>')])
    assert 0
