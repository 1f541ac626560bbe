"""In-memory state of the stand-in: test users, codes, tokens, orders."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class TestUser:
    __test__ = False  # not a pytest test class, despite the name

    openid: str
    nickname: str
    headimgurl: str = ""
    unionid: str | None = None


@dataclass
class StandinState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: dict[str, TestUser] = field(default_factory=dict)          # openid → user
    oauth_codes: dict[str, dict] = field(default_factory=dict)        # code → {openid, scope}
    user_tokens: dict[str, dict] = field(default_factory=dict)        # access_token → {openid, scope}
    access_tokens: dict[str, float] = field(default_factory=dict)     # token → expires_at
    jsapi_tickets: dict[str, float] = field(default_factory=dict)     # ticket → expires_at
    orders: dict[str, dict] = field(default_factory=dict)             # out_trade_no → order
    notifications: list[dict] = field(default_factory=list)           # what was sent and answered
    refunds: dict[str, dict] = field(default_factory=dict)            # out_refund_no → refund
    prepays: dict[str, str] = field(default_factory=dict)             # prepay_id → out_trade_no
    shares: list[dict] = field(default_factory=list)                  # JS-SDK share data seen
    jssdk_configs: list[dict] = field(default_factory=list)           # wx.config checks {url, ok}
    used_oauth_codes: set[str] = field(default_factory=set)           # so reuse says 40163
    refresh_tokens: dict[str, dict] = field(default_factory=dict)     # refresh_token → {openid, scope}
    # Seconds since the epoch; tests replace it to step past expiry times.
    clock: Callable[[], float] = time.time
