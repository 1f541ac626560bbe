"""Writing uploaded files whole or not at all, and saying so when the disk is full.

Every store of uploads (campaign photos, private documents) writes through `write_whole`: the
bytes go to a temporary file beside the final one, which is renamed into place only once
complete, and any failure removes the temporary file. A full disk (or quota, or file size
limit) becomes `StorageFull`, whose message the upload forms show as it is.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

STORAGE_FULL_MESSAGE = "存储空间不足，请稍后再试"
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StorageFull(Exception):
    """The upload store has no room; nothing of the upload was kept."""

    message = STORAGE_FULL_MESSAGE
    code = "storage_full"

    def __str__(self) -> str:
        return self.message


def write_whole(final: Path, data: bytes) -> None:
    """Write `data` to `final` (creating its directory), whole or not at all."""
    temporary = final.parent / f".{final.stem}.tmp"
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # a full disk may only say so when the data is flushed
        os.replace(temporary, final)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if error.errno in DISK_FULL_ERRNOS:
            raise StorageFull() from error
        raise
