"""The error a user's mistake raises: it names the parameter, so a command line can name the flag."""

from __future__ import annotations


class UsageError(ValueError):
    """A bad argument: ``param`` names it and the message says what is accepted.

    The ``curiosity`` command prints it as one line naming the flag, and exits with status 2.
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
