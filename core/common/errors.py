"""Errors that services raise for the callers (handlers, views, tasks) to show to a user."""


class ServiceError(Exception):
    """A refused request: the message is plain language, safe to show."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
