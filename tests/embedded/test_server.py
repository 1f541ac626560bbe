"""`python wsgi.py` serves on PORT and STANDIN_PORT and says so; links follow PORT."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import requests

from app.config import standin_credentials


def test_console_line_says_what_is_served(embedded):
    line = (f"相助 is running on {embedded.base_url}  "
            f"(WeChat stand-in: {embedded.standin_url})")
    assert line in embedded.output().splitlines()


def test_the_app_answers_on_port_and_links_follow_it(embedded):
    assert requests.get(f"{embedded.base_url}/healthz", timeout=5).json()["db"] == "ok"
    login = requests.get(f"{embedded.base_url}/auth/login", timeout=10)
    assert login.status_code == 200
    assert f"{embedded.base_url}/auth/ticket/" in login.text  # PUBLIC_BASE_URL follows PORT


def test_sign_in_goes_to_the_standin_on_standin_port(embedded):
    start = requests.get(f"{embedded.base_url}/auth/wechat", allow_redirects=False, timeout=10)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{embedded.standin_url}connect/oauth2/authorize?")
    callback = parse_qs(urlsplit(authorize).query)["redirect_uri"][0]
    assert callback.startswith(f"{embedded.base_url}/auth/wechat/callback")
    assert requests.get(authorize, timeout=10).status_code == 200


def test_standin_answers_wechat_and_its_root_page_on_standin_port(embedded):
    creds = standin_credentials()
    token = requests.get(f"{embedded.standin_url}cgi-bin/token", timeout=5, params={
        "grant_type": "client_credential", "appid": creds["WECHAT_APPID"],
        "secret": creds["WECHAT_SECRET"]}).json()
    assert token["access_token"]
    root = requests.get(embedded.standin_url, timeout=5)
    assert root.status_code == 200 and "text/html" in root.headers["Content-Type"]
    assert "不是微信" in root.text and "not WeChat" in root.text


def test_marker_records_the_ports(embedded):
    marker = json.loads((embedded.instance_dir / "embedded-default.json").read_text("utf-8"))
    assert (marker["port"], marker["standin_port"]) == (embedded.port, embedded.standin_port)
