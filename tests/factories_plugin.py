"""Fixtures for signed-in principals, built from the factories."""
import pytest

from app.auth.models import StaffRole
from tests.factories import CampaignFactory, StaffFactory, UserFactory


@pytest.fixture()
def patient(db):
    return UserFactory(nickname="小明妈妈")


@pytest.fixture()
def donor(db):
    return UserFactory(nickname="爱心人士")


@pytest.fixture()
def staff(db):
    return StaffFactory(role=StaffRole.reviewer)


@pytest.fixture()
def admin(db):
    return StaffFactory(role=StaffRole.admin)


@pytest.fixture()
def patient_client(app, patient):
    return app.test_client(user=patient)


@pytest.fixture()
def donor_client(app, donor):
    return app.test_client(user=donor)


@pytest.fixture()
def staff_client(app, staff):
    return app.test_client(user=staff)


def add_cover(campaign, organizer):
    """Give a factory-built campaign a real (re-encoded, stored) cover photo, as submit needs."""
    from app.campaigns.photos import process_image
    from app.campaigns.services import add_photos
    from tests.campaigns.images import jpeg_bytes

    add_photos(campaign, organizer, [process_image(jpeg_bytes((320, 240)))])
    return campaign


@pytest.fixture()
def draft_campaign(db, patient):
    """A draft of the patient's, with a cover photo, ready to submit."""
    return add_cover(CampaignFactory(organizer=patient), patient)


@pytest.fixture()
def submitted_campaign(db, patient, draft_campaign):
    from app.campaigns.services import submit_campaign

    return submit_campaign(draft_campaign, by_user=patient)


@pytest.fixture()
def live_campaign(db, patient, staff):
    """A campaign taken live through the real services: submitted, then approved by staff."""
    from app.campaigns.services import approve_campaign, submit_campaign

    campaign = add_cover(CampaignFactory(organizer=patient), patient)
    submit_campaign(campaign, by_user=patient)
    approve_campaign(campaign, by_staff=staff, reason="材料齐全")
    return campaign
