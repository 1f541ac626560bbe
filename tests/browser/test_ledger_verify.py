"""The donor's 核验 page in Chromium: the receipt's link from the thank-you page is checked in the
browser alone (WebCrypto SHA-256 and Ed25519) against the signed checkpoint, the inclusion proof
and the keyed reference, and says ✓ 您的这笔捐款已记入公开账本第 N 条 — or exactly which step
failed when the salt, the platform key or the proof is not what it should be. The script's
RFC 6962 verification is also fed vectors computed here from the RFC's definitions.

Screenshots at 375 px: tests/screenshots/ledger-verify-*.png."""
from __future__ import annotations

import base64
import hashlib
import html as html_text
import json
import re
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.donations.models import Donation
from app.extensions import db
from app.transparency.integrator import integrate_all
from tests.browser.conftest import phone_context
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start

OK = "ok"
FAILED = "failed"


def _donate(app, client, campaign, nickname: str, amount_fen: int):
    donor = UserFactory(nickname=nickname)
    payment = start(campaign, donor, amount_fen)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return donor, db.session.get(Donation, payment.payable_id)


def _receipt_link(app, donor, donation) -> str:
    page = app.test_client(user=donor).get(f"/donations/{donation.id}/thanks") \
        .get_data(as_text=True)
    match = re.search(r'href="([^"]*/transparency/verify#[^"]*)"', page)
    assert match, "the thank-you page has no 核验 link"
    return html_text.unescape(match.group(1))


@pytest.fixture()
def receipt(app, client, live_server, live_campaign):
    """A real donation's 核验 link once it is in a signed checkpoint (two donations, each with
    its channel fee: four leaves, so the proof has hashes to tamper with)."""
    _donate(app, client, live_campaign, "先来的人", 20_00)
    donor, donation = _donate(app, client, live_campaign, "阿杰", 50_00)
    integrate_all()
    return _receipt_link(app, donor, donation)


def _outcome(page, timeout: int = 20_000) -> tuple[str, str, str]:
    page.wait_for_selector("#verify-result[data-outcome=ok], #verify-result[data-outcome=failed],"
                           " #verify-result[data-outcome=pending]", timeout=timeout)
    result = page.locator("#verify-result")
    return (result.get_attribute("data-outcome"), result.inner_text(),
            result.get_attribute("data-failed-step") or "")


def _leaf_number(link: str) -> int:
    return int(re.search(r"leaf=(\d+)", link).group(1)) + 1


def test_a_real_donation_verifies_in_the_browser(browser, receipt, live_campaign, screenshot):
    context = phone_context(browser)
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(receipt)
    outcome, text, _ = _outcome(page)
    assert outcome == OK, text
    assert f"✓ 您的这笔捐款已记入公开账本第 {_leaf_number(receipt)} 条" in text
    assert "¥50.00" in text and live_campaign.title in text
    assert "暂无见证人副署" in text
    steps = page.locator("#verify-steps li")
    assert steps.count() == 5
    assert all(steps.nth(i).get_attribute("data-state") == "ok" for i in range(5))
    key = page.locator("#verify-key").inner_text()
    assert key.startswith("xiangzhu.local/ledger+")     # printed for the donor to compare
    # the server is asked only for public data: no verification endpoint exists
    asked = {re.sub(r"\?.*", "", url.split("//", 1)[1].split("/", 1)[1]) for url in requests}
    assert "api/v1/transparency/proof/inclusion" in asked and "transparency/checkpoint" in asked
    screenshot(page, "ledger-verify-ok-375")
    context.close()


def test_a_tampered_salt_is_a_receipt_that_does_not_match(browser, receipt, screenshot):
    salt = re.search(r"salt=([0-9a-f]{64})", receipt).group(1)
    wrong = salt[:-1] + ("0" if salt[-1] != "0" else "1")
    context = phone_context(browser)
    page = context.new_page()
    page.goto(receipt.replace(salt, wrong))
    outcome, text, step = _outcome(page)
    assert outcome == FAILED and step == "receipt"
    assert "凭证与账本记录不符" in text
    item = page.locator('#verify-steps li[data-step="receipt"]')
    assert item.get_attribute("data-state") == "failed"
    assert page.locator('#verify-steps li[data-step="root"]').get_attribute("data-state") == "ok"
    screenshot(page, "ledger-verify-wrong-salt-375")
    context.close()


def _other_verifier_key(name: str = "xiangzhu.local/ledger") -> str:
    public = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    encoded = base64.b64encode(b"\x01" + public).decode()
    return f"{name}+{key_id.hex()}+{encoded}"


def test_a_wrong_platform_key_is_a_signature_that_does_not_match(browser, receipt, screenshot):
    wrong = _other_verifier_key()

    def with_another_key(route):
        response = route.fetch()
        body = re.sub(r'data-key="[^"]*"', f'data-key="{wrong}"', response.text())
        route.fulfill(response=response, body=body)

    context = phone_context(browser)
    page = context.new_page()
    page.route(re.compile(r".*/transparency/verify$"), with_another_key)
    page.goto(receipt)
    outcome, text, step = _outcome(page)
    assert outcome == FAILED and step == "signature"
    assert "签名不符" in text
    screenshot(page, "ledger-verify-wrong-key-375")
    context.close()


def test_a_forged_checkpoint_is_a_signature_that_does_not_match(browser, receipt):
    def forged(route):
        response = route.fetch()
        lines = response.text().split("\n")
        lines[1] = str(int(lines[1]) + 1)          # a bigger tree, same signature
        route.fulfill(response=response, body="\n".join(lines))

    context = phone_context(browser)
    page = context.new_page()
    page.route(re.compile(r".*/transparency/checkpoint$"), forged)
    page.goto(receipt)
    outcome, text, step = _outcome(page)
    assert outcome == FAILED and step == "signature" and "签名不符" in text
    context.close()


def test_a_tampered_proof_is_a_root_that_does_not_match(browser, receipt, screenshot):
    def tampered(route):
        response = route.fetch()
        proof = response.json()
        assert proof["audit_path"], "the tree is big enough to have a path"
        first = bytearray(base64.b64decode(proof["audit_path"][0]))
        first[0] ^= 0x01
        proof["audit_path"][0] = base64.b64encode(bytes(first)).decode()
        route.fulfill(response=response, body=json.dumps(proof))

    context = phone_context(browser)
    page = context.new_page()
    page.route(re.compile(r".*/api/v1/transparency/proof/inclusion\?.*"), tampered)
    page.goto(receipt)
    outcome, text, step = _outcome(page)
    assert outcome == FAILED and step == "root"
    assert "账本根不符" in text
    screenshot(page, "ledger-verify-tampered-proof-375")
    context.close()


def test_a_pasted_receipt_is_checked_and_a_leaf_not_yet_signed_is_pending(browser, receipt,
                                                                          live_server):
    context = phone_context(browser)
    page = context.new_page()
    page.goto(f"{live_server}/transparency/verify")
    assert page.locator("#verify-result").is_hidden()
    page.get_by_role("button", name="核验", exact=True).click()
    assert page.locator("#verify-form-error").is_visible()        # nothing pasted yet
    page.fill("textarea[name=receipt]", receipt)
    page.get_by_role("button", name="核验", exact=True).click()
    outcome, text, _ = _outcome(page)
    assert outcome == OK, text
    assert page.locator("#verify-form-error").is_hidden()

    later = re.sub(r"leaf=\d+", "leaf=999", receipt)
    page.fill("textarea[name=receipt]", later)
    page.get_by_role("button", name="核验", exact=True).click()
    page.wait_for_selector("#verify-result[data-outcome=pending]", timeout=20_000)
    assert "该条尚未记入公开账本" in page.locator("#verify-result").inner_text()
    assert page.locator("#verify-retry").is_visible()
    context.close()


def test_before_any_checkpoint_the_page_says_not_yet_recorded(browser, live_server, db):
    context = phone_context(browser)
    page = context.new_page()
    page.goto(f"{live_server}/transparency/verify#leaf=0&ref=XZ1&salt={'ab' * 32}")
    outcome, text, step = _outcome(page)
    assert outcome == "pending" and step == "checkpoint", text
    assert "该条尚未记入公开账本" in text and "还没有签名的检查点" in text
    context.close()


def test_a_witness_cosignature_is_counted_and_verified(app, browser, receipt):
    name = "witness.test/w1"
    encoded = ""
    while "+" not in encoded:   # a key whose base64 holds a "+", as one in two does
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes_raw()
        encoded = base64.b64encode(b"\x04" + public).decode()
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    verifier = f"{name}+{key_id.hex()}+{encoded}"
    old = app.config.get("TRANSPARENCY_WITNESSES")
    app.config["TRANSPARENCY_WITNESSES"] = verifier
    try:
        client = app.test_client()
        note = client.get("/transparency/checkpoint").get_data(as_text=True)
        body = note[:note.rindex("\n\n") + 1]
        stamp = int(time.time())
        signature = private.sign(f"cosignature/v1\ntime {stamp}\n".encode() + body.encode())
        line = f"— {name} " + base64.b64encode(
            key_id + stamp.to_bytes(8, "big") + signature).decode() + "\n"
        posted = client.post("/api/v1/transparency/cosignatures", data=note + line,
                             content_type="text/plain")
        assert posted.status_code == 204, posted.get_data(as_text=True)

        context = phone_context(browser)
        page = context.new_page()
        page.goto(receipt)
        outcome, text, _ = _outcome(page)
        assert outcome == OK, text
        assert "见证人副署 1 个（已核验 1 个）" in text
        context.close()
    finally:
        app.config["TRANSPARENCY_WITNESSES"] = old


# RFC 6962 §2.1, written out naively here: MTH and PATH.

def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = _split(len(leaves))
    return _h(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return _path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_mth(leaves[:k])]


def test_the_scripts_inclusion_check_holds_for_every_tree_up_to_64_leaves(browser, live_server):
    cases = []
    for size in range(1, 65):
        leaves = [f"leaf {i} of {size}".encode() for i in range(size)]
        root = base64.b64encode(_mth(leaves)).decode()
        for index in range(size):
            cases.append({"size": size, "index": index, "leaf": leaves[index].decode(),
                          "path": [base64.b64encode(h).decode() for h in _path(index, leaves)],
                          "root": root})
    context = phone_context(browser)
    page = context.new_page()
    page.goto(f"{live_server}/transparency/verify")
    wrong = page.evaluate("""async (cases) => {
      const v = window.xiangzhuLedgerVerify, b64 = (bytes) => btoa(String.fromCharCode(...bytes));
      const empty = await crypto.subtle.digest("SHA-256", new Uint8Array());
      const failures = [];
      if (b64(new Uint8Array(empty)) !== "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=") failures.push("empty");
      for (const c of cases) {
        const hash = await v.leafHash(new TextEncoder().encode(c.leaf));
        const path = c.path.map(v.fromBase64);
        const root = await v.rootFromInclusionProof(c.index, c.size, hash, path);
        if (!root || b64(root) !== c.root) failures.push(["good", c.size, c.index]);
        if (path.length) {
          const bent = path.map((h) => h.slice()); bent[path.length - 1][31] ^= 1;
          const r1 = await v.rootFromInclusionProof(c.index, c.size, hash, bent);
          if (r1 && b64(r1) === c.root) failures.push(["bent", c.size, c.index]);
          const r2 = await v.rootFromInclusionProof(c.index, c.size, hash, path.slice(0, -1));
          if (r2 && b64(r2) === c.root) failures.push(["short", c.size, c.index]);
        }
        if (await v.rootFromInclusionProof(c.size, c.size, hash, path) !== null) {
          failures.push(["index beyond the tree", c.size]);
        }
      }
      return failures;
    }""", cases)
    assert wrong == []
    context.close()


def _signed_in(browser, app, base: str, user):
    cookie = app.test_client(user=user).get_cookie("session")
    context = phone_context(browser)
    context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
    return context


def test_the_thank_you_page_waits_for_the_log_then_shows_the_receipt(
        app, browser, client, live_server, live_campaign, screenshot):
    donor, donation = _donate(app, client, live_campaign, "阿杰", 50_00)
    context = _signed_in(browser, app, live_server, donor)
    page = context.new_page()
    page.clock.install()
    page.goto(f"{live_server}/donations/{donation.id}/thanks")
    block = page.locator("#ledger-receipt")
    assert block.get_attribute("data-state") == "pending"
    assert "正在记入公开账本（约 1 分钟）" in block.inner_text()
    screenshot(page, "ledger-verify-thanks-pending-375")

    integrate_all()
    page.clock.run_for(11_000)            # the block asks again every 10 s
    page.wait_for_selector("#ledger-receipt[data-state=ready]", timeout=10_000)
    assert "已记入公开账本第 1 条" in page.locator("#ledger-receipt").inner_text()
    screenshot(page, "ledger-verify-thanks-ready-375")
    with page.expect_navigation():
        page.get_by_role("link", name="在浏览器中核验 →").click()
    page.evaluate("window.scrollTo(0, 0)")
    page.clock.resume()
    outcome, text, _ = _outcome(page)
    assert outcome == OK and "第 1 条" in text, text

    page.goto(f"{live_server}/me/donations/{donation.id}/certificate")
    page.locator(".ledger-receipt-proof summary").click()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "ledger-verify-certificate-375")
    context.close()
