"""Stored enums whose members each carry the Chinese label people read."""
from __future__ import annotations

import enum


class LabelledEnum(str, enum.Enum):
    """A `str` enum declared as `member = "stored value", "中文标签"`.

    The stored value is the first item alone (what the database and the API see); `.label` is
    the second.
    """

    def __new__(cls, value: str, label: str) -> "LabelledEnum":
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self) -> str:
        return self._label


def labels_of(*enums: type[LabelledEnum]) -> dict[str, str]:
    """{stored value: label} of the members of one or more labelled enums."""
    return {member.value: member.label for cls in enums for member in cls}
