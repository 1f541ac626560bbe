"""Bill files written as WeChat Pay documents them (交易账单 / 资金账单 文件格式说明): a header of
Chinese column names, detail rows with every field prefixed by a backtick, a summary header and
its row; CRLF line ends, UTF-8 with a BOM as the merchant platform's downloads have."""
from __future__ import annotations

import gzip
import hashlib

TRADE_ALL = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2024-11-10 16:33:45,`wx2421b1c4370ec43b,`10000100,`0,`,`4200001690740201411100005734289,"
    "`XZ20241110163345A1,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`300.00,"
    "`0.00,`0,`0,`0.00,`0.00,`,`,`为小明捐款,`,`1.80,`0.60%,`300.00,`0.00,`\r\n"
    "`2024-11-10 18:02:11,`wx2421b1c4370ec43b,`10000100,`0,`,`4200001690740201411100005734290,"
    "`XZ20241110180211B2,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6p,`NATIVE,`SUCCESS,`OTHERS,`CNY,`0.29,"
    "`0.00,`0,`0,`0.00,`0.00,`,`,`为小明捐款,`,`0.00,`0.60%,`0.29,`0.00,`\r\n"
    "`2024-11-10 20:15:00,`wx2421b1c4370ec43b,`10000100,`0,`,`4200001690740201411100005734289,"
    "`XZ20241110163345A1,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,"
    "`0.00,`50000300382014111000032105498,`XZRF0000000001,`100.00,`0.00,`ORIGINAL,`SUCCESS,"
    "`为小明捐款,`,`-0.60,`0.60%,`0.00,`100.00,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`3,`300.29,`100.00,`0.00,`1.20,`300.29,`100.00\r\n")

# An older layout (no 订单金额 / 申请退款金额 / 费率备注), its columns in another order.
TRADE_OLD_ORDER = (
    "商户订单号,交易时间,交易状态,微信订单号,应结订单金额,退款金额,商户退款单号,退款状态,手续费,费率\r\n"
    "`XZ1,`2024-11-10 09:00:00,`SUCCESS,`4200000000000000000000000001,`1234567.89,`0.00,`0,`,"
    "`7407.41,`0.60%\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额\r\n"
    "`1,`1234567.89,`0.00,`0.00,`7407.41\r\n")

FUNDFLOW = (
    "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),"
    "资金变更提交申请人,备注,业务凭证号\r\n"
    "`2024-11-10 16:33:46,`4200001690740201411100005734289,`10000000000000000001,`交易,`交易,"
    "`收入,`300.00,`300.00,`system,`,`XZ20241110163345A1\r\n"
    "`2024-11-10 16:33:46,`4200001690740201411100005734289,`10000000000000000002,`手续费,"
    "`扣除交易手续费,`支出,`1.80,`298.20,`system,`,`XZ20241110163345A1\r\n"
    "`2024-11-10 21:00:00,`1330000000000000000000000000001,`10000000000000000003,`商家转账,"
    "`商家转账,`支出,`88.00,`210.20,`system,`,`XZTB0000000001\r\n"
    "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n"
    "`3,`1,`300.00,`2,`89.80\r\n")


def encoded(text: str, bom: bool = True) -> bytes:
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def as_download(raw: bytes) -> tuple[bytes, str]:
    """(the gzip file as downloaded, the SHA1 WeChat gives for it: of the bill before gzip)."""
    return gzip.compress(raw), hashlib.sha1(raw).hexdigest()
