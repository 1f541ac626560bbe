"""A donation's 公开账本凭证: where its payment stands in the public ledger log and the opening
of the keyed reference that shows the leaf is this donation, for the thank-you page and the
捐款凭证 (page and PDF). Only the donor's own pages show it: the opening is theirs alone."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask import current_app, url_for

from app.transparency.receipts import Receipt, receipt_for

PAYMENT_KIND = "payment"   # the ledger source_type of a donation's payment


@dataclass(frozen=True)
class LedgerReceipt:
    donation_id: int
    out_trade_no: str
    found: Receipt | None   # None until the payment is in a signed checkpoint (≤ 1 minute)

    @property
    def pending(self) -> bool:
        return self.found is None

    @property
    def leaf_index(self) -> int:
        return self.found.leaf_index

    @property
    def position(self) -> int:
        """第 N 条: the leaf index counted from one."""
        return self.found.leaf_index + 1

    @property
    def salt(self) -> str:
        return self.found.salt

    @property
    def tree_size(self) -> int:
        return self.found.tree_size

    @property
    def root_hash(self) -> str:
        """The base64 root of the checkpoint the receipt's proof leads to (its note's 3rd line)."""
        return self.found.note.split("\n")[2]

    @property
    def verify_url(self) -> str:
        fragment = urlencode({"leaf": self.found.leaf_index, "ref": self.out_trade_no,
                              "salt": self.found.salt}, quote_via=quote)
        return (current_app.config["PUBLIC_BASE_URL"].rstrip("/")
                + url_for("transparency_verify.verify") + "#" + fragment)


def ledger_receipt(donation_id: int, out_trade_no: str) -> LedgerReceipt:
    found = receipt_for(PAYMENT_KIND, out_trade_no) if out_trade_no else None
    return LedgerReceipt(donation_id=donation_id, out_trade_no=out_trade_no, found=found)
