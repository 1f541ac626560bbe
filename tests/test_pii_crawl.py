"""Whatever page a visitor can reach: a phone number written into every free-text field (story,
update, attestation, blessing, the plan's claim and objection) is never shown as written. The
test follows every same-site link from the home page, a campaign page and the plan's pages,
as an anonymous visitor and as a signed-in stranger, and reads the JSON the pages fetch."""
from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

from sqlalchemy import select

from app.campaigns import trust
from app.extensions import db
from app.mutual_aid import claims, services as plan_services
from app.mutual_aid.models import Claim
from tests.factories import UserFactory
from tests.mutual_aid.conftest import members
from tests.mutual_aid.test_claims import submit
from tests.payments.helpers import acknowledged, notice_for, post_notice, start
from tests.test_pii import _live_campaign

SECRET = "13987654321"
MASKED = "139****4321"
LINK = re.compile(r'(?:href|src|data-[a-z-]*url)="([^"#]+)"')
SKIP = ("/static/", "/auth/", "/logout", ".png", ".jpg", ".pdf", ".csv", "/photos/",
        "/wechat/", "/standin")
MAX_PAGES = 120


def _crawl(client, starts: list[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    queue = deque(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen or any(part in url for part in SKIP):
            continue
        response = client.get(url, follow_redirects=True)
        body = response.get_data(as_text=True)
        seen[url] = body
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        for link in LINK.findall(body):
            target = urljoin(url, link.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc in ("", "localhost"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def test_no_page_a_visitor_can_reach_shows_a_phone_number_as_written(app, client, patient,
                                                                     staff):
    campaign = _live_campaign(patient, staff, f"孩子确诊白血病。\n联系方式 {SECRET} 请帮帮我们。")
    trust.post_update(campaign.id, patient, f"化疗结束，有事联系 {SECRET}")
    trust.attest(campaign.id, UserFactory(nickname="邻居老李"), "neighbour",
                 f"我是他家邻居，情况属实，可联系 {SECRET}")
    payment = start(campaign, UserFactory(nickname="阿杰"), 50_00, blessing=f"加油 {SECRET}")
    assert acknowledged(post_notice(client, notice_for(payment)))
    plan = plan_services.seed_demo_plan()
    submit(app, members(plan, 1)[0], diagnosis=f"肺腺癌，联系 {SECRET}")
    claim_id = db.session.scalar(select(Claim.id))
    claims.approve_claim(claim_id, staff, "材料齐全")
    claims.file_objection(claim_id, UserFactory().id, f"知情人电话 {SECRET}")

    starts = ["/", f"/c/{campaign.id}", f"/c/{campaign.id}/donations",
              f"/api/v1/campaigns/{campaign.id}", f"/api/v1/campaigns/{campaign.id}/donations",
              "/api/v1/campaigns", f"/mutual-aid/plans/{plan.slug}",
              f"/mutual-aid/plans/{plan.slug}/notices"]
    for viewer in (app.test_client(), app.test_client(user=UserFactory(nickname="路人"))):
        pages = _crawl(viewer, list(starts))
        assert len(pages) >= len(starts)
        shown = [url for url, body in pages.items() if SECRET in body]
        assert shown == [], shown
        assert any(MASKED in body for url, body in pages.items() if url.startswith("/c/"))
        assert MASKED in pages[f"/mutual-aid/plans/{plan.slug}/notices"]
