"""A full upload disk: the form again with a Chinese message, no row, no file (whole or partial).

The disk is outside the process; "full" is the OS refusing to make the written bytes durable
(ENOSPC from fsync, as a nearly full filesystem answers), after part of the file already went
to the page cache — so a partial file exists on disk until the store removes it.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.campaigns.models import Campaign, CampaignPhoto
from app.core.files import STORAGE_FULL_MESSAGE, StorageFull, write_whole
from app.review.models import CampaignDocument
from tests.campaigns.helpers import form_data
from tests.campaigns.images import jpeg_bytes, upload

REAL_FSYNC = os.fsync


@pytest.fixture()
def disk_full_after(monkeypatch):
    """The disk takes `n` more files, then refuses every further one."""

    def arm(room: int = 0) -> None:
        left = {"files": room}

        def fsync(fd: int) -> None:
            if left["files"] <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            left["files"] -= 1
            REAL_FSYNC(fd)

        monkeypatch.setattr(os, "fsync", fsync)

    return arm


def files_under(directory: str) -> list[str]:
    root = Path(current_app.config["UPLOAD_DIR"]) / directory
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def page(response) -> str:
    return response.get_data(as_text=True)


def test_write_whole_leaves_nothing_when_the_disk_is_full(app, tmp_path, disk_full_after):
    disk_full_after(0)
    with pytest.raises(StorageFull) as raised:
        write_whole(tmp_path / "a" / "x.bin", b"x" * 100_000)
    assert str(raised.value) == STORAGE_FULL_MESSAGE
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_other_write_errors_are_not_called_a_full_disk(app, tmp_path, monkeypatch):
    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError) as raised:
        write_whole(tmp_path / "x.bin", b"data")
    assert not isinstance(raised.value, StorageFull) and raised.value.errno == errno.EIO
    assert list(tmp_path.iterdir()) == []


def test_a_document_upload_on_a_full_disk_says_so_and_keeps_nothing(
        db, patient_client, draft_campaign, disk_full_after):
    before = files_under("private")
    disk_full_after(1)   # the first of the two files fits, the second does not

    response = patient_client.post(
        f"/c/{draft_campaign.id}/documents", content_type="multipart/form-data",
        data={"kind": "diagnosis",
              "files": [upload(jpeg_bytes((500, 400)), "a.jpg"),
                        upload(jpeg_bytes((500, 400)), "b.jpg")]},
        follow_redirects=True)

    assert response.status_code == 200
    assert STORAGE_FULL_MESSAGE in page(response)
    assert db.session.scalar(select(func.count()).select_from(CampaignDocument)) == 0
    assert files_under("private") == before     # neither the first file nor a partial second


def test_a_new_campaign_on_a_full_disk_gets_its_form_again(
        db, patient_client, patient, disk_full_after):
    before = files_under("photos")
    disk_full_after(1)   # the cover fits, the next photo does not

    response = patient_client.post(
        "/campaigns/new", content_type="multipart/form-data",
        data=form_data() | {"cover": upload(jpeg_bytes((400, 300)), "封面.jpg"),
                            "photos": [upload(jpeg_bytes(), "b.jpg")]})

    assert response.status_code in (200, 400, 422)
    html = page(response)
    assert STORAGE_FULL_MESSAGE in html and 'name="title"' in html
    assert "六岁小明急需骨髓移植" in html                      # what was typed is still there
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert db.session.scalar(select(func.count()).select_from(CampaignPhoto)) == 0
    assert files_under("photos") == before


def test_adding_photos_on_a_full_disk_says_so_and_keeps_nothing(
        db, patient_client, draft_campaign, disk_full_after):
    photos_before = len(draft_campaign.photos)
    before = files_under("photos")
    disk_full_after(0)

    response = patient_client.post(
        f"/c/{draft_campaign.id}/photos", content_type="multipart/form-data",
        data={"photos": [upload(jpeg_bytes())]}, follow_redirects=True)

    assert STORAGE_FULL_MESSAGE in page(response)
    db.session.expire_all()
    assert len(db.session.get(Campaign, draft_campaign.id).photos) == photos_before
    assert files_under("photos") == before
