"""Drill 4: the upload disk is full — the form again with a Chinese message, no row, no file.

    python bench/drills/disk_full.py             # a 2 MiB tmpfs; --json

UPLOAD_DIR is a tmpfs of its own (`mount -t tmpfs -o size=2m`; needs root or CAP_SYS_ADMIN —
the drill says so and stops if mounting is refused), filled with a ballast file until about
64 KiB are left. The app (its real views, services and storage; the database is SQLite in a
temporary directory, since nothing here depends on PostgreSQL) then takes, through Flask's
test client signed in as the organizer: a document upload of two scans (~120 KiB each after
encryption) and a new-campaign form with a cover and a photo. It reports what each answered,
the rows and files left, and — after the ballast is removed — that the same uploads succeed.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

MESSAGE = "存储空间不足，请稍后再试"


def noisy_jpeg(size: tuple[int, int], seed: int) -> bytes:
    """A photo-like JPEG that does not compress to nothing (random noise)."""
    from PIL import Image

    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.name != "ballast")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="xz-drill-disk-"))
    mount = work / "uploads"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"mount refused ({done.stderr.strip()}): this drill needs a tmpfs; "
              "tests/test_upload_disk_full.py covers the storage boundary without one")
        sys.exit(2)
    result: dict = {"date": date.today().isoformat(), "filesystem": "tmpfs 2 MiB"}
    try:
        from cryptography.fernet import Fernet

        from app import create_app
        from app.extensions import db

        os.environ["DATA_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
        app = create_app({"EMBEDDED": False, "TESTING": True, "SECRET_KEY": "drill",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'drill.db'}",
                          "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://",
                          "WTF_CSRF_ENABLED": False, "UPLOAD_DIR": str(mount),
                          "DATA_ENCRYPTION_KEY": os.environ["DATA_ENCRYPTION_KEY"]})
        from flask_login import FlaskLoginClient
        from sqlalchemy import func, select

        from app.auth.models import User
        from app.campaigns.models import Campaign, CampaignPhoto
        from app.campaigns.photos import process_image
        from app.campaigns.services import add_photos, create_campaign
        from app.review.models import CampaignDocument

        app.test_client_class = FlaskLoginClient
        scans = [noisy_jpeg((300, 260), i) for i in range(2)]
        with app.app_context():
            db.create_all()
            organizer = User(openid="o_drill_organizer", nickname="小雨妈妈")
            db.session.add(organizer)
            db.session.commit()
            draft = create_campaign(organizer, {
                "title": "演练：六岁小明急需骨髓移植", "patient_name": "王小明",
                "relation": "parent", "diagnosis": "急性淋巴细胞白血病",
                "hospital": "北京儿童医院", "target_fen": 300_000_00, "duration_days": 30,
                "story": "孩子今年六岁，上个月确诊急性淋巴细胞白血病。" * 3, "house": "none",
                "car": "none", "savings": "lt10k", "has_medical_insurance": True,
                "has_commercial_insurance": False, "disclosure_note": ""}, [])
            add_photos(draft, organizer, [process_image(noisy_jpeg((200, 150), 9))])
            client = app.test_client(user=organizer)

            def count(model) -> int:
                db.session.rollback()
                return db.session.scalar(select(func.count()).select_from(model))

            def attempt(label: str) -> dict:
                before_files = files_in(mount)
                docs, campaigns, photos = (count(CampaignDocument), count(Campaign),
                                           count(CampaignPhoto))
                up = client.post(f"/c/{draft.id}/documents", content_type="multipart/form-data",
                                 data={"kind": "diagnosis",
                                       "files": [(io.BytesIO(s), f"scan{i}.jpg")
                                                 for i, s in enumerate(scans)]},
                                 follow_redirects=True)
                new = client.post("/campaigns/new", content_type="multipart/form-data", data={
                    "title": "演练：新的筹款", "patient_name": "李小红", "relation": "parent",
                    "diagnosis": "神经母细胞瘤", "hospital": "上海儿童医学中心",
                    "target_yuan": "200000", "duration_days": "30",
                    "story": "孩子今年四岁，确诊神经母细胞瘤，需要化疗和手术。" * 3,
                    "house": "none", "car": "none", "savings": "lt10k",
                    "medical_insurance": "yes", "commercial_insurance": "no",
                    "disclosure_note": "",
                    "cover": (io.BytesIO(noisy_jpeg((400, 300), 5)), "cover.jpg"),
                    "photos": [(io.BytesIO(noisy_jpeg((400, 300), 6)), "p.jpg")]})
                after = files_in(mount)
                form_again = 'name="title"' in new.get_data(as_text=True)
                return {
                    "label": label,
                    "document_upload": f"{up.status_code}, message shown: "
                                       f"{MESSAGE in up.get_data(as_text=True)}",
                    "new_campaign": f"{new.status_code}, form again: {form_again}, "
                                    f"message shown: {MESSAGE in new.get_data(as_text=True)}",
                    "document_rows_added": count(CampaignDocument) - docs,
                    "campaign_rows_added": count(Campaign) - campaigns,
                    "photo_rows_added": count(CampaignPhoto) - photos,
                    "files_added": len(after) - len(before_files),
                    "temporary_files": [f for f in after if f.endswith(".tmp")],
                }

            ballast = mount / "ballast"
            free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
            ballast.write_bytes(b"\0" * (free - 64 * 1024))
            stat = os.statvfs(mount)
            result["free_bytes_when_full"] = stat.f_bavail * stat.f_frsize
            result["full"] = attempt("disk full")
            ballast.unlink()
            result["after_space_freed"] = attempt("space freed")
        full, freed = result["full"], result["after_space_freed"]
        result["passed"] = (
            "message shown: True" in full["document_upload"]
            and "form again: True, message shown: True" in full["new_campaign"]
            and full["document_rows_added"] == full["campaign_rows_added"]
            == full["photo_rows_added"] == full["files_added"] == 0
            and not full["temporary_files"]
            and freed["document_rows_added"] == 2 and freed["campaign_rows_added"] == 1)
        result["seconds"] = round(time.monotonic() - started, 1)
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        subprocess.run(["rm", "-rf", str(work)], check=False)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:22} {value}")
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
