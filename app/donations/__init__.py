"""Donations (捐款): the donate form, the donation payable, the public donations list."""
