"""The platform's public routes, as docs/transparency.md lists them, over plain HTTP (urllib).

Everything the verifier and the witness learn comes through `Fetch`: a callable taking
(method, path with query, body, content type) and giving back a Response. `http_fetch(url)` is
the real one; a test may hand in any other.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import tlog


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = ""

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


Fetch = Callable[[str, str, bytes | None, str | None], Response]


class Unreachable(RuntimeError):
    """The platform could not be asked (network, or an answer that is not what the route says)."""


class Refused(RuntimeError):
    """The platform answered a public route with an error status."""

    def __init__(self, path: str, response: Response) -> None:
        super().__init__(f"{path}: HTTP {response.status} {response.text()[:200]}")
        self.path, self.response = path, response


def http_fetch(base_url: str, timeout: float = 30) -> Fetch:
    base = base_url.rstrip("/")

    def fetch(method: str, path: str, body: bytes | None = None,
              content_type: str | None = None) -> Response:
        request = urllib.request.Request(base + path, data=body, method=method,
                                         headers={"User-Agent": "xiangzhu-verify-ledger/1"})
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return Response(answer.status, answer.read(),
                                answer.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read(), error.headers.get("Content-Type", ""))
        except (urllib.error.URLError, OSError) as error:
            raise Unreachable(f"{base}{path}: {error}") from error

    return fetch


class LogClient:
    def __init__(self, fetch: Fetch) -> None:
        self.fetch = fetch

    def get(self, path: str, **params) -> Response:
        if params:
            path += "?" + urllib.parse.urlencode(params)
        response = self.fetch("GET", path, None, None)
        if response.status != 200:
            raise Refused(path, response)
        return response

    def json(self, path: str, **params):
        response = self.get(path, **params)
        try:
            return json.loads(response.body)
        except ValueError as error:
            raise Unreachable(f"{path}: the answer is not JSON") from error

    def checkpoint_note(self, size: int | None = None) -> tlog.Note:
        path = "/transparency/checkpoint" + ("" if size is None else f"/{size}")
        return tlog.parse_note(self.get(path).body)

    def leaves(self, start: int, end: int) -> list[dict]:
        path = "/api/v1/transparency/leaves"
        return _field(self.json(path, start=start, end=end), "leaves", list, path)

    def checkpoints(self, before: int | None = None, limit: int = 100) -> dict:
        params = {"limit": limit} if before is None else {"before": before, "limit": limit}
        answer = self.json("/api/v1/transparency/checkpoints", **params)
        _field(answer, "checkpoints", list, "/api/v1/transparency/checkpoints")
        return answer

    def inclusion(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        path = "/api/v1/transparency/proof/inclusion"
        answer = self.json(path, index=index, tree_size=size)
        return (_hash(_field(answer, "leaf_hash", str, path), path),
                [_hash(h, path) for h in _field(answer, "audit_path", list, path)])

    def consistency(self, first: int, second: int) -> list[bytes]:
        path = "/api/v1/transparency/proof/consistency"
        answer = self.json(path, first=first, second=second)
        return [_hash(h, path) for h in _field(answer, "proof", list, path)]

    def post_cosignature(self, note_text: str) -> Response:
        return self.fetch("POST", "/api/v1/transparency/cosignatures", note_text.encode(),
                          "text/plain; charset=utf-8")


def _field(answer, name: str, kind: type, path: str):
    if not isinstance(answer, dict) or not isinstance(answer.get(name), kind):
        raise Unreachable(f"{path}: the answer has no {name} ({kind.__name__})")
    return answer[name]


def _hash(text, path: str) -> bytes:
    try:
        return tlog.b64decode(text) if isinstance(text, str) else b""
    except tlog.FormatError as error:
        raise Unreachable(f"{path}: {error}") from error
