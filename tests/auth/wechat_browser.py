"""Drive the stand-in's authorize page as a browser would: GET the form, POST the approval."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322c) NetType/WIFI")


@dataclass
class AuthorizeForm:
    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form = AuthorizeForm()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.form.action = attr.get("action", "")
        elif tag == "input" and attr.get("type") == "hidden":
            self.form.hidden[attr["name"]] = attr.get("value", "")
        elif tag == "input" and attr.get("type") == "radio" and attr.get("name") == "openid":
            self.form.choices.append(attr["value"])


def open_authorize_page(url: str, phone: requests.Session | None = None
                        ) -> tuple[requests.Response, AuthorizeForm]:
    page = (phone or requests).get(url, timeout=5)
    parser = _FormParser()
    parser.feed(page.text)
    return page, parser.form


def approve(url: str, *, nickname: str | None = None, openid: str | None = None,
            with_unionid: bool = True, action: str = "allow") -> requests.Response:
    """Open the authorize page and submit it; returns the stand-in's (unfollowed) answer."""
    page, form = open_authorize_page(url)
    assert page.status_code == 200, page.text
    data = dict(form.hidden, action=action)
    if openid is not None:
        assert openid in form.choices
        data["openid"] = openid
    else:
        data["openid"] = "new"
        data["nickname"] = nickname or ""
        if with_unionid:
            data["unionid"] = "1"
    return requests.post(urljoin(url, form.action), data=data, allow_redirects=False,
                         timeout=5)


def approve_to_callback(url: str, **kwargs) -> str:
    """Approve and return the redirect_uri?code&state the stand-in sends the browser to."""
    answer = approve(url, **kwargs)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
