"""The Loyalty API under /v3: one linear pipeline per request.

    auth -> rate limit -> route and parameters (contract) -> Prefer -> body (contract) -> handler -> JSON

HEAD is answered as GET is (same status and headers), without the body, as HTTP servers do.

Each step (a method or function named in `LoyaltyApi.answer`) either passes the
request on or raises an `ApiError`; one place (`LoyaltyApi._refused`) turns
errors into Brevo's error body, and chooses the status of an unknown id. It is a plain ASGI app (no per-request
middleware stack) because this is the hot path that benchmarks measure.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

import orjson

from mock_server.auth import KeyRing
from mock_server.bodyread import MAX_BODY_BYTES, ClientDisconnected, parse_json_body, read_body, too_large
from mock_server.contract.findings import DID_YOU_MEAN
from mock_server.contract.negotiate import requested_status
from mock_server.contract.operations import CompiledContract, Operation, Problem, Validated
from mock_server.contract.router import RouteMatch
from mock_server.durable.recorder import Recorder
from mock_server.errors import (
    ERROR_BY_STATUS,
    ApiError,
    DocumentNotFound,
    InternalError,
    InvalidParameter,
    MethodNotAllowed,
    MissingParameter,
    NoContent,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnknownResource,
    render_error,
)
from mock_server.journal import Journal
from mock_server.ratelimit import RateLimiter, RateState
from mock_server.routes import Handler, WriteHandler

if TYPE_CHECKING:
    from mock_server.backend import Backends

logger = logging.getLogger("brevo_loyalty_mock")

JSON_CONTENT_TYPE = (b"content-type", b"application/json")
# Raw paths whose route is remembered (the router is fixed at start-up, so a
# path always routes the same way); the memo is emptied when full.
ROUTE_MEMO_SIZE = 4096
# Request lines (method, path, query) whose checked parameters are remembered:
# validation is a pure function of them. Only short ones, so that the memo's
# memory stays small (at most about size x target bytes); emptied when full.
CHECK_MEMO_SIZE = 4096
CHECK_MEMO_MAX_TARGET = 1024
_NOT_SEEN: Any = object()
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_HINTS_ANSWERED = 3  # did-you-means of unknown body properties added to a refused body's error message
MAX_TOLERATED_SHOWN = 20  # unknown query parameters journaled by name per request; the rest are counted
SHOWN_PATH_CHARS = 200  # how much of an unknown path a 404 quotes (a path may be 8 KiB, docs/limits.md)


@dataclass(slots=True)
class Answer:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    operation_id: str | None = None
    violations: tuple[str, ...] = ()
    organisation: str | None = None  # of the request's key, once accepted (the journal files it under it)


class LoyaltyApi:
    def __init__(
        self,
        contract: CompiledContract,
        backends: Backends,
        keys: KeyRing,
        limiter: RateLimiter,
        journal: Journal,
        handlers: dict[str, Handler],
        write_handlers: dict[str, WriteHandler],
        *,
        read_only: bool = False,
        recorder: Recorder | None = None,
    ) -> None:
        reads = {op for op, operation in contract.operations.items() if operation.method == "GET"}
        missing = sorted((reads - set(handlers)) | (set(contract.operations) - reads - set(write_handlers)))
        if missing:
            raise RuntimeError(f"contract operations without a handler: {missing}")
        self.contract = contract
        self.backends = backends
        self.keys = keys
        self.limiter = limiter
        self.journal = journal
        self.handlers = handlers
        self.write_handlers = write_handlers
        self.read_only = read_only  # a fixed world: writes answer 405 as paths without them do
        self.recorder = recorder or Recorder(backends)  # applies each write; with --state, logs it first
        self._routes: dict[bytes, RouteMatch | None] = {}
        self._checked: dict[tuple[str, bytes, bytes], tuple[Operation, Validated]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # websockets and lifespan are not part of the API
            return
        await self.respond(scope, receive, send)

    async def respond(self, scope: dict[str, Any], receive: Any, send: Any,
                      extra_headers: tuple[tuple[bytes, bytes], ...] = ()) -> Answer:
        """Answer one HTTP request, and return the answer; `extra_headers` go last (the app adds CORS's Vary)."""
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query_string: bytes = scope.get("query_string", b"")
        request_headers = scope.get("headers", [])
        body: bytes | None = b""
        if method not in _BODILESS and self.reads_body(method, raw_path, request_headers):
            try:
                body = await read_body(receive, MAX_BODY_BYTES)
            except PayloadTooLarge:
                body = None  # answered 413 in the pipeline's order (after auth, route and parameters)
            except ClientDisconnected:
                return None  # nobody left to answer; nothing was changed
        answer, headers = self.response(method, raw_path, query_string, request_headers, extra_headers, body)
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
        self.record(method, scope["path"], query_string, answer, body if method not in _BODILESS else None)
        return answer

    def response(
        self,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: list[tuple[bytes, bytes]],
        extra_headers: tuple[tuple[bytes, bytes], ...] = (),
        body: bytes | None = b"",
    ) -> tuple[Answer, list[tuple[bytes, bytes]]]:
        """The answer to one request, and every header the API sends with it (the server adds its own).

        `body` is the request's body, or None when it was larger than `MAX_BODY_BYTES` (and not kept).
        """
        answer = self.answer(method, raw_path, query_string, headers, body)
        if answer.status == 204:
            return answer, [*answer.headers, *extra_headers]
        length = (b"content-length", str(len(answer.body)).encode())
        if method == "HEAD":  # GET's answer without its body; content-length still says how long it is
            answer.body = b""
        return answer, [JSON_CONTENT_TYPE, length, *answer.headers, *extra_headers]

    def answer_received(
        self, method: str, raw_path: bytes, path: str, query_string: bytes, headers: list[tuple[bytes, bytes]],
        received: bytes, extra_headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> tuple[Answer, list[tuple[bytes, bytes]]]:
        """`respond` for a request received whole (its body, if any, at most `MAX_BODY_BYTES`), journaled.

        The server's protocol answers such requests without ASGI (mock_server/direct.py); the body is
        used as `respond` would have read it: only where `reads_body` says the pipeline wants it.
        """
        body = received if received and method not in _BODILESS and self.reads_body(method, raw_path, headers) else b""
        answer, response_headers = self.response(method, raw_path, query_string, headers, extra_headers, body)
        self.record(method, path, query_string, answer, body if method not in _BODILESS else None)
        return answer, response_headers

    def reads_body(self, method: str, raw_path: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether a request's body is worth reading: an accepted key, and a write operation that takes one.

        Anything else is answered from its head alone (401, 404, 405 ...), without waiting for a body.
        """
        keys = [value for name, value in headers if name == b"api-key"]
        if len(keys) != 1 or not self.keys.accepts(keys[0].decode("latin-1")):
            return False
        match = self._match(raw_path)
        operation = match.methods.get(method) if match is not None else None
        return operation is not None and operation.has_body and not self.read_only

    def record(self, method: str, path: str, query_string: bytes, answer: Answer, body: bytes | None = None) -> None:
        """Journal an answered request (`path` percent-decoded, as ASGI's scope has it)."""
        self.journal.record(method, path, query_string.decode("latin-1"), answer.operation_id, answer.status,
                            answer.violations, body=body, organisation=answer.organisation)

    def answer(
        self, method: str, raw_path: bytes, query_string: bytes, headers: list[tuple[bytes, bytes]],
        body: bytes | None = b"",
    ) -> Answer:
        """One request along its path; the first step that refuses it decides the answer (`_refused`)."""
        api_key = prefer = content_type = None
        keys_sent = 0
        for name, value in headers:
            if name == b"api-key":
                api_key = value.decode("latin-1")
                keys_sent += 1
            elif name == b"prefer":
                prefer = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value

        operation: Operation | None = None
        rate: RateState | None = None
        violations: list[str] = []
        organisation: str | None = None
        try:
            organisation = self._authenticate(api_key, keys_sent, violations)
            rate = self.limiter.hit(api_key or "")  # counted per key, refused ones included
            if rate.exceeded:
                raise self._over_limit(rate)
            operation, validated = self._route_and_params(method, raw_path, query_string, violations)
            params = _accepted(validated, violations)
            _simulate(prefer, operation)
            document = None if operation.method == "GET" else self._body(operation, content_type, body, violations)
            answer = self._handled(operation, organisation, params, document)
        except Exception as error:  # every refusal, and every bug, ends as one answer
            answer = self._refused(error, operation)
        answer.headers.extend((rate or self.limiter.peek()).headers())
        answer.operation_id = operation.operation_id if operation else None
        answer.violations = tuple(violations)
        answer.organisation = organisation
        return answer

    # The steps of `answer`, in the request's order. Each returns what the next one needs or raises.

    def _authenticate(self, api_key: str | None, keys_sent: int, violations: list[str]) -> str:
        """The organisation of the request's key: no data, not even the shape of a route, without one."""
        if keys_sent > 1:  # two keys may name two organisations: refuse rather than pick one
            violations.append("'api-key' header sent more than once")
            raise Unauthorized(f"Header 'api-key' is sent {keys_sent} times: send exactly one key")
        try:
            return self.keys.organisation_of(api_key)
        except Unauthorized:
            if not api_key:
                violations.append("missing 'api-key' header")
            raise

    def _over_limit(self, rate: RateState) -> TooManyRequests:
        return TooManyRequests(
            f"Rate limit of {rate.limit} requests per {self.limiter.window} reached; retry in {rate.reset_seconds} s"
        )

    def _route_and_params(self, method: str, raw_path: bytes, query_string: bytes, violations: list[str]
                          ) -> tuple[Operation, Validated]:
        """Route, method and parameters; the same request line always checks the same way (memo `_checked`)."""
        checked = self._checked.get((method, raw_path, query_string))
        if checked is None:
            operation, path_values = self._route(method, raw_path, violations)
            checked = operation, self._validate(operation, path_values, query_string, violations)
            if len(raw_path) + len(query_string) <= CHECK_MEMO_MAX_TARGET:
                _remember(self._checked, (method, raw_path, query_string), checked, CHECK_MEMO_SIZE)
        return checked

    @staticmethod
    def _body(operation: Operation, content_type: bytes | None, body: bytes | None, violations: list[str]) -> Any:
        """A write's body as its handler gets it: JSON, checked against the contract, defaults filled in."""
        if operation.body is None:
            if body:  # a client sending a body to an operation that takes none: harmless, but not the contract
                violations.append(f"{operation.operation_id} takes no request body; the one sent was ignored")
            return None
        if body is None:
            raise too_large()
        checked = operation.validate_body(parse_json_body(content_type, body))
        assert checked is not None
        violations.extend(checked.tolerated)
        if checked.problems:
            violations.extend(problem.message for problem in checked.problems)
            # A refused body's misspelt property most likely explains the refusal: its hint goes in the answer.
            hints = [note for note in checked.tolerated if DID_YOU_MEAN in note][:MAX_HINTS_ANSWERED]
            raise _validation_error(checked.problems, hints)
        return checked.value

    def _handled(self, operation: Operation, organisation: str, params: dict[str, Any], document: Any) -> Answer:
        """The handler's answer: a read sees the organisation's world, a write makes one backend call."""
        backend = self.backends[organisation]
        if operation.method == "GET":
            result = self.handlers[operation.operation_id](backend.world, params)
        else:
            result = self.recorder.write(backend, operation.operation_id, self.write_handlers[operation.operation_id],
                                         params, document)
        status = operation.success_status
        return Answer(status, b"" if status == 204 else orjson.dumps(result))

    @staticmethod
    def _refused(error: Exception, operation: Operation | None) -> Answer:
        """The answer to a request a step refused (Brevo's error body), or to a bug of the mock (a 500)."""
        if isinstance(error, NoContent):
            return Answer(204, b"")
        if isinstance(error, UnknownResource):  # the one place the not-found status is chosen
            error = error.answered_as(operation.not_found_status if operation else 404)
        if isinstance(error, ApiError):
            extra = [(name.encode(), value.encode()) for name, value in error.headers.items()]
            return Answer(error.status, render_error(error), extra)
        name = operation.operation_id if operation else "the request"  # never send a traceback: log it here
        logger.error("unexpected error while answering %s", name, exc_info=error)
        return Answer(500, render_error(InternalError(f"The mock failed to answer {name}")))

    def _match(self, raw_path: bytes) -> RouteMatch | None:
        """The route of a raw path, or None; a path seen before costs one dictionary look-up."""
        match = self._routes.get(raw_path, _NOT_SEEN)
        if match is _NOT_SEEN:
            match = self.contract.router.match(_path_segments(raw_path))
            _remember(self._routes, raw_path, match, ROUTE_MEMO_SIZE)
        return match

    def _route(self, method: str, raw_path: bytes, violations: list[str]) -> tuple[Operation, list[str]]:
        """The operation for a method and path, with the path's parameter values; 404 or 405 if none."""
        match = self._match(raw_path)
        if match is None:
            path = _quoted_path(raw_path)
            violations.append(f"no operation at {path}")
            raise DocumentNotFound(f"No Loyalty endpoint matches {path}")
        operation = match.methods.get("GET" if method == "HEAD" else method)  # HEAD: a GET without body
        if operation is not None and self.read_only and operation.method != "GET":
            operation = None  # --read-only: the world is fixed, writes are not operations
        if operation is None:
            offered = {m for m in match.methods if m == "GET" or not self.read_only}
            allowed = ", ".join(sorted({*offered, *(("HEAD",) if "GET" in offered else ())}))
            violations.append(f"{method} is not an operation of this path")
            raise MethodNotAllowed(f"{method} Method is not allowed on this path", headers={"allow": allowed})
        return operation, match.values

    @staticmethod
    def _validate(operation: Operation, path_values: list[str], query_string: bytes, violations: list[str]
                  ) -> Validated:
        """Every parameter checked and coerced from the contract (the problems are in the result)."""
        try:
            query = _query_pairs(query_string)
        except UnicodeDecodeError:
            where = _undecodable_params(query_string)
            violations.append(f"query string is not valid UTF-8 once percent-decoded (parameter {where})")
            raise InvalidParameter(
                f"The query string is not valid UTF-8 once percent-decoded: parameter {where}") from None
        return operation.validate(path_values, query)


def _accepted(validated: Validated, violations: list[str]) -> dict[str, Any]:
    """The checked parameters, or the one error that names every problem with them."""
    violations.extend(_bounded(validated.tolerated))
    if validated.problems:
        violations.extend(problem.message for problem in validated.problems)
        raise _validation_error(validated.problems)
    return validated.params


def _simulate(prefer: str | None, operation: Operation) -> None:
    """Answer a documented response the client asked for with `Prefer: code=NNN` (raised), if any."""
    simulated = requested_status(prefer, operation)
    if simulated == 204:
        raise NoContent()
    if simulated is None or simulated == operation.success_status:
        return
    raise ERROR_BY_STATUS[simulated](
        f"Simulated {simulated} response for {operation.operation_id}, requested with 'Prefer: code={simulated}'"
    )


def _remember(memo: dict[Any, Any], key: Any, value: Any, size: int) -> None:
    """Keep `value` under `key`; a memo that holds `size` entries is emptied first, so it stays bounded."""
    if len(memo) >= size:
        memo.clear()
    memo[key] = value


def _bounded(tolerated: list[str]) -> list[str]:
    """At most MAX_TOLERATED_SHOWN of them, then a count: a query of 8 KiB can hold thousands."""
    if len(tolerated) <= MAX_TOLERATED_SHOWN:
        return tolerated
    return [*tolerated[:MAX_TOLERATED_SHOWN],
            f"and {len(tolerated) - MAX_TOLERATED_SHOWN} more unknown query parameters"]


def _quoted_path(raw_path: bytes) -> str:
    """A path as an error message quotes it: as received (not decoded), cut to SHOWN_PATH_CHARS."""
    path = raw_path.decode("latin-1")
    return path if len(path) <= SHOWN_PATH_CHARS else path[:SHOWN_PATH_CHARS] + "…"


def _path_segments(raw_path: bytes) -> list[str]:
    # Split before percent-decoding, so that an encoded '/' (%2F) stays inside
    # its segment; undecodable bytes become U+FFFD and then fail validation.
    text = raw_path.decode("latin-1")
    parts = text.strip("/").split("/")
    if "%" not in text:  # nothing to decode: unquote() would return every part as it is
        return parts
    return [unquote(part, errors="replace") for part in parts]


def _query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """`parse_qsl(..., keep_blank_values=True, errors="strict")`, without its cost on plain queries.

    Without '%' or '+' there is nothing to decode, and parse_qsl comes down to
    splitting on '&' (dropping empty fields) and then on the first '='; the
    general case still goes through parse_qsl (and may raise UnicodeDecodeError).
    """
    text = query_string.decode("latin-1")
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    pairs = []
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def _undecodable_params(query_string: bytes) -> str:
    """The query parameters whose name or value is not UTF-8 once decoded, quoted for a message."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="surrogateescape")
    names = []
    for name, value in pairs:
        if _has_surrogates(name + value):
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            names.append(f"'{shown[:SHOWN_PATH_CHARS]}'")
    return ", ".join(dict.fromkeys(names)) or "names"


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _validation_error(problems: list[Problem], hints: list[str] | None = None) -> ApiError:
    message = "; ".join([*(problem.message for problem in problems), *(hints or ())])
    status = 400 if any(problem.status == 400 for problem in problems) else 422
    if all(problem.missing for problem in problems):
        return MissingParameter(message, status=status)
    return InvalidParameter(message, status=status)
