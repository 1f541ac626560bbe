"""The OpenAPI 3.1 document served at /api/v1/openapi.json, kept as plain Python data.

To document a new endpoint, add its path item to PATHS (paths are relative to the server URL,
i.e. without /api/v1) and any schema it uses to SCHEMAS, from your feature's module:

    from app.api.openapi import PATHS, SCHEMAS
    PATHS["/donations/{id}"] = {"get": {...}}

`build_document()` assembles the document at request time, so additions made at import time
anywhere in the app are included.
"""
from __future__ import annotations

import copy

from app.api.transparency_openapi import TAG as TRANSPARENCY_TAG
from app.api.transparency_openapi import TRANSPARENCY_PATHS, TRANSPARENCY_SCHEMAS
from app.core.params import DB_ID_MAX, MAX_PAGE

API_PREFIX = "/api/v1"
TAGS: list[dict] = [{"name": "campaigns", "description": "筹款"},
                    {"name": "donations", "description": "捐款"},
                    {"name": "payments", "description": "微信支付"}, TRANSPARENCY_TAG]


def error_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def json_response(description: str, schema_ref: str) -> dict:
    schema = {"$ref": f"#/components/schemas/{schema_ref}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
# Ids outside this range match no route: a 404 like any id that names no row.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": DB_ID_MAX}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string", "examples": ["campaign_not_found"]},
                           "message": {"type": "string", "description": "给用户看的中文说明"}},
        }},
    },
    "CampaignSummary": {
        "type": "object",
        "required": ["id", "title", "status", "target_fen", "raised_fen", "donation_count",
                     "ends_at", "cover_url", "url"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "status": {"type": "string",
                       "enum": ["live", "ended", "frozen", "terminated"],
                       "description": "Only public states are ever returned."},
            "status_label": {"type": "string", "examples": ["筹款中"]},
            "target_fen": {"type": "integer", "description": "目标金额，单位分"},
            "raised_fen": {"type": "integer", "description": "已筹金额，单位分"},
            "donation_count": {"type": "integer"},
            "progress_percent": {"type": "integer", "minimum": 0, "maximum": 100},
            "live_at": _NULLABLE_TIME,
            "ends_at": _NULLABLE_TIME,
            "days_left": {"type": "integer", "minimum": 0},
            "cover_url": {"type": ["string", "null"], "format": "uri"},
            "url": {"type": "string", "format": "uri", "description": "The public page."},
            "patient_name": {"type": "string", "description": "Masked, e.g. 王**"},
            "diagnosis": {"type": "string"},
            "hospital": {"type": "string"},
            "accepts_donations": {"type": "boolean"},
        },
    },
    "Campaign": {
        "allOf": [
            {"$ref": "#/components/schemas/CampaignSummary"},
            {"type": "object", "properties": {
                "relation": {"type": "string"},
                "relation_label": {"type": "string"},
                "duration_days": {"type": "integer"},
                "ended_at": _NULLABLE_TIME,
                "story": {"type": "string", "description": "Plain text; escape when showing."},
                "photo_urls": {"type": "array", "items": {"type": "string", "format": "uri"}},
                "disclosure": {"type": "object", "properties": {
                    "house": {"type": "string", "enum": ["none", "one", "two_plus"]},
                    "car": {"type": "string", "enum": ["none", "one", "two_plus"]},
                    "savings": {"type": "string",
                                "enum": ["lt10k", "10k_50k", "50k_100k", "gt100k"]},
                    "has_medical_insurance": {"type": "boolean"},
                    "has_commercial_insurance": {"type": "boolean"},
                    "note": {"type": "string"},
                }},
            }},
        ],
    },
    "CampaignPage": {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/CampaignSummary"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    },
    "DonationPage": {
        "type": "object",
        "required": ["donations", "next_cursor"],
        "properties": {
            "donations": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "name", "amount_fen", "amount_yuan", "blessing", "paid_at"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string", "description": "Masked nickname, or 爱心人士"},
                    "amount_fen": {"type": "integer", "description": "捐款金额，单位分"},
                    "amount_yuan": {"type": "string", "examples": ["200"],
                                    "description": "For display only"},
                    "blessing": {"type": "string"},
                    "paid_at": {"type": "string", "format": "date-time"},
                }}},
            "next_cursor": {"type": ["string", "null"],
                            "description": "Pass as `cursor` for the next page; null at the end."},
        },
    },
    "CampaignChangeLog": {
        "type": "object",
        "required": ["changes", "ended_early"],
        "properties": {
            "changes": {"type": "array", "description": "修改记录, newest first", "items": {
                "type": "object",
                "required": ["id", "kind", "kind_label", "approved_at", "reason", "items"],
                "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string", "enum": ["edit", "target"]},
                    "kind_label": {"type": "string", "examples": ["修改筹款信息", "追加目标"]},
                    "approved_at": {"type": "string", "format": "date-time"},
                    "approved_date": {"type": "string", "examples": ["2026-12-03"],
                                      "description": "审核通过的日期（北京时间）"},
                    "reason": {"type": "string", "description": "发起人的修改原因（个人信息已遮盖）"},
                    "items": {"type": "array", "items": {
                        "type": "object", "required": ["field", "label", "before", "after"],
                        "properties": {
                            "field": {"type": "string", "enum": [
                                "title", "diagnosis", "hospital", "story", "photos_added",
                                "photos_removed", "target_fen"]},
                            "label": {"type": "string", "examples": ["求助故事"]},
                            "before": {"description": "原内容：文字（个人信息已遮盖）或目标金额（分）"},
                            "after": {"description": "新内容；照片为张数"},
                        }}},
                }}},
            "ended_early": {
                "type": ["object", "null"],
                "description": "发起人提前结束筹款时：原因与剩余善款的处理方式",
                "properties": {"reason": {"type": "string"},
                               "route": {"type": "string", "enum": ["withdraw", "refund"]},
                               "route_label": {"type": "string"},
                               "at": {"type": "string", "format": "date-time"}}},
        },
    },
    "PaymentQuote": {
        "type": "object",
        "required": ["amount_fen", "channel_fee_fen", "channel_fee_bp", "net_fen",
                     "service_fee_fen"],
        "properties": {
            "amount_fen": {"type": "integer", "minimum": 1, "description": "支付金额，单位分"},
            "channel_fee_fen": {"type": "integer", "minimum": 0,
                                "description": "微信支付通道费，单位分，由微信支付收取"},
            "channel_fee_bp": {"type": "integer", "minimum": 0,
                               "description": "通道费率，万分之几（60 = 0.6%）"},
            "net_fen": {"type": "integer",
                        "description": "扣除通道费后进入监管账户的金额，单位分"},
            "service_fee_fen": {"type": "integer", "const": 0,
                                "description": "平台服务费：永远为 0"},
        },
    },
    "PaymentStatus": {
        "type": "object",
        "required": ["out_trade_no", "state", "state_label", "amount_fen", "paid", "next_url"],
        "properties": {
            "out_trade_no": {"type": "string"},
            "state": {"type": "string", "examples": ["created", "paid"]},
            "state_label": {"type": "string", "examples": ["已支付"]},
            "amount_fen": {"type": "integer"},
            "channel_fee_fen": {"type": "integer", "description": "微信支付通道费，单位分"},
            "channel_fee_bp": {"type": "integer", "description": "通道费率，万分之几"},
            "paid": {"type": "boolean"},
            "next_url": {"type": ["string", "null"],
                         "description": "Where to go once paid (e.g. the thank-you page)."},
        },
    },
    "PaySheet": {
        "type": "object",
        "required": ["out_trade_no", "state", "amount_fen", "jsapi", "order_url", "status_url",
                     "next_url"],
        "properties": {
            "out_trade_no": {"type": "string"},
            "state": {"type": "string", "examples": ["pending"]},
            "amount_fen": {"type": "integer"},
            "jsapi": {"type": ["object", "null"],
                      "description": "WeixinJSBridge getBrandWCPayRequest's parameters "
                                     "(appId, timeStamp, nonceStr, package, signType, paySign), "
                                     "freshly signed; null when the order cannot be paid inside "
                                     "WeChat now (then go to order_url)."},
            "order_url": {"type": "string", "description": "The order page (fallback)."},
            "status_url": {"type": "string", "description": "Poll after paying."},
            "next_url": {"type": "string", "description": "Where to go once paid."},
        },
    },
    **TRANSPARENCY_SCHEMAS,  # app/api/transparency_openapi.py
}

PATHS: dict[str, dict] = {
    "/campaigns": {"get": {
        "tags": ["campaigns"],
        "operationId": "listCampaigns",
        "summary": "Live campaigns, newest first, with optional search",
        "parameters": [
            {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 50},
             "description": "Matches title, diagnosis or hospital."},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                       "maximum": MAX_PAGE, "default": 1},
             "description": "A page past the last one has no items."},
            {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                           "maximum": 50, "default": 10}},
        ],
        "responses": {"200": json_response("A page of campaigns", "CampaignPage"),
                      "400": error_response("Bad parameter")},
    }},
    "/campaigns/{campaign_id}": {"get": {
        "tags": ["campaigns"],
        "operationId": "getCampaign",
        "summary": "One public campaign (live, ended, frozen or terminated)",
        "parameters": [{"name": "campaign_id", "in": "path", "required": True,
                        "schema": ID_SCHEMA}],
        "responses": {"200": json_response("The campaign", "Campaign"),
                      "404": error_response("No such public campaign")},
    }},
    "/campaigns/{campaign_id}/donations": {"get": {
        "tags": ["donations"],
        "operationId": "listDonations",
        "summary": "Paid donations to a public campaign, newest first, by keyset cursor",
        "parameters": [
            {"name": "campaign_id", "in": "path", "required": True, "schema": ID_SCHEMA},
            {"name": "cursor", "in": "query", "schema": {"type": "string"},
             "description": "`next_cursor` of the previous page."},
        ],
        "responses": {"200": json_response("A page of donations", "DonationPage"),
                      "400": error_response("Bad cursor"),
                      "404": error_response("No such public campaign")},
    }},
    "/campaigns/{campaign_id}/changes": {"get": {
        "tags": ["campaigns"],
        "operationId": "listCampaignChanges",
        "summary": "修改记录: the approved changes of a public campaign (newest first) and its "
                   "early end, if the organizer ended it early",
        "parameters": [{"name": "campaign_id", "in": "path", "required": True,
                        "schema": ID_SCHEMA}],
        "responses": {"200": json_response("The change log", "CampaignChangeLog"),
                      "404": error_response("No such public campaign")},
    }},
    "/payments/quote": {"get": {
        "tags": ["payments"],
        "operationId": "quotePayment",
        "summary": "The WeChat Pay channel fee on an amount, shown before paying "
                   "(the platform charges no fee)",
        "parameters": [{"name": "amount_fen", "in": "query", "required": True,
                        "schema": {"type": "integer", "minimum": 1,
                                   "maximum": 10_000_000_00},
                        "description": "支付金额，单位分"}],
        "responses": {"200": json_response("The fee and what reaches the custodial account",
                                           "PaymentQuote"),
                      "400": error_response("amount_fen missing, not a positive integer or "
                                            "too large (code amount_invalid)")},
    }},
    "/payments/{out_trade_no}": {"get": {
        "tags": ["payments"],
        "operationId": "getPaymentStatus",
        "summary": "The state of one's own payment (polled by the order page); "
                   "sign-in required, payer only",
        "parameters": [{"name": "out_trade_no", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": json_response("The payment's state", "PaymentStatus"),
                      "401": error_response("Not signed in (code unauthorized)"),
                      "404": error_response("No such payment of yours")},
    }},
    "/payments/{out_trade_no}/pay_sheet": {"get": {
        "tags": ["payments"],
        "operationId": "getPaySheet",
        "summary": "What opens WeChat's pay sheet for one's own order (the campaign page after "
                   "a silent sign-in); sign-in required, payer only",
        "parameters": [{"name": "out_trade_no", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": json_response("The order's pay-sheet parameters", "PaySheet"),
                      "401": error_response("Not signed in (code unauthorized)"),
                      "404": error_response("No such payment of yours")},
    }},
    "/openapi.json": {"get": {
        "operationId": "getOpenApi",
        "summary": "This document",
        "responses": {"200": {"description": "OpenAPI 3.1 document",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }},
    **TRANSPARENCY_PATHS,  # app/api/transparency_openapi.py
}


def build_document(server_url: str = API_PREFIX) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "相助 Xiangzhu API", "version": "1.0.0",
                 "description": "金额一律以整数“分”表示；时间为 ISO 8601（UTC）。"
                                "错误格式：{\"error\": {\"code\", \"message\"}}。"},
        "servers": [{"url": server_url}],
        "tags": copy.deepcopy(TAGS),
        "paths": copy.deepcopy(PATHS),
        "components": {"schemas": copy.deepcopy(SCHEMAS)},
    }
