"""The reason a staff member gives for a decision: trimmed, required where the decision needs
one, and no longer than the column that keeps it."""
from __future__ import annotations


class ReasonRefused(ValueError):
    """`message` is Chinese and shown as it is; `code` names the rule for the API."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def clean_reason(text: str | None, required: bool, max_len: int) -> str:
    reason = (text or "").strip()
    if required and not reason:
        raise ReasonRefused("请填写原因", "reason_required")
    if len(reason) > max_len:
        raise ReasonRefused(f"原因不能超过 {max_len} 字", "reason_too_long")
    return reason
