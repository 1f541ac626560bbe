"""Delivering notices to the merchant as WeChat does: POST, resend on a schedule until taken,
or several copies at once as from several WeChat servers. Protocol-neutral: a notice has
render() -> (body, headers), made afresh for each attempt (v3 signs each one with a current
timestamp), and accepted(response) -> bool. v2's is XmlNotice; v3's is v3.protocol.Notice.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

import requests
import xmltodict

from app.wechat_standin.state import StandinState


@dataclass(frozen=True)
class XmlNotice:
    """A v2 notice: XML, taken when the reply's return_code is SUCCESS."""

    xml: str

    def render(self) -> tuple[bytes, dict]:
        return self.xml.encode(), {"Content-Type": "text/xml"}

    @staticmethod
    def accepted(response: requests.Response) -> bool:
        reply = xmltodict.parse(response.content, disable_entities=True).get("xml") or {}
        return response.status_code == 200 and reply.get("return_code") == "SUCCESS"


def deliver(state: StandinState, url: str, notice, kind: str = "payment",
            ref: str = "") -> bool:
    """POST one notice (v2 XML as a str, or a notice object); True when the merchant took it."""
    if isinstance(notice, str):
        notice = XmlNotice(notice)
    record = {"kind": kind, "ref": ref, "url": url, "at": state.clock(), "status": None,
              "reply": ""}
    try:
        body, headers = notice.render()
        response = requests.post(url, data=body, timeout=5, headers=headers)
        record.update(status=response.status_code, reply=response.text[:500])
        ok = notice.accepted(response)
    except (requests.RequestException, ExpatError, ValueError, AttributeError) as error:
        record["reply"] = f"{type(error).__name__}: {error}"[:500]
        ok = False
    record["ok"] = ok
    with state.lock:
        state.notifications.append(record)
    return ok


def send_async(state: StandinState, url: str, notice, schedule: tuple[float, ...],
               kind: str = "payment", ref: str = "") -> threading.Thread:
    """Deliver now, then resend on `schedule` until the merchant takes it."""
    def run() -> None:
        if deliver(state, url, notice, kind, ref):
            return
        for delay in schedule:
            time.sleep(delay)
            if deliver(state, url, notice, kind, ref):
                return

    thread = threading.Thread(target=run, daemon=True, name=f"standin-notify:{kind}")
    thread.start()
    return thread


def fire_copies(state: StandinState, url: str, notice, copies: int,
                ref: str = "") -> list[bool]:
    """The same notice `copies` times at once, as from several WeChat servers."""
    barrier = threading.Barrier(copies)
    results: list[bool] = [False] * copies

    def one(i: int) -> None:
        barrier.wait()
        results[i] = deliver(state, url, notice, ref=ref)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
