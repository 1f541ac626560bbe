"""Share links: tokens, the tree they form, visits recorded cheaply and once a day."""
from __future__ import annotations

from sqlalchemy import event, func, select

from app.extensions import db
from app.sharing import services
from app.sharing.models import ShareChannel, ShareLink, ShareVisit
from app.sharing.views import VISITOR_COOKIE
from tests.sharing.conftest import Person, arrive, share


def visits(**where) -> int:
    stmt = select(func.count()).select_from(ShareVisit)
    for name, value in where.items():
        stmt = stmt.where(getattr(ShareVisit, name) == value)
    return db.session.scalar(stmt)


def test_following_a_link_records_one_visit_a_day_and_opens_the_campaign(
        app, client, live_campaign, patient):
    link = share(live_campaign, Person(patient.id))
    response = client.get(f"/s/{link.token}/p")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/c/{live_campaign.id}")
    cookie = client.get_cookie(VISITOR_COOKIE)
    assert cookie is not None and len(cookie.value) == 32 and cookie.http_only
    client.get(f"/s/{link.token}/p")
    client.get(f"/s/{link.token}")
    assert visits(share_id=link.id) == 1
    visit = db.session.scalar(select(ShareVisit))
    assert visit.channel == ShareChannel.poster and visit.visitor_id == cookie.value
    assert client.get("/s/nosuchtoken1").status_code == 404


def test_the_sharer_opening_their_own_link_is_not_a_visit(app, live_campaign, patient):
    link = share(live_campaign, Person(patient.id))
    owner = app.test_client(user=patient)
    assert owner.get(f"/s/{link.token}/f").status_code == 302
    assert visits() == 0


def test_recording_a_visit_is_a_single_insert(app, db, live_campaign, patient, person):
    token = share(live_campaign, Person(patient.id)).token
    services.resolve_token(token)          # tokens never change: cached after first use
    friend = person("朋友")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        services.record_visit(token, ShareChannel.chat, friend.user_id, None)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert statements == ["INSERT"]
    assert visits() == 1


def test_links_form_a_tree_of_who_brought_whom(live_campaign, patient, person):
    organizer = Person(patient.id)
    root = share(live_campaign, organizer)
    assert root.parent_id is None and root.depth == 0
    friend, stranger = person("好友"), Person(None, "a" * 32)
    arrive(root, friend)
    friends_link = share(live_campaign, friend)
    assert friends_link.parent_id == root.id and friends_link.depth == 1
    arrive(friends_link, stranger, ShareChannel.moments)
    strangers_link = share(live_campaign, stranger)
    assert strangers_link.parent_id == friends_link.id and strangers_link.depth == 2
    assert strangers_link.sharer_key == "v:" + "a" * 32
    # One link per person and campaign, whatever they share it as.
    assert share(live_campaign, friend).id == friends_link.id
    # Arriving again through someone further down never moves a person under themselves.
    arrive(strangers_link, organizer)
    assert share(live_campaign, organizer).parent_id is None
    assert {l.token for l in db.session.scalars(select(ShareLink))} == \
        {root.token, friends_link.token, strangers_link.token}


def test_share_link_endpoint_gives_links_card_and_signed_config(app, client, live_campaign):
    page = app.config["PUBLIC_BASE_URL"] + f"/c/{live_campaign.id}"
    response = client.post(f"/c/{live_campaign.id}/share/link", json={"url": page})
    assert response.status_code == 200
    data = response.get_json()
    token = data["token"]
    base = app.config["PUBLIC_BASE_URL"]
    assert data["links"] == {"chat": f"{base}/s/{token}/f", "moments": f"{base}/s/{token}/m",
                             "poster": f"{base}/s/{token}/p",
                             "desktop_qr": f"{base}/s/{token}/q"}
    assert data["card"]["title"] == live_campaign.title
    assert data["card"]["imgUrl"].startswith(base + "/photos/")
    assert data["wx"]["signature"] and data["wx"]["appId"] == app.config["WECHAT_APPID"]
    # The same browser gets the same link again; a foreign page gets no signature.
    again = client.post(f"/c/{live_campaign.id}/share/link",
                        json={"url": "https://elsewhere.example/"}).get_json()
    assert again["token"] == token and again["wx"] is None
    qr = client.get(data["qr"])
    assert qr.status_code == 200 and qr.mimetype == "image/png"
    from tests.sharing.conftest import decode_qr

    assert decode_qr(qr.data) == f"{base}/s/{token}/q"


def test_draft_campaigns_cannot_be_shared(app, db, patient):
    from tests.factories import CampaignFactory

    draft = CampaignFactory(organizer=patient)
    owner = app.test_client(user=patient)
    response = owner.post(f"/c/{draft.id}/share/link", json={"url": ""})
    assert response.status_code == 409
    assert app.test_client().post(f"/c/{draft.id}/share/link", json={}).status_code == 404


def test_visits_before_signing_in_become_the_users(app, live_campaign, patient, donor):
    link = share(live_campaign, Person(patient.id))
    anonymous = app.test_client()
    anonymous.get(f"/s/{link.token}/f")
    cookie = anonymous.get_cookie(VISITOR_COOKIE).value
    assert visits(visitor_id=cookie) == 1 and visits(user_id=donor.id) == 0
    signed_in = app.test_client(user=donor)
    signed_in.set_cookie(VISITOR_COOKIE, cookie)
    signed_in.get(f"/c/{live_campaign.id}")
    assert visits(user_id=donor.id) == 1
    assert signed_in.get_cookie("xz_vlu").value == str(donor.id)
