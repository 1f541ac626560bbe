"""The campaign form keeps chosen photos across a refused submission (the pending-photo store),
says the target's allowed range, and refuses someone else's pending photos."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.campaigns.models import Campaign
from app.campaigns.pending_photos import PENDING_MAX_AGE, PendingPhoto, prune_pending_photos
from app.campaigns.tasks import prune_pending_photos_job
from app.models_base import utcnow
from tests.campaigns.helpers import count_campaigns, form_data, stored_files
from tests.campaigns.images import jpeg_bytes, png_bytes, upload

RANGE = "目标金额需在 ¥1,000 – ¥500,000 之间"


def post_new(client, data, **files):
    payload = dict(data)
    payload.update(files)
    return client.post("/campaigns/new", data=payload, content_type="multipart/form-data")


def held() -> list[PendingPhoto]:
    from app.extensions import db

    return list(db.session.scalars(select(PendingPhoto).order_by(PendingPhoto.id)))


def held_ids(page: str, name: str) -> list[int]:
    return [int(v) for v in re.findall(rf'name="{name}" value="(\d+)" checked', page)]


@pytest.mark.parametrize("target", ["-1", "0", "600000", "－1", "999"])
def test_out_of_range_targets_say_the_range(db, patient_client, target):
    response = post_new(patient_client, form_data(target_yuan=target))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert RANGE in page
    assert "请填写数字" not in page
    assert count_campaigns() == 0


def test_the_form_states_the_range_before_anything_is_typed(db, patient_client):
    page = patient_client.get("/campaigns/new").get_data(as_text=True)
    assert "目标金额 ¥1,000 – ¥500,000" in page


def test_the_range_follows_the_configured_cap(db, app, patient_client, monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_TARGET_CAP_FEN", 200_000_00)
    page = post_new(patient_client, form_data(target_yuan="300000")).get_data(as_text=True)
    assert "目标金额需在 ¥1,000 – ¥200,000 之间" in page


def test_photos_survive_a_validation_error_and_are_used_on_the_next_try(db, patient_client,
                                                                        patient):
    response = post_new(patient_client, form_data(title="救命"),
                        cover=upload(jpeg_bytes((400, 300)), "封面.jpg"),
                        photos=[upload(png_bytes(), "a.png"), upload(jpeg_bytes(), "b.jpg")])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "标题需要 5 到 60 个字" in page
    pending = held()
    assert [p.organizer_id for p in pending] == [patient.id] * 3
    cover_ids, photo_ids = held_ids(page, "held_cover"), held_ids(page, "held_photos")
    assert cover_ids == [pending[0].id]
    assert photo_ids == [pending[1].id, pending[2].id]
    for photo in pending:   # thumbnails of what was kept
        assert f"/photos/{photo.storage_key}.jpg" in page
    assert count_campaigns() == 0

    # The form is sent again with the ids only (the browser does not resend files).
    response = post_new(patient_client, form_data(held_cover=[str(i) for i in cover_ids],
                                                  held_photos=[str(i) for i in photo_ids]))
    assert response.status_code == 302
    campaign = db.session.scalars(select(Campaign)).unique().one()
    assert [(p.width, p.height) for p in campaign.photos][0] == (400, 300)
    assert len(campaign.photos) == 3
    assert held() == []
    files = stored_files()
    assert all(f"{p.storage_key}.jpg" in files for p in campaign.photos)
    assert not any(f"{p.storage_key}.jpg" in files for p in pending)  # pending copies released


def test_an_unticked_photo_is_left_out(db, patient_client):
    post_new(patient_client, form_data(title="救命"), cover=upload(jpeg_bytes()),
             photos=[upload(jpeg_bytes(), "a.jpg")])
    cover, extra = held()
    response = post_new(patient_client, form_data(held_cover=[str(cover.id)]))
    assert response.status_code == 302
    assert len(db.session.scalars(select(Campaign)).unique().one().photos) == 1


def test_a_fresh_cover_replaces_the_held_one_which_becomes_a_photo(db, patient_client):
    post_new(patient_client, form_data(title="救命"), cover=upload(jpeg_bytes((200, 100))))
    (old_cover,) = held()
    response = post_new(patient_client, form_data(held_cover=[str(old_cover.id)]),
                        cover=upload(jpeg_bytes((300, 300))))
    assert response.status_code == 302
    photos = db.session.scalars(select(Campaign)).unique().one().photos
    assert [(p.width, p.height) for p in photos] == [(300, 300), (200, 100)]


def test_the_upload_endpoint_holds_a_photo_at_once(db, patient_client, patient):
    response = patient_client.post("/campaigns/photos/pending",
                                   data={"photos": [upload(jpeg_bytes((640, 480)))]},
                                   content_type="multipart/form-data")
    assert response.status_code == 201
    (photo,) = response.get_json()["photos"]
    assert photo["url"].startswith("/photos/") and (photo["width"], photo["height"]) == (640, 480)
    assert patient_client.get(photo["url"]).status_code == 200
    assert [p.id for p in held()] == [photo["id"]]


@pytest.mark.parametrize("files,message", [
    ([], "请选择要上传的照片"),
    ([(b"not an image", "x.jpg")], "无法识别该文件"),
])
def test_the_upload_endpoint_refuses_in_chinese_json(db, patient_client, files, message):
    response = patient_client.post("/campaigns/photos/pending",
                                   data={"photos": [upload(d, n) for d, n in files]},
                                   content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_json()["error"]["message"]
    assert held() == []


def test_the_upload_endpoint_wants_an_organizer(db, client, staff_client):
    data = {"photos": [upload(jpeg_bytes())]}
    anonymous = client.post("/campaigns/photos/pending", data=data,
                            content_type="multipart/form-data",
                            headers={"Accept": "application/json"})
    assert anonymous.status_code == 401
    staff = staff_client.post("/campaigns/photos/pending", data={"photos": [upload(jpeg_bytes())]},
                              content_type="multipart/form-data")
    assert staff.status_code == 403
    assert held() == []


def test_someone_elses_pending_photo_is_refused(db, app, patient_client, donor):
    other = app.test_client(user=donor)
    theirs = other.post("/campaigns/photos/pending", data={"photos": [upload(jpeg_bytes())]},
                        content_type="multipart/form-data").get_json()["photos"][0]["id"]
    for name in ("held_cover", "held_photos"):
        response = post_new(patient_client, form_data(**{name: [str(theirs)]}))
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "有照片已失效，请重新选择照片" in page
        assert f'value="{theirs}"' not in page
    assert count_campaigns() == 0
    assert [p.organizer_id for p in held()] == [donor.id]   # still theirs, untouched


@pytest.mark.parametrize("value", ["abc", "-3", "1" * 20])
def test_a_malformed_held_id_is_refused(db, patient_client, value):
    response = post_new(patient_client, form_data(held_photos=[value]))
    assert response.status_code == 422
    assert "照片信息有误" in response.get_data(as_text=True)


def test_held_and_fresh_photos_together_stay_within_eight(db, patient_client):
    photos = [upload(jpeg_bytes(), f"p{i}.jpg") for i in range(7)]
    post_new(patient_client, form_data(title="救命"), cover=upload(jpeg_bytes()), photos=photos)
    ids = [str(p.id) for p in held()]
    assert len(ids) == 8
    response = post_new(patient_client, form_data(held_cover=ids[:1], held_photos=ids[1:]),
                        photos=[upload(jpeg_bytes(), "one-more.jpg")])
    assert response.status_code == 422
    assert "最多上传 8 张照片" in response.get_data(as_text=True)


def test_unused_pending_photos_are_pruned_after_a_day(db, patient_client):
    post_new(patient_client, form_data(title="救命"), cover=upload(jpeg_bytes()))
    (photo,) = held()
    key = photo.storage_key
    assert prune_pending_photos_job() == 0
    assert prune_pending_photos(utcnow() + PENDING_MAX_AGE + timedelta(minutes=1)) == 1
    assert held() == [] and f"{key}.jpg" not in stored_files()


def test_the_form_page_loads_the_script_that_jumps_to_the_first_error(db, patient_client):
    page = post_new(patient_client, form_data(story="")).get_data(as_text=True)
    assert "js/forms.js" in page
    assert 'class="field  has-error"' in page or "has-error" in page


def test_an_organizer_holds_a_bounded_number_of_pending_photos(db, patient):
    from app.campaigns import pending_photos
    from app.campaigns.errors import CampaignError
    from app.campaigns.photos import process_image

    image = process_image(jpeg_bytes())
    pending_photos.hold_photos(patient, [image] * pending_photos.PENDING_PER_ORGANIZER)
    before = stored_files()
    with pytest.raises(CampaignError, match="待用的照片太多了"):
        pending_photos.hold_photos(patient, [image])
    assert len(held()) == pending_photos.PENDING_PER_ORGANIZER and stored_files() == before
