"""Helpers for the sharing tests: people arriving through links, paid donations, QR decoding."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from app.extensions import db, limiter
from app.models_base import utcnow
from app.sharing import services
from app.sharing.models import ShareChannel
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _reset_rate_limits(app):
    limiter.reset()
    yield


@dataclass
class Person:
    user_id: int | None
    visitor_id: str | None = None


@pytest.fixture()
def person(db):
    """A signed-in WeChat user, by nickname."""

    def make(nickname: str) -> Person:
        return Person(UserFactory(nickname=nickname).id)

    return make


def arrive(link, who: Person, channel: ShareChannel = ShareChannel.chat):
    """`who` opens `link` (a ShareLink): the service the /s/ view calls."""
    return services.record_visit(link.token, channel, who.user_id, who.visitor_id)


def share(campaign, who: Person):
    return services.share_link_for(campaign, who.user_id, who.visitor_id)


def paid_donation(campaign, who: Person, amount_fen: int, anonymous: bool = False):
    """A paid Donation row, as the payments code leaves it after the notice commits."""
    from app.donations.models import Donation

    donation = Donation(campaign_id=campaign.id, user_id=who.user_id, amount_fen=amount_fen,
                        anonymous=anonymous, paid_at=utcnow())
    db.session.add(donation)
    db.session.commit()
    return donation


def decode_qr(jpeg_or_png: bytes) -> str:
    """Decode the one QR code in an image with OpenCV's detector (a real decoder)."""
    import cv2

    pixels = cv2.imdecode(np.frombuffer(jpeg_or_png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    # OpenCV's locator can be distracted by the rest of a poster (cover, progress bar): look at
    # the whole image first, then at its lower half where the code sits, then enlarged.
    height = pixels.shape[0]
    lower = pixels[height // 2:, :]
    views = [pixels, lower, cv2.resize(lower, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)]
    points = None
    for view in views:
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            text, points, _ = detector.detectAndDecode(view)
            if points is not None and text:
                return text
    assert points is not None, "no QR code found"
    return text
