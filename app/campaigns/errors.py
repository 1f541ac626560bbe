"""The domain error of campaign actions."""


class CampaignError(Exception):
    """A campaign action that is not allowed; `message` is shown to people as it is."""

    def __init__(self, message: str, code: str = "invalid_action"):
        super().__init__(message)
        self.message = message
        self.code = code
