"""Photo checks by content: formats, bombs, size, EXIF orientation and stripping, re-encoding."""
import io
import warnings

import pytest
from PIL import Image

from app.campaigns.photos import (
    MAX_SIDE,
    PhotoError,
    process_image,
    read_upload,
    store_image,
)
from app.core.images import MAX_PIXELS
from tests.campaigns.images import gif_bytes, jpeg_bytes, png_bytes, png_header_only


def open_result(result):
    return Image.open(io.BytesIO(result.data))


def test_jpeg_is_reencoded_as_jpeg_without_metadata(app):
    result = process_image(jpeg_bytes((120, 80), with_gps=True))
    image = open_result(result)
    assert image.format == "JPEG"
    assert (result.width, result.height) == image.size == (120, 80)
    assert len(image.getexif()) == 0
    assert "exif" not in image.info


def test_exif_orientation_is_applied_then_dropped(app):
    result = process_image(jpeg_bytes((200, 100), orientation=6))
    image = open_result(result)
    assert image.size == (100, 200)
    assert image.getexif().get(0x0112) is None


def test_png_with_alpha_becomes_rgb_jpeg(app):
    image = open_result(process_image(png_bytes((50, 40), mode="RGBA")))
    assert image.format == "JPEG" and image.mode == "RGB"


def test_webp_is_accepted(app):
    out = io.BytesIO()
    Image.new("RGB", (30, 30), (1, 2, 3)).save(out, "WEBP")
    assert open_result(process_image(out.getvalue())).format == "JPEG"


def test_large_photo_is_scaled_to_max_side(app):
    result = process_image(jpeg_bytes((3000, 1000)))
    assert result.width == MAX_SIDE and result.height == 533


@pytest.mark.parametrize("data", [b"hello, not an image", b"", b"%PDF-1.4\n%...",
                                  b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_non_images_are_refused(app, data):
    with pytest.raises(PhotoError):
        process_image(data)


def test_gif_is_refused_even_though_pillow_reads_it(app):
    with pytest.raises(PhotoError, match="JPG、PNG 或 WebP"):
        process_image(gif_bytes())


def test_truncated_jpeg_is_refused(app):
    data = jpeg_bytes((400, 300))
    with pytest.raises(PhotoError):
        process_image(data[: len(data) // 2])


def test_bomb_header_with_huge_dimensions_is_refused(app):
    with pytest.raises(PhotoError, match="尺寸太大"):
        process_image(png_header_only(50_000, 50_000))


def test_pixel_count_just_over_the_bound_is_refused_not_warned(app):
    """Between MAX_PIXELS and twice that Pillow only warns; we refuse."""
    out = io.BytesIO()
    Image.new("1", (7000, 7000)).save(out, "PNG")
    assert 7000 * 7000 > MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PhotoError, match="尺寸太大"):
            process_image(out.getvalue())


def test_pillow_bound_is_lowered():
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS == 40_000_000


def test_read_upload_refuses_more_than_the_limit(app):
    with app.app_context():
        with pytest.raises(PhotoError, match="不能超过"):
            read_upload(io.BytesIO(b"x" * 101), limit=100)
        assert read_upload(io.BytesIO(b"x" * 100), limit=100) == b"x" * 100


def test_stored_under_random_key(app):
    with app.app_context():
        result = process_image(jpeg_bytes())
        first, second = store_image(result), store_image(result)
    assert first != second and len(first) == 32
