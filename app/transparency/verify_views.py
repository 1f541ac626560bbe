"""GET /transparency/verify: the donor's 核验 page. The server only serves this page, its script
and the public log; the checking itself runs in the donor's browser (static/js/ledger_verify.js
with the spec's pieces in ledger_verify_specs.js), against the platform's verifier key printed
on the page."""
from __future__ import annotations

import base64

from flask import Blueprint, render_template, request

from app.transparency import notes

bp = Blueprint("transparency_verify", __name__)

# The public routes of docs/transparency.md (HTTP), which the page's script reads.
LOG_ROUTES = {"checkpoint": "/transparency/checkpoint",
              "leaves": "/api/v1/transparency/leaves",
              "proof": "/api/v1/transparency/proof/inclusion",
              "campaign": "/api/v1/campaigns/"}


def _witness_keys() -> list[str]:
    return [f"{w.name}+{w.key_id.hex()}+"
            f"{base64.b64encode(bytes([w.key_type]) + w.public).decode()}"
            for w in notes.witnesses()]


@bp.get("/transparency/verify")
def verify():
    routes = {name: request.script_root + path for name, path in LOG_ROUTES.items()}
    page = render_template("transparency/verify.html", verifier_key=notes.signer().verifier_key,
                           witness_keys=_witness_keys(), routes=routes)
    return page, 200, {"Cache-Control": "public, max-age=300"}
