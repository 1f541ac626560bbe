"""The domain error of money-out actions."""


class PayoutError(Exception):
    """An action refused; `message` is Chinese and shown to people as it is. Nothing moved."""

    def __init__(self, message: str, code: str = "invalid_action"):
        super().__init__(message)
        self.message = message
        self.code = code


class RetryLater(Exception):
    """A job that cannot finish yet (a channel unreachable, a transfer in flight): rq retries."""
