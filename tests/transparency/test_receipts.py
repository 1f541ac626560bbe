"""The donor's 公开账本凭证 on the thank-you page and the 捐款凭证 (page and PDF): 正在记入公开账本
while the payment waits for the integrator, then its leaf index, the opening of its keyed
reference and the link (in the PDF a QR code) to the in-browser 核验 — for the donor alone.
The opening is checked here against the leaf by the doc's formula, written out independently."""
from __future__ import annotations

import hashlib
import hmac
import html as html_text
import io
import json
import re
from urllib.parse import parse_qs, unquote

from pypdf import PdfReader

from app.donations.models import Donation
from app.extensions import db
from app.transparency.integrator import integrate_all
from app.transparency.models import Leaf
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start
from tests.sharing.conftest import decode_qr

PENDING = "正在记入公开账本（约 1 分钟）"
REF_KEY = b"xiangzhu-transparency-ref-development-only"   # the tests' stand-in key


def _paid(client, campaign, user, amount_fen=50_00):
    payment = start(campaign, user, amount_fen)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return payment, db.session.get(Donation, payment.payable_id)


def _pages(app, donor, donation) -> dict[str, str]:
    as_donor = app.test_client(user=donor)
    found = {}
    for name, path in (("thanks", f"/donations/{donation.id}/thanks"),
                       ("certificate", f"/me/donations/{donation.id}/certificate"),
                       ("block", f"/me/donations/{donation.id}/ledger-receipt")):
        response = as_donor.get(path)
        assert response.status_code == 200, path
        found[name] = response.get_data(as_text=True)
    return found


def _verify_link(page: str) -> str:
    match = re.search(r'href="([^"]*/transparency/verify#[^"]*)"', page)
    assert match, "no 核验 link"
    return html_text.unescape(match.group(1))


def _fragment(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(link.split("#", 1)[1], keep_blank_values=True).items()}


def test_before_integration_the_pages_say_it_is_being_recorded(app, client, live_campaign):
    donor = UserFactory(nickname="阿杰")
    _, donation = _paid(client, live_campaign, donor)
    pages = _pages(app, donor, donation)
    for name, page in pages.items():
        assert PENDING in page, name
        assert 'data-state="pending"' in page and "/transparency/verify#" not in page
        assert "错误" not in page and "失败" not in page
    assert f'data-poll-url="/me/donations/{donation.id}/ledger-receipt"' in pages["thanks"]
    assert "js/ledger_receipt.js" in pages["thanks"] and "js/ledger_receipt.js" in pages["certificate"]
    pdf = app.test_client(user=donor).get(f"/me/donations/{donation.id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_after_integration_the_receipt_opens_the_donations_leaf(app, client, live_campaign):
    donor = UserFactory(nickname="阿杰")
    payment, donation = _paid(client, live_campaign, donor, 88_00)
    integrate_all()
    pages = _pages(app, donor, donation)

    leaf_row = db.session.query(Leaf).order_by(Leaf.index).first()
    leaf = json.loads(leaf_row.leaf)
    assert leaf["kind"] == "payment"
    for name, page in pages.items():
        assert PENDING not in page and 'data-state="ready"' in page, name
        assert f"已记入公开账本<strong>第 {leaf_row.index + 1} 条</strong>" in page
        link = _verify_link(page)
        assert link.startswith(app.config["PUBLIC_BASE_URL"] + "/transparency/verify#")
        fragment = _fragment(link)
        assert fragment["leaf"] == str(leaf_row.index)
        assert fragment["ref"] == payment.out_trade_no
        salt = fragment["salt"]
        assert salt in page and payment.out_trade_no in page
        # docs/transparency.md: salt = HMAC-SHA256(ref key, kind ":" source_ref); the leaf's ref
        # = SHA-256("xiangzhu-ledger-ref/v1\n" salt "\n" kind "\n" source_ref)
        assert salt == hmac.new(REF_KEY, f"payment:{payment.out_trade_no}".encode(),
                                hashlib.sha256).hexdigest()
        assert leaf["ref"] == hashlib.sha256(
            f"xiangzhu-ledger-ref/v1\n{salt}\npayment\n{payment.out_trade_no}".encode()).hexdigest()
    # the whole receipt, for keeping: the signed checkpoint and the audit path of the leaf
    assert "— xiangzhu.local/ledger " in pages["certificate"]
    assert "包含证明" in pages["certificate"]
    amounts = [leg["fen"] for leg in leaf["legs"]]
    assert sorted(amounts) == [-88_00, 88_00]


def test_the_pdf_carries_the_receipt_and_a_qr_code_of_the_verify_link(app, client,
                                                                        live_campaign):
    donor = UserFactory(nickname="阿杰")
    payment, donation = _paid(client, live_campaign, donor)
    integrate_all()
    as_donor = app.test_client(user=donor)
    link = _verify_link(as_donor.get(f"/me/donations/{donation.id}/certificate")
                        .get_data(as_text=True))
    response = as_donor.get(f"/me/donations/{donation.id}/certificate.pdf")
    assert response.status_code == 200
    images = PdfReader(io.BytesIO(response.data)).pages[0].images
    assert len(images) == 1
    scanned = decode_qr(images[0].data)
    assert scanned == link
    assert unquote(_fragment(scanned)["ref"]) == payment.out_trade_no


def test_nobody_else_sees_a_donors_receipt(app, client, live_campaign, staff):
    donor, other = UserFactory(nickname="阿杰"), UserFactory(nickname="路人")
    _, donation = _paid(client, live_campaign, donor)
    integrate_all()
    paths = (f"/donations/{donation.id}/thanks", f"/me/donations/{donation.id}/certificate",
             f"/me/donations/{donation.id}/certificate.pdf",
             f"/me/donations/{donation.id}/ledger-receipt")
    for path in paths:
        assert app.test_client(user=other).get(path).status_code == 404, path
        assert app.test_client(user=staff).get(path).status_code in (403, 404), path
        anonymous = app.test_client().get(path)
        assert anonymous.status_code in (302, 401), path
        assert "salt" not in anonymous.get_data(as_text=True)


def test_the_verify_page_is_public_static_and_carries_the_platform_key(client):
    from app.transparency import notes

    response = client.get("/transparency/verify")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    key = client.get("/.well-known/xiangzhu-ledger-key").get_data(as_text=True).strip()
    assert key == notes.parse_signer_key(notes.DEVELOPMENT_SIGNING_KEY).verifier_key
    assert page.count(key) == 2       # for the script, and printed for the donor to compare
    assert 'id="verify-form"' in page and 'name="receipt"' in page
    assert "<script>" not in page     # no inline script: the page works under a strict CSP
    assert "js/ledger_verify.js" in page
