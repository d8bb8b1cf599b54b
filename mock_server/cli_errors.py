"""`CliError`: a failure the user caused, which a command prints as one line (exit status 2); and
`seconds`, the argument type of the commands' time limits.

Its own module so that everything a command runs (the socket binding of mock_server/server.py,
the conformance and proxy commands) can raise it without importing the `brevo-loyalty-mock` parser.
"""

import argparse


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def seconds(text: str) -> float:
    """A time limit in seconds: a number above 0 (a zero or negative timeout would fail every request)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value
