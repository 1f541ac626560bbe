"""Checking uploaded documents by their content, never by name or declared type.

Accepted: JPEG and PNG images (decoded by Pillow, pixel count bounded, re-encoded as a fresh JPEG
with no metadata) and PDF (parsed by pypdf, size- and page-limited, refused if it carries
JavaScript, launch actions, embedded files or forms that submit). Everything else is refused
with a message the uploader can act on, before anything is stored.
"""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from typing import Any, BinaryIO

from pypdf import PdfReader

from app.core.images import ImageRejected, reencode_image
from pypdf.errors import PdfReadError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

IMAGE_FORMATS = ("JPEG", "PNG")
MAX_SIDE = 2400  # documents keep more detail than photos: small print must stay legible
JPEG_QUALITY = 88
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 30
MAX_PDF_OBJECTS = 50_000
MAX_FILES = 9
FILENAME_MAX = 200
# Names that make a PDF do something beyond showing pages.
FORBIDDEN_PDF_NAMES = frozenset({
    "/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia",
    "/SubmitForm", "/ImportData", "/XFA", "/GoToE"})
RAW_PDF_PATTERN = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)\b")

logging.getLogger("pypdf").setLevel(logging.ERROR)

UNKNOWN = "无法识别该文件。请上传 JPG、PNG 格式的照片或 PDF 文件"


class UploadError(Exception):
    """An upload we refuse; the message is shown to the uploader."""


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    content_type: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None


def check_filename(name: str | None) -> None:
    """Only the content decides the type, but a name that tries to be a path is refused.

    The name is never stored (files get random keys), so this only keeps path tricks out of
    logs and tools. ':' counts as a path: a drive (C:) or an NTFS stream (scan.jpg:x). Werkzeug
    from 3.1.9 unescapes backslashes in a quoted multipart file name, so C:\\Users\\a.jpg may
    arrive as C:Usersa.jpg; the colon refuses both spellings alike."""
    name = name or ""
    if (len(name) > FILENAME_MAX or any(ch in name for ch in "/\\:") or ".." in name
            or any(ord(ch) < 32 for ch in name) or name.startswith(("~", "."))):
        raise UploadError("文件名不合法，请重命名后再上传（不要包含路径或特殊字符）")


def read_limited(stream: BinaryIO, limit: int = MAX_PDF_BYTES) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadError(f"单个文件不能超过 {limit // (1024 * 1024)} MB")
    if not data:
        raise UploadError("上传的文件是空的")
    return data


def check_upload(storage) -> CheckedFile:
    """A werkzeug FileStorage → CheckedFile, or UploadError."""
    check_filename(storage.filename)
    return check_bytes(read_limited(storage.stream))


def check_uploads(storages) -> list[CheckedFile]:
    """All or nothing: every file must pass before any is kept."""
    files = [s for s in storages or [] if s is not None and getattr(s, "filename", "")]
    if not files:
        raise UploadError("请选择要上传的文件")
    if len(files) > MAX_FILES:
        raise UploadError(f"一次最多上传 {MAX_FILES} 个文件")
    checked = []
    for index, storage in enumerate(files, start=1):
        try:
            checked.append(check_upload(storage))
        except UploadError as error:
            prefix = f"第 {index} 个文件：" if len(files) > 1 else ""
            raise UploadError(prefix + str(error)) from None
    return checked


def check_bytes(data: bytes) -> CheckedFile:
    if data.startswith(b"%PDF-"):
        return check_pdf(data)
    if data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        if len(data) > MAX_IMAGE_BYTES:
            raise UploadError(f"图片不能超过 {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
        return check_image(data)
    raise UploadError(UNKNOWN)


# --- images ---------------------------------------------------------------------------------------

def check_image(data: bytes) -> CheckedFile:
    try:
        jpeg = reencode_image(data, IMAGE_FORMATS, MAX_SIDE, JPEG_QUALITY)
    except ImageRejected as rejected:
        if rejected.reason == "too_large":
            raise UploadError("图片尺寸太大（像素过多），请缩小后再上传") from None
        raise UploadError("图片已损坏或无法识别，请重新拍摄后上传") from None
    return CheckedFile(data=jpeg.data, content_type="image/jpeg", width=jpeg.width,
                       height=jpeg.height)


# --- PDF ------------------------------------------------------------------------------------------

def check_pdf(data: bytes) -> CheckedFile:
    if len(data) > MAX_PDF_BYTES:
        raise UploadError(f"PDF 文件不能超过 {MAX_PDF_BYTES // (1024 * 1024)} MB")
    if RAW_PDF_PATTERN.search(data):
        raise UploadError(_ACTIVE)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadError("PDF 文件设置了密码，请去掉密码后再上传")
        pages = len(reader.pages)
        _walk(reader.trailer)
    except UploadError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError,
            RecursionError, OSError, IndexError):
        raise UploadError("PDF 文件已损坏或无法打开，请重新导出后上传") from None
    if pages < 1:
        raise UploadError("PDF 文件没有页面")
    if pages > MAX_PDF_PAGES:
        raise UploadError(f"PDF 文件不能超过 {MAX_PDF_PAGES} 页，请拆分后上传")
    return CheckedFile(data=data, content_type="application/pdf", pages=pages)


_ACTIVE = "PDF 文件包含脚本、附件或自动操作，出于安全考虑无法接收。请打印后拍照，或重新导出为普通 PDF"


def _walk(node: Any) -> None:
    """Visit every object reachable from the trailer (bounded, without recursion) looking for
    names that run code, launch programs or carry files; names are decoded (#xx escapes)."""
    seen: set[tuple[int, int]] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ident = (item.idnum, item.generation)
            if ident in seen:
                continue
            seen.add(ident)
            if len(seen) > MAX_PDF_OBJECTS:
                raise UploadError("PDF 文件结构过于复杂，请重新导出后上传")
            stack.append(item.get_object())
        elif isinstance(item, DictionaryObject):
            for name, value in item.items():
                if str(name) in FORBIDDEN_PDF_NAMES:
                    raise UploadError(_ACTIVE)
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject) and str(item) in FORBIDDEN_PDF_NAMES:
            raise UploadError(_ACTIVE)
