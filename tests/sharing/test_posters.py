"""QR posters and thank-you certificates: what they show, how they are cached and made."""
from __future__ import annotations

import dataclasses
import io

from PIL import Image, ImageChops, ImageDraw

from app.extensions import db, jobs
from app.sharing import poster_store, tasks
from app.sharing.posters import (FIGURE_SIZE, FIGURE_XY, TITLE_SIZE, PosterContent, figure_text,
                                 font, poster_progress, renderer, title_boxes)
from tests.sharing.conftest import Person, decode_qr, paid_donation, share

NOTDEF = "\U000F0000"     # a code point the font has no glyph for: drawn as its .notdef box


def content(**changes) -> PosterContent:
    raised, percent = poster_progress(123_456_00, 300_000_00)
    base = PosterContent(kind="poster", campaign_id=1, title="救救我的孩子，六岁确诊白血病",
                         plea="确诊白血病，正在北京儿童医院治疗，恳请帮帮 TA", cover_key="",
                         raised_fen=raised, target_fen=300_000_00, percent=percent,
                         sharer_name="小明妈妈", avatar_url="",
                         link="https://xiangzhu.example/s/AbCdEfGh123/p")
    return dataclasses.replace(base, **changes)


def test_poster_size_and_qr_code_decodes_to_the_sharers_link():
    poster = content()
    data = renderer.render_jpeg(poster, None, None)
    image = Image.open(io.BytesIO(data))
    assert image.size == (750, 1334) and image.format == "JPEG"
    assert decode_qr(data) == poster.link


def test_chinese_title_is_drawn_with_real_glyphs_not_the_missing_glyph_box():
    poster = content()
    fnt = font(TITLE_SIZE)
    notdef = fnt.getmask(NOTDEF)
    for char in poster.title:
        glyph = fnt.getmask(char)
        assert (glyph.size, bytes(glyph)) != (notdef.size, bytes(notdef)), char
    image = renderer.render(poster, None, None)
    (line, (x, y)), *_ = title_boxes(poster)
    box = (x, y, x + int(fnt.getlength(line)) + 2, y + TITLE_SIZE + 12)

    def drawn(text: str) -> Image.Image:
        canvas = Image.new("RGB", image.size, "white")
        ImageDraw.Draw(canvas).text((x, y), text, font=fnt, fill=(34, 34, 34), stroke_width=1,
                                    stroke_fill=(34, 34, 34))
        return canvas.crop(box).convert("L")

    on_poster = image.crop(box).convert("L")
    same = ImageChops.difference(on_poster, drawn(line)).getbbox()
    boxes = ImageChops.difference(on_poster, drawn(NOTDEF * len(line)))
    assert same is None                               # exactly the real glyphs …
    assert sum(boxes.histogram()[64:]) > 2000         # … and far from a row of boxes


def test_the_poster_shows_the_exact_figure_and_is_drawn_again_when_money_comes_in():
    assert poster_progress(0, 300_000_00) == (0, 0)
    assert poster_progress(10_00, 300_000_00) == (10_00, 0)        # never rounded down to ¥0
    assert poster_progress(1_499_99, 300_000_00) == (1_499_99, 0)
    assert poster_progress(3_000_00, 300_000_00) == (3_000_00, 1)
    assert poster_progress(400_000_00, 300_000_00) == (400_000_00, 100)
    assert content(raised_fen=10_00).digest() != content(raised_fen=0).digest()
    assert content(donation_count=2).digest() != content(donation_count=1).digest()
    assert content(raised_fen=10_00).static_key() == content(raised_fen=0).static_key()
    assert content().digest() == content().digest()
    assert content(cover_key="abc").digest() != content().digest()
    assert content(percent=42).digest() != content().digest()
    assert content(sharer_name="别人").static_key() == content().static_key()


def test_poster_job_end_to_end(app, client, live_campaign, patient, run_jobs):
    response = client.post(f"/c/{live_campaign.id}/poster")
    assert response.status_code == 302
    location = response.headers["Location"]
    if not jobs.inline:
        assert "/posters/jobs/poster-" in location
        job = jobs.fetch(location.split("/posters/jobs/")[1].split("?")[0])
        assert job.origin == "posters" and job.timeout == 60 and job.retries_left == 3
        page = client.get(location)
        assert page.status_code == 200 and "正在生成海报" in page.get_data(as_text=True)
        run_jobs()
        status = client.get(location.replace("?", ".json?", 1)).get_json()
        assert status["state"] == "finished" and status["progress"] == 100
        location = status["page"]
    assert "/posters/" in location and "/jobs/" not in location
    page = client.get(location)
    assert page.status_code == 200 and "长按图片保存" in page.get_data(as_text=True)
    digest = location.split("/posters/")[1].split("?")[0]
    image = client.get(f"/posters/{digest}.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.cache_control.max_age == 365 * 24 * 3600 and image.cache_control.immutable
    token = client.post(f"/c/{live_campaign.id}/share/link", json={}).get_json()["token"]
    assert decode_qr(image.data) == app.config["PUBLIC_BASE_URL"] + f"/s/{token}/p"
    # Asked again: the same poster, straight away, no new job.
    again = client.post(f"/c/{live_campaign.id}/poster")
    assert again.headers["Location"].split("?")[0].endswith(f"/posters/{digest}")


def test_poster_is_redrawn_when_money_came_in_and_kept_otherwise(app, live_campaign, patient):
    link = share(live_campaign, Person(patient.id))
    first = tasks.request_share_poster(link, live_campaign)
    tasks.render_share_poster(link.id)
    assert tasks.request_share_poster(link, live_campaign) == \
        tasks.PosterTicket(first.digest, None, True)    # nothing moved: the same file
    live_campaign.raised_fen += 50_00           # one small donation: a poster that says so
    live_campaign.donation_count += 1
    db.session.commit()
    again = tasks.request_share_poster(link, live_campaign)
    assert again.digest != first.digest


def test_broken_cover_and_avatars_fall_back_to_placeholders(app, live_campaign, patient, standin):
    from app.campaigns.photos import photo_path

    photo_path(live_campaign.cover.storage_key).write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    patient.avatar_url = standin.base_url + "standin/avatar/nobody.svg"     # Pillow can't read
    db.session.commit()
    link = share(live_campaign, Person(patient.id))
    digest = tasks.render_share_poster(link.id)
    assert poster_store.poster_exists(digest)
    patient.avatar_url = "http://127.0.0.1:9/closed-port.jpg"
    db.session.commit()
    assert poster_store.poster_exists(tasks.render_share_poster(link.id))
    good = io.BytesIO()
    Image.new("RGB", (400, 400), "red").save(good, "JPEG")
    assert poster_store.decode_image(good.getvalue()).size == (400, 400)
    assert poster_store.decode_image(good.getvalue()[:600]) is None          # truncated
    assert poster_store.decode_image(b"GIF89a garbage") is None
    assert poster_store.decode_image(b"") is None


def test_thank_you_certificate(app, live_campaign, donor, standin):
    donation = paid_donation(live_campaign, Person(donor.id), 52_00)
    donor_client = app.test_client(user=donor)
    response = donor_client.post(f"/donations/{donation.id}/certificate")
    assert response.status_code == 302
    if not jobs.inline:
        from rq import SimpleWorker

        SimpleWorker([jobs.queue("posters")], connection=jobs.redis).work(burst=True)
        job_id = response.headers["Location"].split("/posters/jobs/")[1].split("?")[0]
        digest = tasks.job_state(job_id)["digest"]
    else:
        digest = response.headers["Location"].split("/posters/")[1].split("?")[0]
    data = poster_store.poster_path(digest).read_bytes()
    own = share(live_campaign, Person(donor.id))
    assert decode_qr(data) == app.config["PUBLIC_BASE_URL"] + f"/s/{own.token}/p"
    prepared, _campaign = tasks._certificate_content(donation.id)
    assert (prepared.donor_name, prepared.amount_fen) == ("爱心人士", 52_00)
    donation.anonymous = True
    db.session.commit()
    assert tasks._certificate_content(donation.id)[0].donor_name == "匿名"
    # Only the donor may make it.
    assert app.test_client().post(f"/donations/{donation.id}/certificate").status_code == 302
    stranger = app.test_client(user=live_campaign.organizer)
    assert stranger.post(f"/donations/{donation.id}/certificate").status_code == 404


def test_prerender_command_draws_every_live_campaign(app, live_campaign):
    result = app.test_cli_runner().invoke(args=["sharing", "prerender-posters"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 posters ready" in result.output
    assert len(list(poster_store.poster_dir().glob("*.jpg"))) >= 1


def test_poster_requests_are_rate_limited_per_person(app, live_campaign, donor):
    signed_in = app.test_client(user=donor)
    codes = [signed_in.post(f"/c/{live_campaign.id}/poster").status_code for _ in range(21)]
    assert codes[:20] == [302] * 20 and codes[20] == 429
    assert app.test_client().post(f"/c/{live_campaign.id}/poster").status_code == 302


def test_old_posters_and_stale_temporary_files_are_pruned(app, live_campaign, patient):
    import os
    import time

    link = share(live_campaign, Person(patient.id))
    digest = tasks.render_share_poster(link.id)
    kept = poster_store.poster_path(digest)
    old = poster_store.store_poster("0" * 64, b"old")
    leftover = poster_store.poster_dir() / ".x.tmp"
    leftover.write_bytes(b"half")
    month_ago = time.time() - 31 * 86400
    for path in (old, leftover, kept):
        os.utime(path, (month_ago, month_ago))
    tasks.request_share_poster(link, live_campaign)      # asked for again: kept
    assert tasks.prune_posters() == 2
    assert kept.exists() and not old.exists() and not leftover.exists()


def _figure_on(image: Image.Image, text: str) -> bool:
    """Whether `text` is what the poster drew at its figure's place, pixel for pixel."""
    fnt = font(FIGURE_SIZE)
    x, y = FIGURE_XY
    box = (x, y, x + int(fnt.getlength(text)) + 2, y + FIGURE_SIZE + 10)
    canvas = Image.new("RGB", image.size, "white")
    ImageDraw.Draw(canvas).text(FIGURE_XY, text, font=fnt, fill=(240, 72, 62))
    return ImageChops.difference(image.crop(box), canvas.crop(box)).getbbox() is None


def test_after_a_donation_the_sharers_poster_says_what_came_in(app, client, live_campaign,
                                                               person):
    from tests.factories import UserFactory
    from tests.payouts.helpers import donate

    donate(client, live_campaign, UserFactory(nickname="第一位捐款人"), 88_00)
    db.session.refresh(live_campaign)
    link = share(live_campaign, person("小明妈妈"))
    poster = poster_store.content_for_share(link, live_campaign)
    assert (poster.raised_fen, poster.donation_count) == (88_00, 1)
    image = renderer.render(poster, None, None)
    assert figure_text(poster) == "¥88"
    assert _figure_on(image, "¥88") and not _figure_on(image, "¥0")
