"""What the platform says about a campaign's money, read as any visitor reads it: the
/api/v1/campaigns/<id> JSON and the 资金公示 block of the campaign page (/c/<id>)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

from ledger_http import LogClient, Refused

YUAN = re.compile(r"(-?)([0-9]{1,3}(?:,[0-9]{3})*)(?:\.([0-9]{2}))?")
# The page's 资金公示 labels (templates/payouts/_disclosure.html) and the figure each shows.
PAGE_LABELS = {"已筹": "raised_fen", "已提现": "withdrawn_fen", "监管账户余额": "balance_fen"}
# /api/v1 fields compared when the document carries them.
API_FIELDS = {"raised_fen": "raised_fen", "donation_count": "donation_count",
              "withdrawn_fen": "withdrawn_fen", "paid_out_fen": "withdrawn_fen",
              "channel_fee_fen": "fee_fen", "balance_fen": "balance_fen"}


def yuan_to_fen(text: str) -> int | None:
    """'¥1,988' → 198800; '¥179.28' → 17928; None when it is no amount."""
    match = YUAN.fullmatch(text.strip().replace("\u00a5", "").replace("\uffe5", "").strip())
    if match is None:
        return None
    fen = int(match.group(2).replace(",", "")) * 100 + int(match.group(3) or 0)
    return -fen if match.group(1) else fen


class DisclosureParser(HTMLParser):
    """The <dl class="fund-totals"> pairs and the channel fee's data-channel-fee attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, int | None] = {}
        self.seen_disclosure = False
        self._in_totals = False
        self._label = ""
        self._capture: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "fund-disclosure" in classes:
            self.seen_disclosure = True
        if tag == "dl" and "fund-totals" in classes:
            self._in_totals = True
        if "data-channel-fee" in attrs and "fee_fen" not in self.figures:
            raw = attrs["data-channel-fee"] or ""
            self.figures["fee_fen"] = int(raw) if re.fullmatch(r"-?[0-9]+", raw) else None
        if self._in_totals and tag in ("dt", "dd"):
            self._capture, self._text = tag, []

    def handle_endtag(self, tag):
        if tag == "dl":
            self._in_totals = False
        if self._capture == tag:
            text = "".join(self._text).strip()
            if tag == "dt":
                self._label = text
            elif self._label in PAGE_LABELS:
                self.figures.setdefault(PAGE_LABELS[self._label], yuan_to_fen(text))
            self._capture = None

    def handle_data(self, data):
        if self._capture:
            self._text.append(data)


def from_api(client: LogClient, campaign_id: int) -> dict[str, int] | None:
    """The figures /api/v1 gives (None: the campaign is not public there)."""
    try:
        document = client.json(f"/api/v1/campaigns/{campaign_id}")
    except Refused as refused:
        if refused.response.status == 404:
            return None
        raise
    if not isinstance(document, dict):
        return {}
    return {ours: document[theirs] for theirs, ours in API_FIELDS.items()
            if type(document.get(theirs)) is int}


def from_page(client: LogClient, campaign_id: int) -> dict[str, int | None] | None:
    """The figures the campaign page's 资金公示 shows (None: no such public page)."""
    try:
        html = client.get(f"/c/{campaign_id}").text()
    except Refused as refused:
        if refused.response.status == 404:
            return None
        raise
    parser = DisclosureParser()
    parser.feed(html)
    return parser.figures if parser.seen_disclosure else {}


def live_campaigns(client: LogClient) -> dict[int, dict[str, int]]:
    """{id: figures} of every campaign /api/v1/campaigns lists (the live ones), page by page."""
    found: dict[int, dict[str, int]] = {}
    page, pages = 1, 1
    while page <= pages:
        listing = client.json("/api/v1/campaigns", page=page, per_page=50)
        if not isinstance(listing, dict) or not isinstance(listing.get("items"), list):
            break
        for item in listing["items"]:
            if isinstance(item, dict) and type(item.get("id")) is int:
                found[item["id"]] = {ours: item[theirs] for theirs, ours in API_FIELDS.items()
                                     if type(item.get(theirs)) is int}
        pages = listing.get("pages") if type(listing.get("pages")) is int else page
        page += 1
    return found
