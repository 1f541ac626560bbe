"""Stand-in for the Official Account's template messages (模板消息).

  POST cgi-bin/message/template/send?access_token=…   JSON {touser, template_id, url, data}
                                                       → {errcode: 0, errmsg: "ok", msgid}
  GET  standin/messages[?touser=…]                     the messages sent, oldest first

The access token must be one cgi-bin/token issued and not yet expired (40001 / 42001 as WeChat
answers, so wechatpy fetches a new one and retries); touser must look like an openid (40003),
template_id must be given (40037) and data must be an object of {"value": …} fields (47001).
"""
from __future__ import annotations

import json
import secrets

from flask import Blueprint, Response, current_app, request

from app.wechat_standin.state import StandinState

bp = Blueprint("standin_messages", __name__)

ERRORS = {
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40037: "invalid template_id",
    42001: "access_token expired",
    47001: "data format error",
}


def _state() -> StandinState:
    return current_app.extensions["standin_state"]


def sent_messages(standin) -> list[dict]:
    """The messages a stand-in app has accepted (for tests and the developer)."""
    return standin.extensions.setdefault("standin_messages", [])


def _json(payload: dict | list, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json")


def _error(errcode: int) -> Response:
    return _json({"errcode": errcode, "errmsg": f"{ERRORS[errcode]} rid: {secrets.token_hex(4)}"})


@bp.post("/cgi-bin/message/template/send")
def template_send():
    state = _state()
    with state.lock:
        expires_at = state.access_tokens.get(request.args.get("access_token", ""))
    if expires_at is None:
        return _error(40001)
    if expires_at < state.clock():
        return _error(42001)
    try:
        payload = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        return _error(47001)
    if not isinstance(payload, dict):
        return _error(47001)
    touser, template_id, data = (payload.get("touser"), payload.get("template_id"),
                                 payload.get("data"))
    if not isinstance(touser, str) or not touser.startswith("o") or len(touser) > 64:
        return _error(40003)
    if not isinstance(template_id, str) or not template_id:
        return _error(40037)
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()):
        return _error(47001)
    msgid = secrets.randbelow(10 ** 15)
    messages = sent_messages(current_app)
    with state.lock:
        messages.append({"msgid": msgid, "touser": touser, "template_id": template_id,
                         "url": payload.get("url"), "data": data, "at": state.clock()})
    return _json({"errcode": 0, "errmsg": "ok", "msgid": msgid})


@bp.get("/standin/messages")
def list_messages():
    touser = request.args.get("touser")
    with _state().lock:
        rows = [m for m in sent_messages(current_app) if touser in (None, m["touser"])]
    return _json(rows)
