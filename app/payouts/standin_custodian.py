"""The stand-in custodian (第三方资金监管机构): an in-process payout provider for the embedded
default and the tests, with the behaviour a real one has to have.

It keeps its own books in its own table and writes them on its own connection, committed at
once: like a real custodian, a transfer it has made stays made whatever our transaction does
next. A transfer id it has seen is answered from its books (idempotent), never paid twice.

Tests steer it with `inject(...)`: "unavailable" (no answer, nothing done), "lost_reply" (the
transfer is made but the answer is lost: only `query` can tell) and "refuse" (the payee's bank
returns it: a failed transfer).
"""
from __future__ import annotations

import secrets
import threading
from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from app.core.templating import mask_name
from app.extensions import db
from app.models_base import created_at_column, fen_column, utcnow
from app.payouts.provider import (PayoutProvider, PayoutUnavailable, TransferRequest,
                                  TransferResult)

_faults: list[str] = []
_lock = threading.Lock()
FAULTS = ("unavailable", "lost_reply", "refuse")


def inject(*faults: str) -> None:
    """Test hook: the next transfers meet these faults, one each, in order."""
    for fault in faults:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault}")
    with _lock:
        _faults.extend(faults)


def clear_faults() -> None:
    with _lock:
        _faults.clear()


def _next_fault() -> str | None:
    with _lock:
        return _faults.pop(0) if _faults else None


class StandinTransfer(db.Model):
    """The stand-in custodian's own book of transfers (not ours: nothing of ours reads it)."""

    __tablename__ = "standin_custodian_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[str] = mapped_column(String(32), unique=True)
    amount_fen: Mapped[int] = fen_column()
    payee_kind: Mapped[str] = mapped_column(String(16))
    payee: Mapped[str] = mapped_column(String(80))  # masked name and last four digits
    memo: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))
    custodian_ref: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(100), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = created_at_column()


TRANSFERS = StandinTransfer.__table__


class StandinCustodian(PayoutProvider):
    name = "standin"

    def transfer(self, request: TransferRequest) -> TransferResult:
        fault = _next_fault()
        if fault == "unavailable":
            raise PayoutUnavailable("托管机构暂时无法连接")
        refused = fault == "refuse" or request.amount_fen <= 0
        row = {"transfer_id": request.transfer_id, "amount_fen": request.amount_fen,
               "payee_kind": request.payee_kind[:16],
               "payee": f"{mask_name(request.account_name)} 尾号{request.account_number[-4:]}",
               "memo": request.memo[:100], "state": "failed" if refused else "succeeded",
               "custodian_ref": f"CUS{utcnow():%Y%m%d}{secrets.token_hex(8).upper()}",
               "message": "收款账户状态异常，资金已退回" if refused else "",
               "created_at": utcnow()}
        with db.engine.begin() as conn:
            insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)
            conn.execute(insert(TRANSFERS).values(**row)
                         .on_conflict_do_nothing(index_elements=["transfer_id"]))
            booked = conn.execute(select(TRANSFERS).where(
                TRANSFERS.c.transfer_id == request.transfer_id)).one()
        if fault == "lost_reply":
            raise PayoutUnavailable("托管机构没有应答")
        if booked.amount_fen != request.amount_fen:
            return TransferResult(request.transfer_id, "failed", request.amount_fen,
                                  booked.custodian_ref, "同一转账编号的金额与之前不一致")
        return _result(booked)

    def query(self, transfer_id: str) -> TransferResult | None:
        with db.engine.connect() as conn:
            booked = conn.execute(select(TRANSFERS).where(
                TRANSFERS.c.transfer_id == transfer_id)).one_or_none()
        return _result(booked) if booked is not None else None


def _result(booked) -> TransferResult:
    return TransferResult(transfer_id=booked.transfer_id, state=booked.state,
                          amount_fen=booked.amount_fen, custodian_ref=booked.custodian_ref,
                          message=booked.message)


def transfers_made(transfer_id: str | None = None) -> int:
    """How many transfers the stand-in has booked (tests: approving twice pays once)."""
    with db.engine.connect() as conn:
        query = select(TRANSFERS.c.id)
        if transfer_id is not None:
            query = query.where(TRANSFERS.c.transfer_id == transfer_id)
        return len(conn.execute(query).all())
