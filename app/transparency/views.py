"""The log over HTTP (docs/transparency.md, HTTP): public, no sign-in, cacheable. Thin: parse,
call proofs/services, answer. /transparency/verify (the donor's page) is verify_views.py's."""
from __future__ import annotations

import base64

from flask import Blueprint, Response, jsonify, request

from app.core.errors import ApiError, InvalidParameter
from app.core.params import bounded_int
from app.extensions import csrf
from app.models_base import as_utc
from app.transparency import notes, proofs, services

bp = Blueprint("transparency", __name__)
api_bp = Blueprint("transparency_api", __name__, url_prefix="/api/v1/transparency")
MAX_SIZE = 2**62          # far beyond any log; a larger number names no checkpoint
MAX_CHECKPOINTS = 100
LATEST_MAX_AGE = 10
FIXED_MAX_AGE = 86_400


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _cached(response: Response, seconds: int) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    response.headers["Access-Control-Allow-Origin"] = "*"   # verifiers run anywhere
    return response


def _text(body: str, seconds: int) -> Response:
    return _cached(Response(body, content_type="text/plain; charset=utf-8"), seconds)


def _int_arg(name: str, minimum: int = 0, required: bool = True, default: int | None = None):
    raw = request.args.get(name, "")
    if not raw.strip():
        if required:
            raise InvalidParameter(name, f"缺少参数 {name}")
        return default
    value = bounded_int(raw, minimum, MAX_SIZE)
    if value is None:
        raise InvalidParameter(name, f"参数 {name} 须为 {minimum} 以上的整数")
    return value


@bp.get("/transparency/checkpoint")
def latest_checkpoint():
    checkpoint = proofs.latest_checkpoint()
    if checkpoint is None:
        raise ApiError(404, "checkpoint_not_found", "账本尚未签署检查点")
    return _text(proofs.served_note(checkpoint), LATEST_MAX_AGE)


@bp.get("/transparency/checkpoint/<size>")
def checkpoint_of_size(size: str):
    tree_size = bounded_int(size, 0, MAX_SIZE)
    exact = tree_size is not None and str(tree_size) == size  # no leading zeros, as in notes
    checkpoint = proofs.checkpoint_at(tree_size) if exact else None
    if checkpoint is None:
        raise ApiError(404, "checkpoint_not_found", "没有这个大小的已签署检查点")
    # a day: its cosignatures may still grow, its signed body never changes
    return _text(proofs.served_note(checkpoint), FIXED_MAX_AGE)


@bp.get("/.well-known/xiangzhu-ledger-key")
def verifier_key():
    return _text(notes.signer().verifier_key + "\n", FIXED_MAX_AGE)


@api_bp.get("/checkpoints")
def checkpoints():
    before = _int_arg("before", minimum=1, required=False)
    limit = _int_arg("limit", minimum=1, required=False, default=20)
    if limit > MAX_CHECKPOINTS:
        raise InvalidParameter("limit", f"limit 至多 {MAX_CHECKPOINTS}")
    found = proofs.checkpoints_before(before, limit)
    next_before = found[-1].tree_size if len(found) == limit and found[-1].tree_size > 0 else None
    return _cached(jsonify(checkpoints=[{
        "tree_size": c.tree_size, "root_hash": _b64(c.root_hash),
        "signed_at": as_utc(c.signed_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "note": proofs.served_note(c)} for c in found], next_before=next_before), LATEST_MAX_AGE)


@api_bp.get("/leaves")
def leaves():
    start = _int_arg("start")
    end = _int_arg("end")
    if end < start:
        raise InvalidParameter("end", "end 不能小于 start")
    if end - start > proofs.MAX_LEAVES_PER_PAGE:
        raise InvalidParameter("end", f"一次至多 {proofs.MAX_LEAVES_PER_PAGE} 条")
    size = proofs.latest_size()
    found = proofs.leaves_between(start, min(end, size))
    return _cached(jsonify(tree_size=size, leaves=[{"index": leaf.index, "leaf": leaf.leaf}
                                                   for leaf in found]), LATEST_MAX_AGE)


@api_bp.get("/proof/inclusion")
def inclusion_proof():
    index, size = _int_arg("index"), _int_arg("tree_size")
    try:
        leaf_hash, path = proofs.inclusion(index, size)
    except proofs.ProofError as error:
        raise ApiError(400, "invalid_proof_request", f"无法给出证明：{error}") from None
    return _cached(jsonify(index=index, tree_size=size, leaf_hash=_b64(leaf_hash),
                           audit_path=[_b64(h) for h in path]), FIXED_MAX_AGE)


@api_bp.get("/proof/consistency")
def consistency_proof():
    first, second = _int_arg("first"), _int_arg("second")
    try:
        path = proofs.consistency(first, second)
    except proofs.ProofError as error:
        raise ApiError(400, "invalid_proof_request", f"无法给出证明：{error}") from None
    return _cached(jsonify(first=first, second=second, proof=[_b64(h) for h in path]),
                   FIXED_MAX_AGE)


@api_bp.post("/cosignatures")
@csrf.exempt  # verified by the witness's signature; there is no session to forge
def post_cosignature():
    try:
        note = request.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "note_malformed", "检查点须为 UTF-8 文本") from None
    services.accept_cosignature(note)
    return Response(status=204)
