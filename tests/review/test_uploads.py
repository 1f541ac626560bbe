"""Document uploads: recognised by content; every bad input refused with a clear message and
nothing stored; good images re-encoded without metadata."""
import io

import pytest
from PIL import Image

from app.review.models import CampaignDocument
from tests.review import files
from tests.review.helpers import document_count, stored_keys
from tests.review.files import upload


def post(client, campaign, data: bytes, name: str = "scan.jpg", kind: str = "diagnosis"):
    return client.post(f"/c/{campaign.id}/documents", content_type="multipart/form-data",
                       data={"kind": kind, "files": [upload(data, name)]},
                       follow_redirects=True)


BAD = [
    ("renamed executable", files.EXECUTABLE, "diagnosis.jpg", "无法识别该文件"),
    ("svg", files.SVG, "scan.svg", "无法识别该文件"),
    ("svg named png", files.SVG, "scan.png", "无法识别该文件"),
    ("html", files.HTML, "report.html", "无法识别该文件"),
    ("html named pdf", files.HTML, "report.pdf", "无法识别该文件"),
    ("pdf with javascript", files.pdf_with_javascript(), "report.pdf", "包含脚本"),
    ("pdf with escaped javascript names", files.pdf_with_javascript(escape_names=True),
     "report.pdf", "包含脚本"),
    ("pdf with launch action", files.pdf_with_launch(), "report.pdf", "包含脚本"),
    ("pdf with embedded file", files.pdf_with_attachment(), "report.pdf", "包含脚本"),
    ("pdf with too many pages", files.pdf_bytes(31), "long.pdf", "不能超过 30 页"),
    ("truncated pdf", files.pdf_bytes(1)[:60], "broken.pdf", "PDF 文件已损坏"),
    ("20000 x 20000 image", files.png_header_only(20_000, 20_000), "huge.png", "图片尺寸太大"),
    ("9000 x 9000 image (over the bound, under Pillow's error)",
     files.png_header_only(9_000, 9_000), "big.png", "图片尺寸太大"),
    ("path-like file name", files.jpeg_bytes(), "../../etc/passwd.jpg", "文件名不合法"),
    ("windows path file name", files.jpeg_bytes(), "C:\\Users\\a\\scan.jpg", "文件名不合法"),
    ("empty file", b"", "empty.jpg", "文件是空的"),
]


@pytest.mark.parametrize("label,data,name,message", BAD, ids=[b[0] for b in BAD])
def test_bad_uploads_are_refused_and_nothing_is_stored(db, patient_client, draft_campaign,
                                                      label, data, name, message):
    before = stored_keys()
    response = post(patient_client, draft_campaign, data, name)
    assert message in response.get_data(as_text=True), label
    assert document_count() == 0
    assert stored_keys() == before


def test_one_bad_file_among_good_ones_stores_none(db, patient_client, draft_campaign):
    before = stored_keys()
    response = patient_client.post(
        f"/c/{draft_campaign.id}/documents", content_type="multipart/form-data",
        data={"kind": "diagnosis", "files": [upload(files.jpeg_bytes()), upload(files.SVG, "x.jpg")]},
        follow_redirects=True)
    assert "第 2 个文件" in response.get_data(as_text=True)
    assert document_count() == 0 and stored_keys() == before


def test_a_100_mb_upload_gets_413_with_a_chinese_page(db, patient_client, draft_campaign):
    before = stored_keys()
    big = b"\xff\xd8\xff" + b"\x00" * (100 * 1024 * 1024)
    response = patient_client.post(f"/c/{draft_campaign.id}/documents",
                                   content_type="multipart/form-data",
                                   data={"kind": "diagnosis", "files": [upload(big)]})
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "上传的文件太大" in html and "MB" in html and "<html" in html
    assert document_count() == 0 and stored_keys() == before


def test_image_is_reencoded_without_exif_and_stored_under_a_random_key(
        app, db, patient_client, draft_campaign):
    response = post(patient_client, draft_campaign,
                    files.jpeg_bytes((800, 600), with_gps=True), "我的诊断证明.jpg")
    assert "已上传 1 个文件" in response.get_data(as_text=True)
    document = db.session.query(CampaignDocument).one()
    assert document.content_type == "image/jpeg" and "诊断" not in document.storage_key
    served = patient_client.get(f"/documents/{document.id}")
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "JPEG" and not image.getexif()
    assert b"SecretPhone" not in served.data
    # Encrypted at rest: the file on disk is not the JPEG.
    from pathlib import Path

    on_disk = next((Path(app.config["UPLOAD_DIR"]) / "private").glob("*/*.bin")).read_bytes()
    assert not on_disk.startswith(b"\xff\xd8") and b"JFIF" not in on_disk


def test_png_and_pdf_are_accepted(db, patient_client, draft_campaign):
    post(patient_client, draft_campaign, files.png_bytes(), "card.png", kind="patient_id")
    post(patient_client, draft_campaign, files.pdf_bytes(3), "bill.pdf", kind="costs")
    docs = {d.kind.value: d for d in db.session.query(CampaignDocument)}
    assert docs["patient_id"].content_type == "image/jpeg"
    assert docs["costs"].content_type == "application/pdf" and docs["costs"].pages == 3


def test_uploads_are_refused_while_in_review(db, patient_client, patient):
    from tests.review.helpers import submitted_ready

    campaign = submitted_ready(patient)
    count = document_count()
    response = post(patient_client, campaign, files.jpeg_bytes())
    assert "现在不能上传材料" in response.get_data(as_text=True)
    assert document_count() == count


# An old browser (IE, some Android WebViews) sends the whole Windows path as the file name, with
# its backslashes as they are; a careful client escapes them (RFC 7578's quoted-string). Werkzeug
# up to 3.1.8 hands the view C:\Users\a\scan.jpg either way; from 3.1.9 it unescapes, and the
# unescaped spelling arrives as C:Usersascan.jpg. The platform refuses the name in every case.
WINDOWS_DISPOSITIONS = {
    "as an old browser sends it": 'filename="C:\\Users\\a\\scan.jpg"',
    "escaped as RFC 7578 allows": 'filename="C:\\\\Users\\\\a\\\\scan.jpg"',
}


@pytest.mark.parametrize("disposition", WINDOWS_DISPOSITIONS.values(),
                         ids=WINDOWS_DISPOSITIONS.keys())
def test_a_windows_path_is_refused_however_werkzeug_unescapes_it(db, patient_client,
                                                                 draft_campaign, disposition):
    boundary = "xiangzhu-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ndiagnosis\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; {disposition}\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + files.jpeg_bytes() + \
        f"\r\n--{boundary}--\r\n".encode()
    before = stored_keys()
    response = patient_client.post(f"/c/{draft_campaign.id}/documents", data=body,
                                   content_type=f"multipart/form-data; boundary={boundary}",
                                   follow_redirects=True)
    assert "文件名不合法" in response.get_data(as_text=True)
    assert document_count() == 0 and stored_keys() == before


@pytest.mark.parametrize("name", ["C:\\Users\\a\\scan.jpg", "C:Usersascan.jpg",
                                  "scan.jpg:Zone.Identifier", "..\\..\\scan.jpg"])
def test_every_spelling_of_a_path_is_refused(name):
    from app.core.uploads import UploadError, check_filename

    with pytest.raises(UploadError, match="文件名不合法"):
        check_filename(name)


@pytest.mark.parametrize("name", ["我的诊断证明.jpg", "scan (1).JPG", "出院小结 第2页.pdf"])
def test_ordinary_names_pass(name):
    from app.core.uploads import check_filename

    check_filename(name)


def test_the_documents_page_offers_no_empty_section_for_a_raises_bills(patient_client,
                                                                       draft_campaign):
    html = patient_client.get(f"/c/{draft_campaign.id}/documents").get_data(as_text=True)
    assert "kind-diagnosis" in html and "kind-raise_bills" not in html
