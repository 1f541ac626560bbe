"""A person's WeChat transfers (我的 · 领取) and WeChat's transfer notice. Thin: parse, call a
service, render.

  GET  /me/transfers                   what went or is waiting for them, with 领取 buttons
  GET  /me/transfers/<id>/receive      the stand-in's confirmation page (inside real WeChat the
                                       page calls wx.requestMerchantTransfer instead)
  POST /wechat/pay/v3/transfer_notify  MCHTRANSFER.BILL.FINISHED, settled once
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, \
    request, url_for
from flask_login import current_user

from app.auth.decorators import organizer_required
from app.extensions import csrf
from app.payouts import transfers
from app.payouts.provider import TransferNoticeRejected, get_payout_provider

log = logging.getLogger(__name__)
bp = Blueprint("transfers", __name__)
MAX_NOTICE_BYTES = 16 * 1024


def _provider():
    return get_payout_provider(transfers.PROVIDER)


@bp.get("/me/transfers")
@organizer_required
def mine():
    rows = transfers.transfers_of(current_user.id)
    in_wechat = "MicroMessenger" in (request.user_agent.string or "")
    wx_config = None
    if in_wechat and any(t.status.value == "waiting_user" for t in rows):
        from app.wechat.jssdk import config_for, script_url

        wx_config = config_for(request.url, ["requestMerchantTransfer"])
        wx_config = wx_config and {"config": wx_config, "script": script_url()}
    labels = {t.purpose: _label(t.purpose) for t in rows}
    return render_template("payouts/my_transfers.html", transfers=rows, labels=labels,
                           wx=wx_config, mch_id=current_app.config["WECHAT_MCH_ID"],
                           app_id=current_app.config["WECHAT_APPID"])


def _label(purpose: str) -> str:
    try:
        return transfers.purpose_of(purpose).label
    except KeyError:
        return "转账"


@bp.get("/me/transfers/<id:transfer_id>/receive")
@organizer_required
def receive(transfer_id: int):
    transfer = transfers.waiting_for(current_user.id, transfer_id)
    if transfer is None:
        abort(404)
    url = _provider().confirm_url(transfer.package_info, url_for(".mine", _external=True))
    if url is None:
        flash("请在微信中打开本页，点击“领取”确认收款。", "error")
        return redirect(url_for(".mine"))
    return redirect(url)


@bp.post("/wechat/pay/v3/transfer_notify")
@csrf.exempt  # signed by WeChat's platform key, as payment notices are
def notify():
    body = request.get_data(cache=False)
    if request.content_length and request.content_length > MAX_NOTICE_BYTES or \
            len(body) > MAX_NOTICE_BYTES:
        return _fail(413, "通知过大")
    try:
        result = _provider().parse_notice(body, request.headers)
    except TransferNoticeRejected as rejected:
        log.warning("transfer notice rejected: verdict=%s %s", rejected.verdict, rejected.detail)
        return _fail(400 if rejected.verdict != "bad_signature" else 401, rejected.verdict)
    outcome = transfers.settle(result.transfer_id, result)
    if outcome in ("missing", "amount_mismatch"):
        log.warning("transfer notice for %s: verdict=%s", result.transfer_id, outcome)
        return _fail(404 if outcome == "missing" else 400, outcome)
    log.info("transfer notice for %s: %s", result.transfer_id, outcome)
    return Response(status=204)


def _fail(status: int, message: str) -> Response:
    return Response(json.dumps({"code": "FAIL", "message": message}, ensure_ascii=False),
                    status=status, content_type="application/json")
