"""The bench's app (bench/wsgi.py: wsgi:app plus the trivial route) without the donation_paid
listeners of other features (sharing attribution, the mutual-aid funnel): `run.py --bare`
measures the payments path on its own with it."""
from app.donations.signals import donation_paid
from bench.wsgi import app  # noqa: F401

donation_paid.receivers.clear()
