"""The optional read replica (app/core/replica.py): anonymous visitors' public reads come from it,
signed-in people, staff and every write use the primary, and a replica that cannot be reached
leaves the request on the primary.

A second database stands in for the replica: a second SQLite file, or a second database on the
PostgreSQL server. It holds a copy of the primary's rows in which the campaign's title (and the
blessing of its donation) differ, so each page shows which database it was read from.
"""
from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, make_url, select, text, update

from app.campaigns.models import Campaign
from app.core.replica import EXTENSION_KEY, REPLICA_BIND, reads_from_replica
from app.donations.models import Donation
from app.extensions import db as _db
from app.mutual_aid import funnel
from app.mutual_aid.models import FunnelEvent
from tests.payments.helpers import acknowledged, notice_for, post_notice, start

REPLICA_TITLE = "副本里的标题：小明的骨髓移植"
REPLICA_BLESSING = "副本里的祝福"


@pytest.fixture(scope="module")
def replica_url(database_url, tmp_path_factory):
    """An empty database with the primary's schema, next to the run's own primary."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('replica') / 'replica.db'}"
    else:
        primary = make_url(database_url)
        name = f"{primary.database}_replica"
        admin = create_engine(primary, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = primary.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    _db.metadata.create_all(engine)
    engine.dispose()
    yield url
    if not database_url.startswith("sqlite"):
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def replica_app(make_app, replica_url):
    return make_app(DATABASE_REPLICA_URL=replica_url)


def mirror_into_replica(application: Flask) -> None:
    """Copy every row of the primary into the replica (as replication would), then change the
    campaign's title and the donations' blessings there."""
    with application.app_context():
        tables = _db.metadata.sorted_tables
        with _db.engines[None].connect() as primary, _db.engines[REPLICA_BIND].begin() as replica:
            if replica.dialect.name == "postgresql":  # TRUNCATE: the ledger refuses DELETE
                replica.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)))
            else:
                for table in reversed(tables):
                    replica.execute(table.delete())
            for table in tables:
                rows = [dict(row._mapping) for row in primary.execute(table.select())]
                if rows:
                    replica.execute(table.insert(), rows)
            replica.execute(update(Campaign.__table__).values(title=REPLICA_TITLE))
            replica.execute(update(Donation.__table__).values(blessing=REPLICA_BLESSING))


def views_in(application: Flask, bind: str | None) -> int:
    with application.app_context(), _db.engines[bind].connect() as conn:
        return conn.scalar(select(func.count()).select_from(FunnelEvent.__table__)
                           .where(FunnelEvent.step == "campaign_view"))


@pytest.fixture()
def paid_campaign(client, live_campaign, donor):
    """The live campaign with one paid donation (blessing 'primary'), ids only."""
    payment = start(live_campaign, donor, 88_00, blessing="主库里的祝福")
    assert acknowledged(post_notice(client, notice_for(payment)))
    return live_campaign.id


def test_without_a_replica_url_there_is_no_second_engine(app, replica_url):
    with app.app_context():
        assert list(_db.engines) == [None]
    assert EXTENSION_KEY not in app.extensions and not app.config["DATABASE_REPLICA_URL"]


def test_anonymous_public_reads_come_from_the_replica(replica_app, paid_campaign):
    mirror_into_replica(replica_app)
    visitor = replica_app.test_client()
    for path in ("/campaigns", f"/c/{paid_campaign}", f"/c/{paid_campaign}/donations",
                 f"/c/{paid_campaign}/ledger"):
        page = visitor.get(path)
        assert page.status_code == 200, path
        assert REPLICA_TITLE in page.get_data(as_text=True), path
    assert visitor.get(f"/api/v1/campaigns/{paid_campaign}").get_json()["title"] == REPLICA_TITLE
    assert [item["title"] for item in visitor.get("/api/v1/campaigns").get_json()["items"]] == [
        REPLICA_TITLE]
    donations = visitor.get(f"/api/v1/campaigns/{paid_campaign}/donations").get_json()
    assert [d["blessing"] for d in donations["donations"]] == [REPLICA_BLESSING]


def test_signed_in_people_staff_and_unmarked_pages_read_the_primary(replica_app, paid_campaign,
                                                                    donor, staff):
    mirror_into_replica(replica_app)
    with replica_app.app_context():
        primary_title = _db.session.get(Campaign, paid_campaign).title
    assert primary_title != REPLICA_TITLE
    signed_in = replica_app.test_client(user=donor)
    for path in (f"/c/{paid_campaign}", f"/c/{paid_campaign}/donations", "/campaigns",
                 f"/c/{paid_campaign}/donate"):
        html = signed_in.get(path).get_data(as_text=True)
        assert primary_title in html and REPLICA_TITLE not in html, path
    assert signed_in.get(f"/api/v1/campaigns/{paid_campaign}").get_json()["title"] == primary_title
    review = replica_app.test_client(user=staff).get(f"/staff/campaigns/{paid_campaign}")
    assert review.status_code == 200 and primary_title in review.get_data(as_text=True)
    # A public page that is not marked (the sharers' ranking) reads the primary for anyone.
    assert REPLICA_TITLE not in replica_app.test_client().get(
        f"/c/{paid_campaign}/share").get_data(as_text=True)


def test_a_write_during_a_replica_read_lands_in_the_primary(replica_app, live_campaign):
    campaign_id = live_campaign.id
    mirror_into_replica(replica_app)
    page = replica_app.test_client().get(f"/c/{campaign_id}")
    assert REPLICA_TITLE in page.get_data(as_text=True)
    assert views_in(replica_app, None) == 1      # the funnel step of the page view
    assert views_in(replica_app, REPLICA_BIND) == 0


def test_after_a_write_the_request_reads_its_own_writes_on_the_primary(make_app, replica_url,
                                                                       live_campaign):
    campaign_id = live_campaign.id
    application = make_app(DATABASE_REPLICA_URL=replica_url)

    @application.get("/_probe")
    @reads_from_replica
    def probe():
        before = _db.session.get(Campaign, campaign_id).title
        funnel.record_step("campaign_view", campaign_id, None, None, "v" * 32)
        after = _db.session.scalar(select(Campaign.title).where(Campaign.id == campaign_id))
        return {"before": before, "after": after}

    mirror_into_replica(application)
    titles = application.test_client().get("/_probe").get_json()
    assert titles == {"before": REPLICA_TITLE, "after": live_campaign.title}
    assert views_in(application, None) == 1 and views_in(application, REPLICA_BIND) == 0


def test_an_unreachable_replica_falls_back_to_the_primary(make_app, database_url, live_campaign,
                                                          caplog, tmp_path):
    if database_url.startswith("sqlite"):
        unreachable = f"sqlite:///{tmp_path / 'no-such-directory' / 'replica.db'}"
    else:  # nothing listens on port 1
        unreachable = make_url(database_url).set(port=1).render_as_string(hide_password=False)
    application = make_app(DATABASE_REPLICA_URL=unreachable)
    visitor = application.test_client()
    caplog.set_level(logging.WARNING, logger="app.core.replica")
    for path in (f"/c/{live_campaign.id}", f"/api/v1/campaigns/{live_campaign.id}"):
        response = visitor.get(path)
        assert response.status_code == 200, path
        assert live_campaign.title in response.get_data(as_text=True), path
    assert views_in(application, None) == 1
    warnings = [r for r in caplog.records if r.name == "app.core.replica"]
    # Once: the process then leaves the replica alone for a while instead of trying each time.
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
