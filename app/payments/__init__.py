"""Payments: provider interface, WeChat Pay provider, payment state machine, notify view."""
