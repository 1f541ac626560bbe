"""Checks a person must pass to launch a campaign, registered by the features that keep them
(the 失信名单, app/blacklist). Each check is called with the organizer when a draft is created
(campaign None) and with the campaign when it is submitted, inside that transaction, and raises
CampaignError with the Chinese message to refuse."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app.core.plugins import registry

LaunchCheck = Callable[..., None]   # (user, campaign | None) -> None, raises CampaignError


def register_launch_check(app: Flask, check: LaunchCheck) -> None:
    registry("campaign_launch_checks", list, app).append(check)


def run_launch_checks(user, campaign=None) -> None:
    for check in registry("campaign_launch_checks", list):
        check(user, campaign)
