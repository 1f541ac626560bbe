"""The people of the load benchmark (bench/load/run.py) and what they do: anonymous visitors
through share links, the share card's request, signed-in donors placing orders (and WeChat's
notices for them), posters, the JSON API. Each person is a browser: cookies, an address nginx
would pass on, WeChat's user agent."""
from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import defaultdict
from urllib.parse import parse_qsl, urlencode, urlsplit

from bench.harness import Connection, signed_notice

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322f) "
             "NetType/WIFI Language/zh_CN")
CSRF_INPUT = re.compile(rb'name="csrf_token" value="([^"]+)"')
CSRF_DATA = re.compile(rb'data-csrf="([^"]+)"')
CHECKOUT_KEY = re.compile(rb'name="checkout_key" value="([^"]+)"')
DONOR_PACE_SECONDS = 7.0     # the donate form allows 10 a minute per donor
PRESET_YUAN = 20


class Person:
    """One browser: cookies, its own address (as nginx would pass it on), WeChat's agent."""

    def __init__(self, number: int):
        self.jar: dict[str, str] = {}
        self.headers = {"User-Agent": WECHAT_UA,
                        "X-Forwarded-For": f"10.{number >> 16 & 255}.{number >> 8 & 255}."
                                           f"{number & 255}"}
        self.csrf: str | None = None
        self.next_order = 0.0
        self.campaign: int | None = None


async def sign_in(port: int, standin_port: int, person: Person, number: int,
                  campaign_id: int) -> None:
    """WeChat OAuth through the stand-in's authorize page, as a browser in WeChat does it."""
    app = Connection("127.0.0.1", port)
    standin = Connection("127.0.0.1", standin_port)
    reply = await app.request("GET", f"/auth/wechat?next=/c/{campaign_id}", b"",
                              person.headers, person.jar)
    authorize = urlsplit(reply.header("location") or "")
    params = dict(parse_qsl(authorize.query))
    params.update(openid="new", nickname=f"压测捐款人{number}")
    reply = await standin.request("POST", authorize.path, urlencode(params).encode(),
                                  {"Content-Type": "application/x-www-form-urlencoded"})
    callback = urlsplit(reply.header("location") or "")
    reply = await app.request("GET", f"{callback.path}?{callback.query}", b"", person.headers,
                              person.jar)
    if reply.status != 302 or "session" not in person.jar:
        raise SystemExit(f"donor {number} could not sign in ({reply.status})")
    await app.close()
    await standin.close()


# --- traffic -----------------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.orders: list[tuple[str, int]] = []
        self.notices = self.duplicates = self.acknowledged = 0

    def record(self, name: str, reply, expected: tuple[int, ...]) -> bool:
        self.latencies[name].append(reply.seconds)
        if reply.status not in expected:
            self.errors[name][reply.status] += 1
            return False
        return True


class Mix:
    """What the connections do during a mixed round; state shared across rounds."""

    def __init__(self, port: int, setup: dict, donors: list[Person], seed_: int):
        self.port = port
        self.campaigns = setup["campaigns"]
        self.tokens = setup["tokens"]
        self.donors = donors
        self.rng = random.Random(seed_)
        self.people = 0
        self.returning: list[Person] = []
        self.resends: list[bytes] = []
        self.card_tokens = 0.0
        self.card_clock = time.monotonic()
        self.stats = Stats()

    def campaign(self) -> int:
        # the viral campaign takes most of the traffic
        return self.campaigns[0] if self.rng.random() < 0.8 else self.rng.choice(self.campaigns)

    def new_person(self) -> Person:
        self.people += 1
        return Person(100_000 + self.people)

    async def visit(self, conn: Connection) -> None:
        if self.returning and self.rng.random() < 0.3:
            person = self.rng.choice(self.returning)
        else:
            person = self.new_person()
            person.campaign = self.campaign()
            token = self.rng.choice(self.tokens[person.campaign])
            channel = self.rng.choice("fmpq")
            reply = await conn.request("GET", f"/s/{token}/{channel}", b"", person.headers,
                                       person.jar)
            if not self.stats.record("share link (visit recorded)", reply, (302,)):
                return
        reply = await conn.request("GET", f"/c/{person.campaign}", b"", person.headers,
                                   person.jar)
        if self.stats.record("campaign page (anonymous)", reply, (200,)):
            found = CSRF_DATA.search(reply.body)
            person.csrf = found.group(1).decode() if found else None
            if len(self.returning) < 2000:
                self.returning.append(person)
            else:
                self.returning[self.rng.randrange(2000)] = person

    async def share_card(self, conn: Connection) -> None:
        people = [p for p in self.returning[-200:] if p.csrf]
        if not people:
            return await self.visit(conn)
        person = self.rng.choice(people)
        body = json.dumps({"url": f"http://127.0.0.1:{self.port}/c/{person.campaign}"}).encode()
        reply = await conn.request("POST", f"/c/{person.campaign}/share/link", body,
                                   person.headers | {"Content-Type": "application/json",
                                                     "X-CSRFToken": person.csrf}, person.jar)
        self.stats.record("share card (links + JS-SDK signature)", reply, (200,))

    async def donate(self, conn: Connection) -> None:
        now = time.monotonic()
        ready = [d for d in self.donors if d.next_order <= now]
        if not ready:
            return await self.visit(conn)
        donor = self.rng.choice(ready)
        donor.next_order = now + DONOR_PACE_SECONDS
        campaign_id = self.campaign()
        reply = await conn.request("GET", f"/c/{campaign_id}", b"", donor.headers, donor.jar)
        if not self.stats.record("campaign page (signed in)", reply, (200,)):
            return
        csrf, key = CSRF_INPUT.search(reply.body), CHECKOUT_KEY.search(reply.body)
        if csrf is None or key is None:  # the campaign stopped taking donations
            self.stats.errors["campaign page (signed in)"][0] += 1
            return
        # a blessing with a quarter of the orders: the form takes at most 3 a minute per person
        blessing = "加油，早日康复" if self.rng.random() < 0.25 else ""
        form = urlencode({"csrf_token": csrf.group(1).decode(), "preset": str(PRESET_YUAN),
                          "checkout_key": key.group(1).decode(), "blessing": blessing})
        reply = await conn.request("POST", f"/c/{campaign_id}/donate", form.encode(),
                                   donor.headers | {"Content-Type":
                                                    "application/x-www-form-urlencoded"},
                                   donor.jar)
        if not self.stats.record("donate (order placed at WeChat)", reply, (302,)):
            return
        location = urlsplit(reply.header("location") or "")
        if location.fragment.startswith("pay="):
            # in WeChat: back to the campaign page, whose script asks for the pay sheet
            out_trade_no = location.fragment[len("pay="):]
            order_path = f"/api/v1/payments/{out_trade_no}/pay_sheet"
        else:
            order_path = location.path
            out_trade_no = order_path.rsplit("/", 1)[-1]
        reply = await conn.request("GET", order_path, b"", donor.headers, donor.jar)
        if not self.stats.record("order page (JSAPI parameters)", reply, (200,)):
            return
        self.stats.orders.append((out_trade_no, PRESET_YUAN * 100))
        notice = signed_notice(out_trade_no, PRESET_YUAN * 100)
        await self.notify(conn, notice)
        if self.rng.random() < 0.25:   # a quarter of the orders twice → a fifth of the notices
            self.stats.duplicates += 1
            if self.rng.random() < 0.5:
                await self.notify(conn, notice)
            else:
                self.resends.append(notice)

    async def notify(self, conn: Connection, notice: bytes) -> None:
        reply = await conn.request("POST", "/wechat/pay/notify", notice,
                                   {"Content-Type": "text/xml"})
        self.stats.notices += 1
        if self.stats.record("payment notice", reply, (200,)):
            self.stats.acknowledged += b"<![CDATA[SUCCESS]]>" in reply.body

    async def send_resends(self) -> None:
        conn = Connection("127.0.0.1", self.port)
        while self.resends:
            await self.notify(conn, self.resends.pop(0))
        await conn.close()

    async def poster(self, conn: Connection) -> None:
        person = self.new_person()
        person.campaign = self.campaign()
        reply = await conn.request("GET", f"/c/{person.campaign}", b"", person.headers,
                                   person.jar)
        if not self.stats.record("campaign page (anonymous)", reply, (200,)):
            return
        csrf = CSRF_INPUT.search(reply.body)
        reply = await conn.request(
            "POST", f"/c/{person.campaign}/poster",
            urlencode({"csrf_token": csrf.group(1).decode()}).encode(),
            person.headers | {"Content-Type": "application/x-www-form-urlencoded"}, person.jar)
        self.stats.record("poster request (job queued)", reply, (302,))

    async def api(self, conn: Connection) -> None:
        campaign_id = self.campaign()
        reply = await conn.request("GET", f"/api/v1/campaigns/{campaign_id}")
        self.stats.record("api: campaign", reply, (200,))
        reply = await conn.request("GET", f"/api/v1/campaigns/{campaign_id}/donations")
        self.stats.record("api: donor list", reply, (200,))

    async def run(self, connections: int, seconds: float) -> float:
        actions = [(0.62, self.visit), (0.08, self.share_card), (0.17, self.donate),
                   (0.03, self.poster), (0.10, self.api)]
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            conn = Connection("127.0.0.1", self.port)
            while time.monotonic() < deadline:
                if self.resends and self.rng.random() < 0.1:
                    await self.notify(conn, self.resends.pop(0))
                    continue
                pick, total = self.rng.random(), 0.0
                for weight, action in actions:
                    total += weight
                    if pick < total:
                        await action(conn)
                        break
            await conn.close()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return time.perf_counter() - started


async def repeat(port: int, path: str, people: list[Person], connections: int,
                 seconds: float) -> tuple[float, list[float], int]:
    """GET `path` as these people, over `connections`, for `seconds`; returns time, latencies
    and the number of answers other than 200."""
    latencies: list[float] = []
    bad = [0]
    deadline = time.monotonic() + seconds

    async def worker(index: int) -> None:
        conn = Connection("127.0.0.1", port)
        n = index
        while time.monotonic() < deadline:
            person = people[n % len(people)] if people else None
            n += connections
            reply = await conn.request("GET", path, b"", person.headers if person else None,
                                       person.jar if person else None)
            latencies.append(reply.seconds)
            bad[0] += reply.status != 200
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    return time.perf_counter() - started, latencies, bad[0]


async def notices_at(port: int, notices: list[bytes], per_second: float,
                     seconds: float) -> int:
    """Send signed payment notices at a steady pace for `seconds`, each on its own request
    whatever the replies take (each a first notice of a pending order: a paid donation that
    changes the campaign page)."""
    async def send(notice: bytes) -> None:
        conn = Connection("127.0.0.1", port)
        await conn.request("POST", "/wechat/pay/notify", notice, {"Content-Type": "text/xml"})
        await conn.close()

    sent: list[asyncio.Task] = []
    started = time.monotonic()
    while notices and time.monotonic() - started < seconds:
        sent.append(asyncio.create_task(send(notices.pop())))
        await asyncio.sleep(max(0.0, started + len(sent) / per_second - time.monotonic()))
    await asyncio.gather(*sent)
    return len(sent)


async def repeat_while_notices(port: int, path: str, people: list[Person], connections: int,
                               seconds: float, notices: list[bytes],
                               per_second: float) -> tuple[float, list[float], int]:
    """`repeat` with `per_second` payment notices arriving meanwhile."""
    page, _ = await asyncio.gather(repeat(port, path, people, connections, seconds),
                                   notices_at(port, notices, per_second, seconds))
    return page
