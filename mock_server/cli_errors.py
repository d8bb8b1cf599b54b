"""`CliError`: a failure the user caused, which a command prints as one line (exit status 2).

Its own module so that everything a command runs (the socket binding of mock_server/server.py,
the conformance and proxy commands) can raise it without importing the `brevo-loyalty-mock` parser.
"""


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""
