"""A donor signed in silently (snsapi_base: no name from WeChat) never has WeChat's placeholder
printed on a poster or a certificate; the poster page offers to show their name (snsapi_userinfo)."""
from __future__ import annotations

from app.auth.models import DEFAULT_NICKNAME
from app.sharing import poster_store
from tests.factories import UserFactory
from tests.sharing.conftest import Person, share


def test_a_silent_sharers_poster_says_aixin_renshi(app, live_campaign):
    silent = UserFactory(nickname=DEFAULT_NICKNAME, avatar_url="https://wx.qlogo.cn/x/0")
    poster = poster_store.content_for_share(share(live_campaign, Person(silent.id)),
                                            live_campaign)
    assert (poster.sharer_name, poster.avatar_url) == ("爱心人士", "")
    named = UserFactory(nickname="小明妈妈")
    assert poster_store.content_for_share(share(live_campaign, Person(named.id)),
                                          live_campaign).sharer_name == "小明妈妈"


def test_the_poster_page_offers_the_name_to_a_silent_sharer(app, live_campaign, run_jobs):
    silent = UserFactory(nickname=DEFAULT_NICKNAME)
    client = app.test_client(user=silent)
    location = client.post(f"/c/{live_campaign.id}/poster").headers["Location"]
    run_jobs()
    if "/jobs/" in location:
        location = client.get(location.replace("?", ".json?", 1)).get_json()["page"]
    page = client.get(location).get_data(as_text=True)
    assert "data-show-name" in page and "scope=userinfo" in page
    named = app.test_client(user=UserFactory(nickname="小明妈妈"))
    location = named.post(f"/c/{live_campaign.id}/poster").headers["Location"]
    run_jobs()
    if "/jobs/" in location:
        location = named.get(location.replace("?", ".json?", 1)).get_json()["page"]
    assert "data-show-name" not in named.get(location).get_data(as_text=True)
