"""Brevo's error responses: one class per error the mock can answer, one renderer.

Every failure in the mock ends as one of these exceptions, and `render_error`
is the only place that turns them into the body Brevo documents for every
endpoint: ``{"code": "...", "message": "..."}``. Messages always name what was
wrong (the parameter, the id, the method) so that a developer can fix the call
without reading the mock's source.
"""

from __future__ import annotations

import orjson


class ApiError(Exception):
    """An error answered with Brevo's error body. Subclasses fix status and code."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self, message: str, *, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status  # e.g. a validation error the docs answer with 400, not 422
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class PermissionDenied(ApiError):
    status = 403
    code = "permission_denied"


class DocumentNotFound(ApiError):
    status = 404
    code = "document_not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class Conflict(ApiError):
    status = 409
    code = "duplicate_parameter"


class PayloadTooLarge(ApiError):
    """A request body over the mock's limit (`mock_server.bodyread.MAX_BODY_BYTES`)."""

    status = 413
    code = "payload_too_large"


class InvalidParameter(ApiError):
    status = 422
    code = "invalid_parameter"


class MissingParameter(ApiError):
    status = 422
    code = "missing_parameter"


class InsufficientBalance(InvalidParameter):
    """A debit larger than the member's balance on that definition (nothing is debited)."""


class PreconditionFailed(ApiError):
    """The voucher named cannot be redeemed now (consumed, revoked, expired or not yet valid)."""

    status = 412
    code = "precondition_failed"


class ExpectationFailed(ApiError):
    """A redemption cap of the reward is reached (per member, per period or in total)."""

    status = 417
    code = "expectation_failed"


class FailedDependency(ApiError):
    status = 424
    code = "failed_dependency"


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"


class InternalError(ApiError):
    status = 500
    code = "internal_error"


class UnknownResource(ApiError):
    """A well-formed id that names nothing in this organisation's world.

    Handlers raise it without choosing a status: not every operation documents
    a 404 (account-info and codes-count document 400 instead), so the request
    pipeline picks the status from what the operation documents in the
    contract (404, else 400, else 422): `Operation.not_found_status`, applied
    in one place (`LoyaltyApi._refused`) through `answered_as`.
    """

    status = 404
    code = "document_not_found"

    def __init__(self, what: str, param: str, value: object) -> None:
        super().__init__(f"{what} {value!s} not found (parameter '{param}')")
        self.what = what
        self.param = param
        self.value = value

    def answered_as(self, status: int) -> ApiError:
        """This error as an operation answers it when it documents `status` for an unknown id.

        The status comes from the contract (`Operation.not_found_status`); the code follows it: a
        404 is a document not found, a 400 or 422 an invalid parameter.
        """
        if status == 404:
            return DocumentNotFound(self.message)
        return InvalidParameter(self.message, status=status)


class NoContent(Exception):
    """Raised by a handler whose operation documents 204 when there is nothing to return."""


# The error class the mock answers with for each status it can simulate
# (`Prefer: code=NNN`) or choose from the contract.
ERROR_BY_STATUS: dict[int, type[ApiError]] = {
    cls.status: cls
    for cls in (BadRequest, Unauthorized, PermissionDenied, DocumentNotFound, Conflict, PreconditionFailed,
                PayloadTooLarge, ExpectationFailed, InvalidParameter, FailedDependency, TooManyRequests,
                InternalError)
}


def render_error(error: ApiError) -> bytes:
    """The JSON body Brevo documents for every error."""
    return orjson.dumps(error.body())
