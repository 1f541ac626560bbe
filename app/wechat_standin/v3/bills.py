"""Stand-in for WeChat Pay APIv3's bills (下载账单), built from the stand-in's own orders.

  GET /v3/bill/tradebill?bill_date=&bill_type=ALL|SUCCESS|REFUND&tar_type=GZIP
  GET /v3/bill/fundflowbill?bill_date=&account_type=BASIC&tar_type=GZIP
        {"hash_type": "SHA1", "hash_value": sha1(the bill before gzip), "download_url": …}
        400 NO_STATEMENT_EXIST for a day without any line; 400 STATEMENT_CREATING for today
  GET /v3/billdownload/file?token=…   the file (gzip when asked), 30 s after it was applied for;
        a signed request like every v3 call
  POST   /standin/v3/bill/<bill_date>/tamper   test hook, JSON {"drop": [out_trade_no|
        out_refund_no|out_bill_no…], "add": [{"out_trade_no", "amount_fen", "fee_fen"}|
        {"out_bill_no", "amount_fen"}…], "fee": {ref: fee_fen}, "amount": {out_bill_no: fen},
        "hash": "wrong"}: what that day's bills get wrong (a payment or refund line of the
        trade bill, a 商家转账 line of the fund-flow bill; "hash" spoils the trade bill's)
  DELETE /standin/v3/bill/<bill_date>/tamper   forget it

A payment is in the bill of the China day it was paid (交易时间 = its success time), a refund in
the bill of the day WeChat accepted it. Fees are those the stand-in charged (billing.py: its
rate, rounded half up to the fen per order; on a refund, the part returned). A 商家转账 is in the
fund-flow bill of the day it succeeded (its recipient confirmed): one 支出 line, no fee, with
WeChat's transfer_bill_no as 微信支付业务单号 and our out_bill_no as 业务凭证号. A bill closed or
cancelled moved no money and has no line.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import secrets
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, current_app, jsonify, request

from app.wechat_standin.v3.protocol import CHINA, error, param_error, respond, signed_endpoint
from app.wechat_standin.v3.transfer import succeeded_on

bp = Blueprint("standin_bills_v3", __name__)
DOWNLOAD_SECONDS = 30
KEPT_DAYS = 90
TRADE_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
                "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
                "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
                "费率备注").split(",")
TRADE_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
FUND_HEADER = ("记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),"
               "账户结余(元),资金变更提交申请人,备注,业务凭证号").split(",")
FUND_SUMMARY = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额"
# 业务名称 / 业务类型 of a 商家转账 line. WeChat's published file format lists the columns, not
# their values; "商家转账" is the product's own name (before 2025: 企业付款), as bills/parse.py reads.
TRANSFER_NAME = TRANSFER_TYPE = "商家转账"


def _state():
    return current_app.extensions["standin_state"]


def _store() -> dict:
    """Files applied for (token → …) and each day's tampering, beside the stand-in's state."""
    return current_app.extensions.setdefault("standin_bills", {"files": {}, "tamper": {}})


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _rate(bp: int) -> str:
    return f"{bp / 100:.2f}%"


def _china_day(text: str, fmt: str) -> date | None:
    return datetime.strptime(text, fmt).date() if text else None


def _csv(header: list[str], rows: list[list[str]], summary_header: str,
         summary: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[f"`{cell}" for cell in row] for row in rows])
    writer.writerow(summary_header.split(","))
    writer.writerow([f"`{cell}" for cell in summary])
    return out.getvalue().encode("utf-8")


def _day_lines(day: date) -> tuple[list[dict], list[dict]]:
    """(paid orders, accepted refunds) of the China day, as copies."""
    state = _state()
    with state.lock:
        orders = [dict(o) for o in state.orders.values() if o.get("time_end")
                  and _china_day(o["time_end"], "%Y%m%d%H%M%S") == day]
        refunds = [dict(r) for r in state.refunds.values() if r.get("success_time")
                   and _china_day(r["success_time"], "%Y-%m-%d %H:%M:%S") == day]
        by_no = {o["out_trade_no"]: dict(o) for o in state.orders.values()}
    for refund in refunds:
        refund["order"] = by_no.get(refund["out_trade_no"], {})
    return orders, refunds


def _payment_row(order: dict, fee: int) -> list[str]:
    cfg = current_app.config
    paid = datetime.strptime(order["time_end"], "%Y%m%d%H%M%S")
    return [f"{paid:%Y-%m-%d %H:%M:%S}", order.get("appid") or cfg["APPID"],
            order.get("mchid") or cfg["MCH_ID"], "0", "", order["transaction_id"],
            order["out_trade_no"], order.get("openid") or "", order["trade_type"], "SUCCESS",
            "OTHERS", "CNY", _yuan(order["total_fee"]), "0.00", "0", "0", "0.00", "0.00", "", "",
            order.get("body", ""), order.get("attach") or "", _yuan(fee),
            _rate(order.get("fee_rate_bp", 0)), _yuan(order["total_fee"]), "0.00", ""]


def _refund_row(refund: dict, fee: int) -> list[str]:
    cfg, order = current_app.config, refund["order"]
    return [refund["success_time"], order.get("appid") or cfg["APPID"],
            order.get("mchid") or cfg["MCH_ID"], "0", "", refund["transaction_id"],
            refund["out_trade_no"], order.get("openid") or "", order.get("trade_type", ""),
            "REFUND", "OTHERS", "CNY", "0.00", "0.00", refund["refund_id"],
            refund["out_refund_no"], _yuan(refund["refund_fee"]), "0.00", "ORIGINAL", "SUCCESS",
            order.get("body", ""), order.get("attach") or "", _yuan(-fee),
            _rate(order.get("fee_rate_bp", 0)), "0.00", _yuan(refund["refund_fee"]), ""]


def trade_bill(day: date, bill_type: str = "ALL") -> bytes | None:
    orders, refunds = _day_lines(day)
    tamper = _store()["tamper"].get(day.isoformat(), {})
    drop, fees = set(tamper.get("drop", ())), tamper.get("fee", {})
    rows: list[tuple[list[str], int, int, int]] = []  # row, settled, refunded, signed fee
    if bill_type in ("ALL", "SUCCESS"):
        for order in orders:
            if order["out_trade_no"] not in drop:
                fee = int(fees.get(order["out_trade_no"], order.get("fee", 0)))
                rows.append((_payment_row(order, fee), order["total_fee"], 0, fee))
        for extra in (e for e in tamper.get("add", ()) if "out_bill_no" not in e):
            invented = {"time_end": datetime.fromtimestamp(_state().clock(), CHINA)
                        .strftime("%Y%m%d%H%M%S"),
                        "transaction_id": f"4200{secrets.randbelow(10 ** 24):024d}",
                        "out_trade_no": extra["out_trade_no"], "trade_type": "NATIVE",
                        "total_fee": int(extra["amount_fen"]), "fee_rate_bp": 60, "body": ""}
            rows.append((_payment_row(invented, int(extra["fee_fen"])), invented["total_fee"],
                         0, int(extra["fee_fen"])))
    if bill_type in ("ALL", "REFUND"):
        for refund in refunds:
            if refund["out_refund_no"] not in drop:
                fee = int(fees.get(refund["out_refund_no"], refund.get("fee_returned", 0)))
                rows.append((_refund_row(refund, fee), 0, refund["refund_fee"], -fee))
    if not rows:
        return None
    settled = sum(r[1] for r in rows)
    refunded = sum(r[2] for r in rows)
    return _csv(TRADE_HEADER, [r[0] for r in rows], TRADE_SUMMARY,
                [str(len(rows)), _yuan(settled), _yuan(refunded), "0.00",
                 _yuan(sum(r[3] for r in rows)), _yuan(settled), _yuan(refunded)])


def _transfer_moves(day: date, tamper: dict) -> list[tuple[str, str, str, str, bool, int, str]]:
    drop, amounts = set(tamper.get("drop", ())), tamper.get("amount", {})
    moves = []
    for bill in succeeded_on(day):
        if bill["out_bill_no"] in drop:
            continue
        paid = datetime.fromisoformat(bill["update_time"]).astimezone(CHINA)
        moves.append((f"{paid:%Y-%m-%d %H:%M:%S}", bill["transfer_bill_no"], TRANSFER_NAME,
                      TRANSFER_TYPE, False,
                      int(amounts.get(bill["out_bill_no"], bill["transfer_amount"])),
                      bill["out_bill_no"]))
    for extra in (e for e in tamper.get("add", ()) if "out_bill_no" in e):
        moves.append((f"{day} 12:00:00", f"1330{day:%Y%m%d}{secrets.randbelow(10 ** 28):028d}",
                      TRANSFER_NAME, TRANSFER_TYPE, False, int(extra["amount_fen"]),
                      extra["out_bill_no"]))
    return moves


def fundflow_bill(day: date) -> bytes | None:
    orders, refunds = _day_lines(day)
    moves: list[tuple[str, str, str, str, bool, int, str]] = []
    for order in orders:
        time_ = f"{datetime.strptime(order['time_end'], '%Y%m%d%H%M%S'):%Y-%m-%d %H:%M:%S}"
        moves.append((time_, order["transaction_id"], "交易", "交易", True, order["total_fee"],
                      order["out_trade_no"]))
        if order.get("fee"):
            moves.append((time_, order["transaction_id"], "手续费", "扣除交易手续费", False,
                          order["fee"], order["out_trade_no"]))
    for refund in refunds:
        moves.append((refund["success_time"], refund["refund_id"], "退款", "退款", False,
                      refund["refund_fee"], refund["out_refund_no"]))
        if refund.get("fee_returned"):
            moves.append((refund["success_time"], refund["refund_id"], "手续费", "退还交易手续费",
                          True, refund["fee_returned"], refund["out_refund_no"]))
    moves += _transfer_moves(day, _store()["tamper"].get(day.isoformat(), {}))
    if not moves:
        return None
    moves.sort(key=lambda m: m[0])
    balance, rows = 0, []
    for at, business_no, name, kind, income, amount, voucher in moves:
        balance += amount if income else -amount
        rows.append([at, business_no, f"{secrets.randbelow(10 ** 20):020d}", name, kind,
                     "收入" if income else "支出", _yuan(amount), _yuan(balance), "system", "",
                     voucher])
    incomes = [m for m in moves if m[4]]
    expenses = [m for m in moves if not m[4]]
    return _csv(FUND_HEADER, rows, FUND_SUMMARY,
                [str(len(moves)), str(len(incomes)), _yuan(sum(m[5] for m in incomes)),
                 str(len(expenses)), _yuan(sum(m[5] for m in expenses))])


def _bill_day() -> date | Response:
    text = request.args.get("bill_date", "")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return param_error("bill_date 格式须为 yyyy-MM-DD", "bill_date")
    today = datetime.fromtimestamp(_state().clock(), CHINA).date()
    if day >= today:
        return error(400, "STATEMENT_CREATING", "账单生成中，请次日10点后再获取")
    if day < today - timedelta(days=KEPT_DAYS):
        return param_error("仅支持三个月内的账单下载申请", "bill_date")
    return day


def _apply(content: bytes | None, tar_type: str | None, wrong_hash: bool = False) -> Response:
    if content is None:
        return error(400, "NO_STATEMENT_EXIST", "该日期账单不存在")
    if tar_type not in (None, "GZIP"):
        return param_error("tar_type 仅支持 GZIP", "tar_type")
    digest = hashlib.sha1(content + (b"tampered" if wrong_hash else b"")).hexdigest()
    token, files, now = secrets.token_urlsafe(24), _store()["files"], _state().clock()
    for stale in [t for t, held in list(files.items()) if held["expires"] < now]:
        files.pop(stale, None)
    files[token] = {"content": content, "gzip": tar_type == "GZIP",
                                "expires": now + DOWNLOAD_SECONDS}
    return respond({"hash_type": "SHA1", "hash_value": digest,
                    "download_url": f"{request.host_url}v3/billdownload/file?token={token}"})


@bp.get("/v3/bill/tradebill")
@signed_endpoint
def apply_trade_bill():
    day = _bill_day()
    if isinstance(day, Response):
        return day
    bill_type = request.args.get("bill_type", "ALL")
    if bill_type not in ("ALL", "SUCCESS", "REFUND"):
        return param_error("bill_type 可选 ALL、SUCCESS、REFUND", "bill_type")
    wrong = bool(_store()["tamper"].get(day.isoformat(), {}).get("hash"))
    return _apply(trade_bill(day, bill_type), request.args.get("tar_type"), wrong)


@bp.get("/v3/bill/fundflowbill")
@signed_endpoint
def apply_fundflow_bill():
    day = _bill_day()
    if isinstance(day, Response):
        return day
    if request.args.get("account_type", "BASIC") != "BASIC":
        return error(400, "NO_STATEMENT_EXIST", "该资金账户无账单")
    return _apply(fundflow_bill(day), request.args.get("tar_type"))


@bp.get("/v3/billdownload/file")
@signed_endpoint
def download():
    held = _store()["files"].get(request.args.get("token", ""))
    if held is None or held["expires"] < _state().clock():
        return error(400, "INVALID_REQUEST", "下载链接无效或已过期，请重新申请账单")
    body = gzip.compress(held["content"]) if held["gzip"] else held["content"]
    return Response(body, content_type="application/octet-stream" if held["gzip"]
                    else "text/plain; charset=utf-8")


@bp.route("/standin/v3/bill/<bill_date>/tamper", methods=["POST", "DELETE"])
def tamper(bill_date: str):
    try:
        day = date.fromisoformat(bill_date).isoformat()
    except ValueError:
        return jsonify(error="bill_date must be YYYY-MM-DD"), 400
    if request.method == "DELETE":
        _store()["tamper"].pop(day, None)
        return jsonify(bill_date=day, tamper=None)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="a JSON object: drop, add, fee, amount, hash"), 400
    _store()["tamper"][day] = data
    return jsonify(bill_date=day, tamper=data)
