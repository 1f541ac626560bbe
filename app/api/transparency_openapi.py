"""The OpenAPI entries of the public ledger log's /api/v1 routes (app/transparency/views.py,
docs/transparency.md), spread into openapi.py's PATHS and SCHEMAS."""
from __future__ import annotations


def _json(description: str, schema_ref: str) -> dict:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _error(description: str) -> dict:
    return _json(description, "Error")


_SIZE = {"type": "integer", "minimum": 0, "maximum": 2**62}
_B64_HASH = {"type": "string", "contentEncoding": "base64",
             "description": "32 字节 SHA-256 哈希的 base64"}
TAG = {"name": "transparency", "description": "公开账本（透明日志）"}

TRANSPARENCY_SCHEMAS: dict[str, dict] = {
    "TransparencyCheckpoints": {
        "type": "object", "required": ["checkpoints", "next_before"],
        "properties": {
            "checkpoints": {"type": "array", "items": {
                "type": "object", "required": ["tree_size", "root_hash", "signed_at", "note"],
                "properties": {
                    "tree_size": {"type": "integer", "minimum": 0},
                    "root_hash": _B64_HASH,
                    "signed_at": {"type": "string", "format": "date-time"},
                    "note": {"type": "string",
                             "description": "C2SP signed note: the checkpoint, the platform's "
                                            "signature, then witnesses' cosignatures"}}}},
            "next_before": {"type": ["integer", "null"],
                            "description": "Pass as `before` for older checkpoints; null at the end."},
        },
    },
    "TransparencyLeaves": {
        "type": "object", "required": ["tree_size", "leaves"],
        "properties": {
            "tree_size": {"type": "integer", "minimum": 0,
                          "description": "The latest signed checkpoint's size"},
            "leaves": {"type": "array", "items": {
                "type": "object", "required": ["index", "leaf"],
                "properties": {"index": {"type": "integer", "minimum": 0},
                               "leaf": {"type": "string",
                                        "description": "The leaf's canonical JSON text"}}}},
        },
    },
    "TransparencyInclusionProof": {
        "type": "object", "required": ["index", "tree_size", "leaf_hash", "audit_path"],
        "properties": {"index": {"type": "integer"}, "tree_size": {"type": "integer"},
                       "leaf_hash": _B64_HASH,
                       "audit_path": {"type": "array", "items": _B64_HASH}},
    },
    "TransparencyConsistencyProof": {
        "type": "object", "required": ["first", "second", "proof"],
        "properties": {"first": {"type": "integer"}, "second": {"type": "integer"},
                       "proof": {"type": "array", "items": _B64_HASH}},
    },
}

TRANSPARENCY_PATHS: dict[str, dict] = {
    "/transparency/checkpoints": {"get": {
        "tags": ["transparency"],
        "operationId": "listTransparencyCheckpoints",
        "summary": "Signed checkpoints of the ledger log, newest first",
        "parameters": [
            {"name": "before", "in": "query", "schema": {**_SIZE, "minimum": 1},
             "description": "Only checkpoints of smaller tree sizes."},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
        ],
        "responses": {"200": _json("A page of checkpoints", "TransparencyCheckpoints"),
                      "400": _error("Bad parameter (code invalid_parameter)")},
    }},
    "/transparency/leaves": {"get": {
        "tags": ["transparency"],
        "operationId": "listTransparencyLeaves",
        "summary": "Leaves start ≤ index < end (at most 1000; end clipped to the latest signed "
                   "tree size)",
        "parameters": [
            {"name": "start", "in": "query", "required": True, "schema": _SIZE},
            {"name": "end", "in": "query", "required": True, "schema": _SIZE},
        ],
        "responses": {"200": _json("The leaves", "TransparencyLeaves"),
                      "400": _error("Missing or bad start/end, or more than 1000 leaves")},
    }},
    "/transparency/proof/inclusion": {"get": {
        "tags": ["transparency"],
        "operationId": "getTransparencyInclusionProof",
        "summary": "RFC 6962 audit path of leaf `index` in the tree of `tree_size` leaves",
        "parameters": [
            {"name": "index", "in": "query", "required": True, "schema": _SIZE},
            {"name": "tree_size", "in": "query", "required": True, "schema": _SIZE},
        ],
        "responses": {"200": _json("The inclusion proof", "TransparencyInclusionProof"),
                      "400": _error("Unless 0 ≤ index < tree_size ≤ the latest signed size "
                                    "(codes invalid_parameter, invalid_proof_request)")},
    }},
    "/transparency/proof/consistency": {"get": {
        "tags": ["transparency"],
        "operationId": "getTransparencyConsistencyProof",
        "summary": "RFC 6962 consistency proof between tree sizes `first` and `second`",
        "parameters": [
            {"name": "first", "in": "query", "required": True, "schema": _SIZE},
            {"name": "second", "in": "query", "required": True, "schema": _SIZE},
        ],
        "responses": {"200": _json("The consistency proof", "TransparencyConsistencyProof"),
                      "400": _error("Unless 0 < first ≤ second ≤ the latest signed size "
                                    "(codes invalid_parameter, invalid_proof_request)")},
    }},
    "/transparency/cosignatures": {"post": {
        "tags": ["transparency"],
        "operationId": "postTransparencyCosignature",
        "summary": "A witness's cosignature (C2SP tlog-cosignature, cosignature/v1) of a "
                   "checkpoint the platform signed; only configured witnesses are accepted",
        "requestBody": {"required": True, "content": {"text/plain": {"schema": {
            "type": "string", "maxLength": 16384,
            "description": "The checkpoint note with the witness's signature line"}}}},
        "responses": {
            "204": {"description": "Stored (or already stored)"},
            "400": _error("Not a signed note (code note_malformed)"),
            "403": _error("No configured witness's line (witness_unknown), or one that does "
                          "not verify (signature_invalid)"),
            "404": _error("Not a checkpoint the platform signed (checkpoint_unknown)"),
            "409": _error("Another root at a size the platform signed (checkpoint_mismatch)"),
            "413": _error("Note too large (note_too_large)"),
        },
    }},
}
