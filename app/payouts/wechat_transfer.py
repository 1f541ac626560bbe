"""商家转账 (WeChat Pay APIv3, the 2025 version in which the recipient confirms) as a payout
provider for people: `mch_transfer_bills`, `_query`, `_cancel` of wechatpayv3, through the one
client of app/wechat/pay_v3_client.py, and the MCHTRANSFER.BILL.FINISHED notice.

- `transfer` is idempotent by `out_bill_no` (our transfer id): WeChat answers the same bill for
  the same number. WeChat asks merchants never to change the number after an unclear answer,
  so any answer that is not a bill is followed by a query: only "no such bill" is a failure.
- `user_name` is sent (RSA-OAEP under the platform key, the library encrypts it) only from
  2,000 yuan, where WeChat requires it.
- The notice is checked before the library sees it, as payments' v3 notices are: size,
  headers, the serial one of ours, the timestamp within 5 minutes, the envelope; then the
  library verifies the signature and decrypts; after, the merchant and the fields.
"""
from __future__ import annotations

import json
import logging
from typing import Mapping
from urllib.parse import urlencode

import requests
from flask import current_app

from app.payouts.provider import (PayoutProvider, PayoutUnavailable, TransferNoticeRejected,
                                  TransferRequest, TransferResult)
from app.wechat.pay_v3_client import PayV3NotConfigured, library_failure, pay_v3_client
from app.wechat.pay_v3_notices import NoticeRefused, decrypted_resource

log = logging.getLogger(__name__)
USER_NAME_FROM_FEN = 2_000_00
EVENT = "MCHTRANSFER.BILL.FINISHED"
STATES = {"WAIT_USER_CONFIRM": "waiting_user", "SUCCESS": "succeeded", "FAIL": "failed",
          "CANCELLED": "failed", "ACCEPTED": "processing", "PROCESSING": "processing",
          "TRANSFERING": "processing", "CANCELING": "processing"}
FINAL_STATES = ("SUCCESS", "FAIL", "CANCELLED")
FAIL_REASONS = {"OVERDUE_CLOSE": "超过 24 小时未确认收款，微信已关闭该转账",
                "PAYEE_ACCOUNT_ABNORMAL": "收款人微信账户异常",
                "REAL_NAME_CHECK_FAIL": "收款人未实名或姓名不符",
                "NAME_NOT_CORRECT": "收款人姓名与实名不符"}
DEFAULT_REPORT_INFOS = (("活动名称", "相助善款返还"), ("奖励说明", "按约定返还给用户的款项"))


class WeChatTransferProvider(PayoutProvider):
    name = "wechat_transfer"
    notify_path = "/wechat/pay/v3/transfer_notify"

    def __init__(self, client=None):
        cfg = current_app.config
        self.appid: str = cfg["WECHAT_APPID"]
        self.mchid: str = cfg["WECHAT_MCH_ID"]
        self.scene_id: str = str(cfg.get("WECHAT_TRANSFER_SCENE_ID") or "1000")
        self.perception: str = cfg.get("WECHAT_TRANSFER_RECV_PERCEPTION") or "现金奖励"
        self._client = client

    @property
    def client(self):
        if self._client is None:
            try:
                self._client = pay_v3_client()
            except PayV3NotConfigured as error:
                raise PayoutUnavailable("微信支付 APIv3 未配置") from error
            except requests.RequestException as error:
                raise PayoutUnavailable("暂时无法连接微信支付") from error
            except Exception as error:  # noqa: BLE001 — the library's own, re-raised otherwise
                if not library_failure(error):
                    raise
                raise PayoutUnavailable("微信支付平台证书无法获取") from error
        return self._client

    def notify_url(self) -> str:
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + self.notify_path

    def _call(self, func, *args, **kwargs) -> tuple[int, dict]:
        """(HTTP status, JSON object) of WeChat's answer; PayoutUnavailable when there is none
        we can trust (no connection, a response whose signature does not verify)."""
        try:
            status, text = func(*args, **kwargs)
        except requests.RequestException as error:
            raise PayoutUnavailable("暂时无法连接微信支付") from error
        except ValueError as error:  # a Wechatpay-Serial the library cannot even parse
            raise PayoutUnavailable("微信支付应答签名错误") from error
        except Exception as error:  # noqa: BLE001 — the library's own, re-raised otherwise
            if not library_failure(error):
                raise
            raise PayoutUnavailable(f"微信支付应答无法验证：{error}"[:100]) from error
        try:
            data = json.loads(text) if text else {}
        except (TypeError, ValueError) as error:
            raise PayoutUnavailable("微信支付返回了无法识别的内容") from error
        if not isinstance(data, dict):
            raise PayoutUnavailable("微信支付返回了无法识别的内容")
        if status >= 500 or status == 429:
            raise PayoutUnavailable(f"微信支付暂时不可用（{data.get('code') or status}）")
        return status, data

    def _result(self, transfer_id: str, data: dict, amount_fen: int | None = None) -> TransferResult:
        state = data.get("state")
        if data.get("out_bill_no") != transfer_id or state not in STATES:
            raise PayoutUnavailable("微信支付应答的转账单不符")
        amount = data.get("transfer_amount", amount_fen)
        if type(amount) is not int:
            raise PayoutUnavailable("微信支付应答缺少转账金额")
        reason = str(data.get("fail_reason") or "")
        message = FAIL_REASONS.get(reason, f"微信转账未成功（{reason or state}）") \
            if STATES[state] == "failed" else ""
        return TransferResult(transfer_id=transfer_id, state=STATES[state], amount_fen=amount,
                              custodian_ref=str(data.get("transfer_bill_no") or ""),
                              message=message, package_info=str(data.get("package_info") or ""),
                              wechat_state=state, fail_reason=reason)

    # --- the interface ----------------------------------------------------------------------

    def transfer(self, request: TransferRequest) -> TransferResult:
        if request.payee_kind != "wechat_user":
            raise ValueError("商家转账只能转给微信用户")
        user_name = request.account_name if request.amount_fen >= USER_NAME_FROM_FEN else None
        infos = [{"info_type": kind, "info_content": content}
                 for kind, content in DEFAULT_REPORT_INFOS]
        status, data = self._call(
            self.client.mch_transfer_bills, out_bill_no=request.transfer_id,
            transfer_scene_id=self.scene_id, openid=request.account_number,
            transfer_amount=request.amount_fen, transfer_remark=request.memo[:32],
            user_name=user_name, user_recv_perception=self.perception,
            transfer_scene_report_infos=infos, notify_url=self.notify_url())
        if status == 200:
            return self._result(request.transfer_id, data, request.amount_fen)
        # Not a bill: WeChat asks to query before assuming anything, never to renumber.
        log.warning("transfer %s refused: HTTP %s %s %s", request.transfer_id, status,
                    data.get("code"), str(data.get("message"))[:200])
        known = self.query(request.transfer_id)
        if known is not None:
            return known
        return TransferResult(request.transfer_id, "failed", request.amount_fen,
                              message=f"微信支付拒绝转账：{str(data.get('message') or '')[:80]}",
                              wechat_state="", fail_reason=str(data.get("code") or status))

    def query(self, transfer_id: str) -> TransferResult | None:
        status, data = self._call(self.client.mch_transfer_bills_query, out_bill_no=transfer_id)
        if status == 404 or data.get("code") == "NOT_FOUND":
            return None
        if status != 200:
            raise PayoutUnavailable(f"查询转账单失败（{data.get('code') or status}）")
        if data.get("mch_id", data.get("mchid", self.mchid)) != self.mchid:
            raise PayoutUnavailable("微信支付应答的商户号不符")
        return self._result(transfer_id, data)

    def cancel(self, transfer_id: str) -> TransferResult | None:
        """Withdraw a bill its recipient has not confirmed; WeChat answers CANCELING and the
        final state follows (queried here, and notified)."""
        status, data = self._call(self.client.mch_transfer_bills_cancel, transfer_id)
        if status not in (200, 400, 404):
            raise PayoutUnavailable(f"撤销转账失败（{data.get('code') or status}）")
        return self.query(transfer_id)

    def confirm_url(self, package_info: str, return_url: str) -> str | None:
        """Only the stand-in has a confirmation page we open; inside WeChat the page calls
        wx.requestMerchantTransfer instead."""
        base = current_app.config.get("WECHAT_API_BASE")
        if not (current_app.config.get("WECHAT_STANDIN") and base and package_info):
            return None
        query = urlencode({"package": package_info, "return": return_url})
        return f"{base}standin/transfer/confirm?{query}"

    # --- the notice -------------------------------------------------------------------------

    def parse_notice(self, body: bytes, headers: Mapping[str, str]) -> TransferResult:
        data = self._verified(body, headers)
        out_bill_no = data.get("out_bill_no")
        if data.get("mch_id", data.get("mchid")) != self.mchid:
            raise TransferNoticeRejected("wrong_merchant", f"mchid {str(data.get('mch_id'))[:40]!r}")
        if (not isinstance(out_bill_no, str) or data.get("state") not in FINAL_STATES
                or type(data.get("transfer_amount")) is not int):
            raise TransferNoticeRejected("malformed", "out_bill_no, a final state or "
                                                      "transfer_amount missing")
        try:
            return self._result(out_bill_no, data)
        except PayoutUnavailable as error:
            raise TransferNoticeRejected("malformed", str(error)) from error

    def _verified(self, body: bytes, headers: Mapping[str, str]) -> dict:
        # Transfer notices carry "mch_payment" as associated data (some are sent without).
        try:
            return decrypted_resource(self._notice_client, body, headers, ("mch_payment", ""),
                                      event_type=EVENT)
        except NoticeRefused as refused:
            raise TransferNoticeRejected(refused.verdict, refused.detail) from refused

    def _notice_client(self):
        try:
            return self.client
        except PayoutUnavailable as error:
            raise NoticeRefused("bad_signature", f"cannot verify: {error}") from error
