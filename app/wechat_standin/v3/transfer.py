"""Stand-in for WeChat Pay APIv3's 商家转账 (the 2025 version, in which the recipient confirms).

  POST /v3/fund-app/mch-transfer/transfer-bills           create: WAIT_USER_CONFIRM + package_info
  GET  /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}
  GET  /v3/fund-app/mch-transfer/transfer-bills/transfer-bill-no/{transfer_bill_no}
  POST /v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}/cancel   CANCELING
  GET  /standin/transfer/confirm?package=…&return=…       WeChat's own confirmation page (what
                                                          wx.requestMerchantTransfer opens)
  POST /standin/transfer/confirm/<action>                 the tester confirms or declines
  POST /standin/v3/transfer/<out_bill_no>/confirm | /expire | /notify?copies=N   test hooks
  GET  /standin/v3/transfer/<out_bill_no>                 test hook: the bill as the stand-in
                                                          holds it (user_name decrypted)

A repeated create with the same out_bill_no answers the same bill (never a second one). A
bill left unconfirmed for TRANSFER_CONFIRM_SECONDS (24 h, as WeChat) is closed: FAIL with
fail_reason OVERDUE_CLOSE, and the money goes back. Every final state (SUCCESS, FAIL,
CANCELLED) is notified with MCHTRANSFER.BILL.FINISHED, resource AEAD_AES_256_GCM
(original_type and associated_data "mch_payment"), resent until answered with 200/204.
`user_name` (required from 2,000 yuan) must be RSA-OAEP encrypted with the platform key the
request names in Wechatpay-Serial.
"""
from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from app.wechat_standin.delivery import fire_copies, send_async
from app.wechat_standin.v3 import crypto
from app.wechat_standin.v3.protocol import (CHINA, error, json_body, keys, make_notice,
                                            param_error, respond, rfc3339, signed_endpoint)

bp = Blueprint("standin_transfer_v3", __name__)
PATH = "/v3/fund-app/mch-transfer/transfer-bills"
OUT_BILL_NO = re.compile(r"^[0-9A-Za-z]{1,32}$")
MIN_FEN = 10                      # 0.1 yuan
USER_NAME_FROM_FEN = 2_000_00     # user_name required from 2,000 yuan
CONFIRM_SECONDS = 24 * 3600
FINAL = ("SUCCESS", "FAIL", "CANCELLED")
CANCELLABLE = ("ACCEPTED", "PROCESSING", "WAIT_USER_CONFIRM", "TRANSFERING")
REQUIRED = ("appid", "out_bill_no", "transfer_scene_id", "openid", "transfer_amount",
            "transfer_remark", "transfer_scene_report_infos")


def _state():
    return current_app.extensions["standin_state"]


def _bills() -> dict:
    """out_bill_no → bill, and package_info → out_bill_no, beside the stand-in's state."""
    return current_app.extensions.setdefault("standin_transfers", {"bills": {}, "packages": {}})


def _now() -> float:
    return _state().clock()


def _confirm_seconds() -> float:
    return float(current_app.config.get("TRANSFER_CONFIRM_SECONDS", CONFIRM_SECONDS))


def _finish(bill: dict, state: str, reason: str = "") -> bool:
    """Move an open bill to a final state (under the lock); False if it was final already."""
    if bill["state"] in FINAL:
        return False
    bill.update(state=state, fail_reason=reason, update_time=rfc3339(_now()))
    return True


def _notify(bill: dict) -> None:
    if bill.get("notify_url"):
        send_async(_state(), bill["notify_url"], bill_notice(bill),
                   tuple(current_app.config["RESEND_SCHEDULE"]), "transfer", bill["out_bill_no"])


def _overdue(bill: dict) -> bool:
    """WeChat closes a bill its recipient left unconfirmed; True when this call closed it."""
    if bill["state"] == "WAIT_USER_CONFIRM" and _now() - bill["created_at"] > _confirm_seconds():
        return _finish(bill, "FAIL", "OVERDUE_CLOSE")
    return False


def _find(out_bill_no: str) -> dict | None:
    """The bill (a copy), closed first if it is overdue (and then notified)."""
    with _state().lock:
        bill = _bills()["bills"].get(out_bill_no)
        closed = bill is not None and _overdue(bill)
        bill = dict(bill) if bill else None
    if closed:
        _notify(bill)
    return bill


def succeeded_on(day) -> list[dict]:
    """Copies of the bills paid out (SUCCESS) on that China day: what the fund-flow bill shows."""
    with _state().lock:
        return [dict(bill) for bill in _bills()["bills"].values() if bill["state"] == "SUCCESS"
                and datetime.fromisoformat(bill["update_time"]).astimezone(CHINA).date() == day]


def bill_object(bill: dict) -> dict:
    data = {"mch_id": current_app.config["MCH_ID"], "out_bill_no": bill["out_bill_no"],
            "transfer_bill_no": bill["transfer_bill_no"], "appid": bill["appid"],
            "state": bill["state"], "transfer_amount": bill["transfer_amount"],
            "transfer_remark": bill["transfer_remark"], "openid": bill["openid"],
            "create_time": bill["create_time"], "update_time": bill["update_time"]}
    if bill.get("fail_reason"):
        data["fail_reason"] = bill["fail_reason"]
    return data


def bill_notice(bill: dict):
    plain = {key: value for key, value in bill_object(bill).items()
             if key not in ("appid", "transfer_remark")}
    return make_notice("MCHTRANSFER.BILL.FINISHED", "商家转账单据终态通知", "mch_payment", plain,
                       bill.get("v3_serial") or "")


def _created(bill: dict) -> dict:
    data = {"out_bill_no": bill["out_bill_no"], "transfer_bill_no": bill["transfer_bill_no"],
            "create_time": bill["create_time"], "state": bill["state"]}
    if bill["state"] == "WAIT_USER_CONFIRM":
        data["package_info"] = bill["package_info"]
    if bill.get("fail_reason"):
        data["fail_reason"] = bill["fail_reason"]
    return data


def _invalid(data: dict) -> Response | None:
    for name in REQUIRED:
        if data.get(name) in (None, "", []):
            return param_error(f"输入源“/body/{name}”映射到字段“{name}”必填性规则校验失败，"
                               "此字段为必填项", name)
    if data["appid"] != current_app.config["APPID"]:
        return error(400, "INVALID_REQUEST", "appid与商户号不匹配")
    if not isinstance(data["out_bill_no"], str) or not OUT_BILL_NO.match(data["out_bill_no"]):
        return param_error("out_bill_no 只能由数字、大小写字母组成，最长32位", "out_bill_no")
    amount = data["transfer_amount"]
    if type(amount) is not int or amount < MIN_FEN:
        return param_error("transfer_amount 须为整数（分），且不少于0.1元", "transfer_amount")
    if not isinstance(data["transfer_remark"], str) or len(data["transfer_remark"]) > 32:
        return param_error("transfer_remark 最多32个字符", "transfer_remark")
    if not isinstance(data["openid"], str) or len(data["openid"]) > 64:
        return param_error("openid 格式错误", "openid")
    infos = data["transfer_scene_report_infos"]
    if not isinstance(infos, list) or not all(
            isinstance(i, dict) and i.get("info_type") and i.get("info_content") for i in infos):
        return param_error("transfer_scene_report_infos 须为 {info_type, info_content} 列表",
                           "transfer_scene_report_infos")
    url = data.get("notify_url")
    if url is not None and (not isinstance(url, str) or "?" in url
                            or urlsplit(url).scheme not in ("http", "https")):
        return param_error("notify_url 须为不带参数的http(s)地址", "notify_url")
    if amount >= USER_NAME_FROM_FEN and not data.get("user_name"):
        return param_error("转账金额 >= 2,000元时，user_name 必填", "user_name")
    return None


def _user_name(data: dict) -> str | Response | None:
    """The decrypted user_name, None when not given, or WeChat's refusal."""
    cipher = data.get("user_name")
    if not cipher:
        return None
    key = keys().by_serial(request.headers.get("Wechatpay-Serial"))
    plain = crypto.oaep_decrypt(key.private_key, cipher) if key and isinstance(cipher, str) \
        else None
    if plain is None:
        return param_error("user_name 解密失败，请使用 Wechatpay-Serial 对应的微信支付公钥或"
                           "平台证书加密", "user_name")
    return plain


@bp.post(PATH)
@signed_endpoint
def create():
    data = json_body()
    if isinstance(data, Response):
        return data
    refusal = _invalid(data)
    if refusal is not None:
        return refusal
    user_name = _user_name(data)
    if isinstance(user_name, Response):
        return user_name
    out_bill_no, now = data["out_bill_no"], _now()
    with _state().lock:
        bill = _bills()["bills"].get(out_bill_no)
        if bill is not None:
            if (bill["transfer_amount"] != data["transfer_amount"]
                    or bill["openid"] != data["openid"]):
                return error(400, "INVALID_REQUEST", "商户单号重复，与原单据参数不一致")
            closed, answer, copy = _overdue(bill), _created(bill), dict(bill)
        else:
            closed, answer, copy = False, None, None
    if copy is not None:
        if closed:
            _notify(copy)
        return respond(answer)
    with _state().lock:
        if out_bill_no in _bills()["bills"]:  # a twin request made it meanwhile
            return respond(_created(_bills()["bills"][out_bill_no]))
        package = base64.b64encode(secrets.token_bytes(48)).decode()
        stamp = rfc3339(now)
        bill = {"out_bill_no": out_bill_no, "appid": data["appid"],
                "transfer_bill_no": f"1330{datetime.fromtimestamp(now, CHINA):%Y%m%d}"
                                    f"{secrets.randbelow(10 ** 28):028d}",
                "transfer_scene_id": data["transfer_scene_id"], "openid": data["openid"],
                "transfer_amount": data["transfer_amount"],
                "transfer_remark": data["transfer_remark"],
                "user_recv_perception": data.get("user_recv_perception") or "",
                "transfer_scene_report_infos": data["transfer_scene_report_infos"],
                "user_name": user_name, "notify_url": data.get("notify_url"),
                "state": "WAIT_USER_CONFIRM", "fail_reason": "", "package_info": package,
                "create_time": stamp, "update_time": stamp, "created_at": now,
                "v3_serial": request.headers.get("Wechatpay-Serial") or ""}
        _bills()["bills"][out_bill_no] = bill
        _bills()["packages"][package] = out_bill_no
        answer = _created(bill)
    return respond(answer)


@bp.get(f"{PATH}/out-bill-no/<out_bill_no>")
@signed_endpoint
def query(out_bill_no: str):
    bill = _find(out_bill_no)
    if bill is None:
        return error(404, "NOT_FOUND", "记录不存在")
    return respond(bill_object(bill))


@bp.get(f"{PATH}/transfer-bill-no/<transfer_bill_no>")
@signed_endpoint
def query_by_transfer_bill_no(transfer_bill_no: str):
    with _state().lock:
        out_bill_no = next((no for no, b in _bills()["bills"].items()
                            if b["transfer_bill_no"] == transfer_bill_no), None)
    bill = _find(out_bill_no) if out_bill_no else None
    if bill is None:
        return error(404, "NOT_FOUND", "记录不存在")
    return respond(bill_object(bill))


@bp.post(f"{PATH}/out-bill-no/<out_bill_no>/cancel")
@signed_endpoint
def cancel(out_bill_no: str):
    with _state().lock:
        bill = _bills()["bills"].get(out_bill_no)
        if bill is None:
            return error(404, "NOT_FOUND", "记录不存在")
        closed = _overdue(bill)
        if bill["state"] not in CANCELLABLE:
            refusal = error(400, "INVALID_REQUEST", f"单据状态为{bill['state']}，不允许撤销")
            copy = dict(bill)
        else:
            answer = {"out_bill_no": out_bill_no, "transfer_bill_no": bill["transfer_bill_no"],
                      "state": "CANCELING", "update_time": rfc3339(_now())}
            # The stand-in's money comes back at once: the bill is CANCELLED right after.
            _finish(bill, "CANCELLED")
            refusal, copy = None, dict(bill)
    if closed or refusal is None:
        _notify(copy)
    return refusal if refusal is not None else respond(answer)


# --- WeChat's confirmation page, and the test hooks ---------------------------------------

def _return_url() -> str | None:
    url = request.values.get("return", "")
    return url if urlsplit(url).scheme in ("http", "https") else None


def _by_package(package: str) -> dict | None:
    with _state().lock:
        out_bill_no = _bills()["packages"].get(package or "")
    return _find(out_bill_no) if out_bill_no else None


def _confirm(out_bill_no: str) -> dict | None:
    """The recipient confirms: the money moves at once (TRANSFERING → SUCCESS)."""
    with _state().lock:
        bill = _bills()["bills"].get(out_bill_no)
        closed = bill is not None and _overdue(bill)
        done = bill is not None and bill["state"] == "WAIT_USER_CONFIRM" and \
            _finish(bill, "SUCCESS")
        copy = dict(bill) if bill else None
    if closed or done:
        _notify(copy)
    return copy if done else None


@bp.get("/standin/transfer/confirm")
def confirm_page():
    bill = _by_package(request.args.get("package", ""))
    if bill is None:
        return render_template("standin/pay_error.html", message="转账单不存在"), 404
    return render_template("standin/transfer_confirm.html", bill=bill,
                           package=request.args.get("package"), return_url=_return_url(),
                           merchant=current_app.config["MCH_ID"])


@bp.post("/standin/transfer/confirm/<action>")
def confirm_action(action: str):
    bill = _by_package(request.form.get("package", ""))
    if bill is None or action not in ("confirm", "later"):
        return render_template("standin/pay_error.html", message="转账单不存在"), 404
    if action == "confirm":
        bill = _confirm(bill["out_bill_no"]) or bill
    return render_template("standin/transfer_confirm.html", bill=bill, package=None,
                           return_url=_return_url(), merchant=current_app.config["MCH_ID"])


@bp.post("/standin/v3/transfer/<out_bill_no>/confirm")
def confirm_hook(out_bill_no: str):
    bill = _confirm(out_bill_no)
    if bill is None:
        return jsonify(error="no such open bill"), 404
    return jsonify(out_bill_no=out_bill_no, state=bill["state"])


@bp.post("/standin/v3/transfer/<out_bill_no>/expire")
def expire_hook(out_bill_no: str):
    """WeChat closes the unconfirmed bill now; ?notify=0 closes it without a notice."""
    with _state().lock:
        bill = _bills()["bills"].get(out_bill_no)
        if bill is None or bill["state"] != "WAIT_USER_CONFIRM":
            return jsonify(error="no such bill waiting for its recipient"), 404
        _finish(bill, "FAIL", "OVERDUE_CLOSE")
        copy = dict(bill)
    if request.args.get("notify", "1") != "0":
        _notify(copy)
    return jsonify(out_bill_no=out_bill_no, state=copy["state"])


@bp.post("/standin/v3/transfer/<out_bill_no>/notify")
def notify_hook(out_bill_no: str):
    copies = max(1, min(request.args.get("copies", 1, type=int), 100))
    bill = _find(out_bill_no)
    if bill is None or bill["state"] not in FINAL or not bill.get("notify_url"):
        return jsonify(error="no such final bill with a notify_url"), 404
    results = fire_copies(_state(), bill["notify_url"], bill_notice(bill), copies,
                          ref=out_bill_no)
    return jsonify(out_bill_no=out_bill_no, state=bill["state"], acknowledged=results)


@bp.get("/standin/v3/transfer/<out_bill_no>")
def bill_hook(out_bill_no: str):
    bill = _find(out_bill_no)
    if bill is None:
        return jsonify(error="no such bill"), 404
    bill.pop("created_at", None)
    return jsonify(bill)
