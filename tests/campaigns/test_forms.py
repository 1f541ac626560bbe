"""Bad input on the campaign form: the form again, a Chinese message, nothing saved."""
import pytest

from sqlalchemy import func, select

from app.campaigns.models import Campaign
from app.campaigns.pending_photos import PendingPhoto
from app.extensions import db as _db
from tests.campaigns.helpers import count_campaigns, form_data, stored_files
from tests.campaigns.images import gif_bytes, jpeg_bytes, png_bytes, png_header_only, upload


def held_count() -> int:
    return _db.session.scalar(select(func.count()).select_from(PendingPhoto))


def post_new(client, data, **files):
    payload = dict(data)
    payload.update(files)
    return client.post("/campaigns/new", data=payload, content_type="multipart/form-data")


def test_valid_form_saves_a_draft_with_photos(db, patient_client, patient):
    response = post_new(patient_client, form_data(target_yuan="123,456.78"),
                        cover=upload(jpeg_bytes((400, 300)), "封面.jpg"),
                        photos=[upload(png_bytes(), "a.png"), upload(jpeg_bytes(), "b.jpeg")])
    assert response.status_code == 302
    campaign = db.session.scalars(db.select(Campaign)).unique().one()
    assert response.headers["Location"].endswith(f"/c/{campaign.id}")
    assert campaign.organizer_id == patient.id and campaign.status.value == "draft"
    assert campaign.target_fen == 12_345_678 and isinstance(campaign.target_fen, int)
    assert campaign.duration_days == 30
    assert (campaign.has_medical_insurance, campaign.has_commercial_insurance) == (True, False)
    assert len(campaign.photos) == 3 and campaign.cover.width == 400
    names = stored_files()
    for photo in campaign.photos:
        assert f"{photo.storage_key}.jpg" in names
    assert not any("封面" in name or name.startswith(("a", "b.")) and len(name) < 10
                   for name in names)


def test_photos_are_optional_for_a_draft(db, patient_client):
    assert post_new(patient_client, form_data()).status_code == 302
    assert count_campaigns() == 1


BAD_FIELDS = [
    ("title", "", "请填写筹款标题"),
    ("title", "救命", "标题需要 5 到 60 个字"),
    ("title", "长" * 61, "标题需要 5 到 60 个字"),
    ("patient_name", "", "请填写患者姓名"),
    ("patient_name", "王" * 33, "患者姓名需要 2 到 32 个字"),
    ("relation", "", "请选择您与患者的关系"),
    ("relation", "boss", "请选择您与患者的关系"),
    ("diagnosis", "", "请填写所患疾病"),
    ("hospital", "", "请填写就诊医院"),
    ("hospital", "院" * 101, "医院名称需要 2 到 100 个字"),
    ("target_yuan", "", "请填写目标金额"),
    ("target_yuan", "abc", "目标金额请填写 ¥1,000 – ¥500,000 之间的数字"),
    ("target_yuan", "1e5", "目标金额请填写 ¥1,000 – ¥500,000 之间的数字"),
    ("target_yuan", "-5000", "目标金额需在 ¥1,000 – ¥500,000 之间"),
    ("target_yuan", "1000.001", "目标金额请填写 ¥1,000 – ¥500,000 之间的数字"),
    ("target_yuan", "999.99", "目标金额需在 ¥1,000 – ¥500,000 之间"),
    ("target_yuan", "500000.01", "目标金额需在 ¥1,000 – ¥500,000 之间"),
    ("duration_days", "", "请填写筹款天数"),
    ("duration_days", "6", "筹款天数需在 7 到 90 天之间"),
    ("duration_days", "91", "筹款天数需在 7 到 90 天之间"),
    ("duration_days", "30.5", "筹款天数请填写整数"),
    ("duration_days", "３０", "筹款天数请填写整数"),
    ("story", "", "请填写求助故事"),
    ("story", "太短了", "求助故事需要 20 到 5000 个字"),
    ("story", "长" * 5001, "求助故事需要 20 到 5000 个字"),
    ("house", "castle", "请选择家庭房产情况"),
    ("car", "", "请选择家庭车辆情况"),
    ("savings", "lots", "请选择家庭存款情况"),
    ("medical_insurance", None, "请选择是否有基本医疗保险"),
    ("medical_insurance", "maybe", "请选择是否有基本医疗保险"),
    ("commercial_insurance", None, "请选择是否有商业保险"),
    ("disclosure_note", "说" * 301, "其他说明不能超过 300 个字"),
]


@pytest.mark.parametrize("name,value,message", BAD_FIELDS)
def test_each_bad_field_is_refused_in_chinese(db, patient_client, name, value, message):
    before = stored_files()
    response = post_new(patient_client, form_data(**{name: value}),
                        cover=upload(jpeg_bytes(), "cover.jpg"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "有些内容需要修改" in page
    assert count_campaigns() == 0
    # the valid cover is kept for the next try (pending-photo store), nothing else is written
    assert len(stored_files() - before) == 1 and held_count() == 1


def test_what_was_typed_is_kept(db, patient_client):
    page = post_new(patient_client, form_data(title="救命", hospital="华西医院")).get_data(
        as_text=True)
    assert 'value="华西医院"' in page


@pytest.mark.parametrize("data,name,message", [
    (b"just some text", "photo.jpg", "无法识别该文件"),
    (b"MZ\x90\x00 an executable", "cover.png", "无法识别该文件"),
    (gif_bytes(), "anim.gif", "JPG、PNG 或 WebP"),
    (png_header_only(40_000, 40_000), "huge.png", "图片尺寸太大"),
], ids=["text", "exe", "gif", "bomb"])
def test_bad_uploads_are_refused(db, patient_client, data, name, message):
    before = stored_files()
    response = post_new(patient_client, form_data(), cover=upload(data, name))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and name in page
    assert count_campaigns() == 0 and stored_files() == before


def test_one_bad_photo_among_good_ones_saves_nothing(db, patient_client):
    before = stored_files()
    response = post_new(patient_client, form_data(), cover=upload(jpeg_bytes()),
                        photos=[upload(jpeg_bytes(), "ok.jpg"), upload(b"nope", "bad.jpg")])
    assert response.status_code == 422
    assert count_campaigns() == 0
    # the good ones are kept for the next try; the bad one is named and not kept
    assert "bad.jpg" in response.get_data(as_text=True)
    assert len(stored_files() - before) == 2 and held_count() == 2


def test_oversized_upload_is_refused(db, app, patient_client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_BYTES", 1024 * 1024)
    big = jpeg_bytes((10, 10)) + b"\0" * (1024 * 1024)
    response = post_new(patient_client, form_data(), cover=upload(big, "big.jpg"))
    assert response.status_code == 422
    assert "图片不能超过 1 MB" in response.get_data(as_text=True)
    assert count_campaigns() == 0


def test_more_than_eight_photos_is_refused(db, patient_client):
    photos = [upload(jpeg_bytes(), f"p{i}.jpg") for i in range(8)]
    response = post_new(patient_client, form_data(), cover=upload(jpeg_bytes()), photos=photos)
    assert response.status_code == 422
    assert "最多上传 8 张照片" in response.get_data(as_text=True)
    assert count_campaigns() == 0


def test_image_is_judged_by_content_not_name(db, patient_client):
    response = post_new(patient_client, form_data(), cover=upload(png_bytes(), "scan.txt"))
    assert response.status_code == 302
    assert len(db.session.scalars(db.select(Campaign)).unique().one().photos) == 1
