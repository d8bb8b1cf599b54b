"""Which documented response a client asked for with ``Prefer: code=NNN``.

This follows Prism's convention: a client (or a CI pipeline) can reach every
status an operation documents, including 500 and 424, without arranging the
world so that it happens. Other preferences in the header are ignored.
"""

from __future__ import annotations

from mock_server.contract.operations import Operation
from mock_server.errors import InvalidParameter


def requested_status(prefer: str | None, operation: Operation) -> int | None:
    """The status asked for in a ``Prefer`` header, if any; refuse undocumented ones."""
    if not prefer:
        return None
    for preference in prefer.replace(";", ",").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() != "code":
            continue
        value = value.strip().strip('"')
        if not (value.isascii() and value.isdigit()) or len(value) != 3:  # '²²²' is a digit string to Python
            raise InvalidParameter(f"Header 'Prefer': code must be a 3-digit HTTP status, got '{value[:20]}'")
        status = int(value)
        if status not in operation.statuses:
            documented = ", ".join(str(code) for code in sorted(operation.statuses))
            raise InvalidParameter(
                f"Header 'Prefer': code={status} is not documented for {operation.operation_id}; "
                f"it documents {documented}"
            )
        return status
    return None
