"""The Loyalty API under /v3: one linear pipeline per request.

    auth -> rate limit -> route -> method -> validate (contract) -> Prefer -> handler -> JSON

Each step either passes the request on or raises an `ApiError`; one place turns
errors into Brevo's error body. It is a plain ASGI app (no per-request
middleware stack) because this is the hot path that benchmarks measure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

import orjson

from mock_server.auth import KeyRing
from mock_server.contract.negotiate import requested_status
from mock_server.contract.operations import CompiledContract, Operation, Problem
from mock_server.errors import (
    ERROR_BY_STATUS,
    ApiError,
    DocumentNotFound,
    InternalError,
    InvalidParameter,
    MethodNotAllowed,
    MissingParameter,
    NoContent,
    TooManyRequests,
    Unauthorized,
    UnknownResource,
    render_error,
)
from mock_server.journal import Journal
from mock_server.ratelimit import RateLimiter, RateState
from mock_server.routes import Handler

if TYPE_CHECKING:
    from mock_server.store.world import World

logger = logging.getLogger("brevo_loyalty_mock")

JSON_CONTENT_TYPE = (b"content-type", b"application/json")


@dataclass(slots=True)
class Answer:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    operation_id: str | None = None
    violations: tuple[str, ...] = ()


class LoyaltyApi:
    def __init__(
        self,
        contract: CompiledContract,
        worlds: dict[str, World],
        keys: KeyRing,
        limiter: RateLimiter,
        journal: Journal,
        handlers: dict[str, Handler],
    ) -> None:
        missing = sorted(set(contract.operations) - set(handlers))
        if missing:
            raise RuntimeError(f"contract operations without a handler: {missing}")
        self.contract = contract
        self.worlds = worlds
        self.keys = keys
        self.limiter = limiter
        self.journal = journal
        self.handlers = handlers

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # websockets and lifespan are not part of the API
            return
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query_string: bytes = scope.get("query_string", b"")
        answer = self.answer(method, raw_path, query_string, scope.get("headers", []))
        headers = [JSON_CONTENT_TYPE, (b"content-length", str(len(answer.body)).encode()), *answer.headers]
        if answer.status == 204:
            headers = answer.headers
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        self.journal.record(
            method,
            scope["path"],
            query_string.decode("latin-1"),
            answer.operation_id,
            answer.status,
            answer.violations,
        )

    def answer(
        self, method: str, raw_path: bytes, query_string: bytes, headers: list[tuple[bytes, bytes]]
    ) -> Answer:
        api_key = prefer = None
        for name, value in headers:
            if name == b"api-key":
                api_key = value.decode("latin-1")
            elif name == b"prefer":
                prefer = value.decode("latin-1")

        operation: Operation | None = None
        rate: RateState | None = None
        violations: list[str] = []
        try:
            # 1. Auth: no data, not even the shape of a route, without a valid key.
            try:
                organisation = self.keys.organisation_of(api_key)
            except Unauthorized:
                if not api_key:
                    violations.append("missing 'api-key' header")
                raise
            # 2. Rate limit, counted per key.
            rate = self.limiter.hit(api_key or "")
            if rate.exceeded:
                raise TooManyRequests(
                    f"Rate limit of {rate.limit} requests per hour reached; retry in {rate.reset_seconds} s"
                )
            # 3. Route and method.
            segments = _path_segments(raw_path)
            match = self.contract.router.match(segments)
            if match is None:
                path = raw_path.decode("latin-1")
                violations.append(f"no operation at {path}")
                raise DocumentNotFound(f"No Loyalty endpoint matches {path}")
            operation = match.methods.get(method)
            if operation is None:
                allowed = ", ".join(sorted(match.methods))
                violations.append(f"{method} is not an operation of this path")
                raise MethodNotAllowed(f"{method} Method is not allowed on this path",
                                       headers={"allow": allowed})
            # 4. Validate and coerce every parameter from the contract.
            try:
                query = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
            except UnicodeDecodeError:
                violations.append("query string is not valid UTF-8 once percent-decoded")
                raise InvalidParameter("The query string is not valid UTF-8 once percent-decoded") from None
            validated = operation.validate(match.values, query)
            violations.extend(validated.tolerated)
            if validated.problems:
                violations.extend(problem.message for problem in validated.problems)
                raise _validation_error(validated.problems)
            # 5. A documented response the client asked for with `Prefer: code=NNN`.
            simulated = requested_status(prefer, operation)
            if simulated == 204:
                raise NoContent()
            if simulated is not None and simulated != operation.success_status:
                raise ERROR_BY_STATUS[simulated](
                    f"Simulated {simulated} response for {operation.operation_id}, "
                    f"requested with 'Prefer: code={simulated}'"
                )
            # 6. The handler reads the organisation's world.
            body = orjson.dumps(self.handlers[operation.operation_id](self.worlds[organisation],
                                                                     validated.params))
            answer = Answer(operation.success_status, body)
        except NoContent:
            answer = Answer(204, b"")
        except UnknownResource as error:
            status = operation.not_found_status if operation else 404
            code = "document_not_found" if status == 404 else "invalid_parameter"
            answer = Answer(status, orjson.dumps({"code": code, "message": error.message}))
        except ApiError as error:
            extra = [(name.encode(), value.encode()) for name, value in error.headers.items()]
            answer = Answer(error.status, render_error(error), extra)
        except Exception:  # a bug in the mock: log it here, never send a traceback
            name = operation.operation_id if operation else "the request"
            logger.exception("unexpected error while answering %s", name)
            answer = Answer(500, render_error(InternalError(f"The mock failed to answer {name}")))

        answer.headers.extend((rate or self.limiter.peek()).headers())
        answer.operation_id = operation.operation_id if operation else None
        answer.violations = tuple(violations)
        return answer


def _path_segments(raw_path: bytes) -> list[str]:
    # Split before percent-decoding, so that an encoded '/' (%2F) stays inside
    # its segment; undecodable bytes become U+FFFD and then fail validation.
    text = raw_path.decode("latin-1")
    parts = text.strip("/").split("/")
    return [unquote(part, errors="replace") for part in parts]


def _validation_error(problems: list[Problem]) -> ApiError:
    message = "; ".join(problem.message for problem in problems)
    status = 400 if any(problem.status == 400 for problem in problems) else 422
    if all(problem.missing for problem in problems):
        return MissingParameter(message, status=status)
    return InvalidParameter(message, status=status)
