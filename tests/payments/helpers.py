"""Shared by the payments, ledger and donations tests: orders, signed notices, counts."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from app.config import standin_credentials
from app.extensions import db
from app.ledger.models import LedgerTransaction
from app.payments.models import Payment

CREDS = standin_credentials()
WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI")
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def start(campaign, user, amount_fen: int = 50_00, trade_type: str = "NATIVE",
          form_key: str | None = None, blessing: str = "", anonymous: bool = False) -> Payment:
    """A donation's checkout through the real service (unifiedorder at the stand-in)."""
    from app.donations.services import start_donation

    return start_donation(campaign_id=campaign.id if hasattr(campaign, "id") else campaign,
                          user=user, amount_fen=amount_fen, blessing=blessing,
                          anonymous=anonymous, form_key=form_key or secrets.token_hex(16),
                          trade_type=trade_type, client_ip="127.0.0.1")


def notice_xml(out_trade_no: str, total_fee: int, transaction_id: str | None = None,
               api_key: str | None = None, sign: str | None = None, **overrides) -> bytes:
    """A payment notice as WeChat sends it, signed with the stand-in's API key by default."""
    data = {"return_code": "SUCCESS", "appid": CREDS["WECHAT_APPID"],
            "mch_id": CREDS["WECHAT_MCH_ID"], "nonce_str": secrets.token_hex(16),
            "result_code": "SUCCESS", "openid": "o_test_payer", "is_subscribe": "N",
            "trade_type": "NATIVE", "bank_type": "OTHERS", "total_fee": str(total_fee),
            "cash_fee": str(total_fee), "fee_type": "CNY",
            "transaction_id": transaction_id or f"4200{secrets.randbelow(10 ** 24):024d}",
            "out_trade_no": out_trade_no, "time_end": "20261128120000"}
    data.update({k: str(v) for k, v in overrides.items() if v is not None})
    for key in [k for k, v in overrides.items() if v is None]:
        data.pop(key, None)
    signature = sign or calculate_signature(data, api_key or CREDS["WECHAT_API_KEY"])
    return dict_to_xml(data, signature).encode()


def notice_for(payment: Payment, **kwargs) -> bytes:
    return notice_xml(payment.out_trade_no, payment.amount_fen, **kwargs)


def post_notice(client, body: bytes):
    return client.post("/wechat/pay/notify", data=body, content_type="text/xml")


def acknowledged(response) -> bool:
    return response.status_code == 200 and b"<return_code><![CDATA[SUCCESS]]>" in response.data


def ledger_count(out_trade_no: str | None = None, source_type: str = "payment") -> int:
    """Ledger transactions of payments (or of another source type, e.g. "channel_fee")."""
    query = (select(func.count()).select_from(LedgerTransaction)
             .where(LedgerTransaction.source_type == source_type))
    if out_trade_no:
        query = query.where(LedgerTransaction.source_ref == out_trade_no)
    return db.session.scalar(query)


def fee_count(out_trade_no: str | None = None) -> int:
    return ledger_count(out_trade_no, source_type="channel_fee")


def fee_of(amount_fen: int, rate_bp: int = 60) -> int:
    """WeChat's fee as the tests' own arithmetic: 0.6% rounded half up to the fen."""
    return (amount_fen * rate_bp + 5000) // 10000


def fresh(model, ident):
    """Re-read a row, past whatever the session has cached."""
    db.session.expire_all()
    return db.session.get(model, ident)
