"""wsgi:app without the donation_paid listeners of other features (sharing attribution, the
mutual-aid funnel): `run.py --bare` measures the payments path on its own with it."""
from app.donations.signals import donation_paid
from wsgi import app  # noqa: F401

donation_paid.receivers.clear()
