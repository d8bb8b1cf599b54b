"""Operations compiled from the contract: routes, parameters and documented statuses."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from mock_server.contract.bodies import BodyCheck, BodySchema, check_body, compile_body
from mock_server.contract.loader import ContractError, resolve
from mock_server.contract.params import MISSING, Param, ParamProblem, compile_param
from mock_server.contract.router import Router

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request, as the client should read it."""

    param: str
    location: str
    message: str
    status: int  # what the operation answers for it: 422, or 400 where documented
    missing: bool = False


@dataclass(slots=True)
class Validated:
    """The outcome of checking a request against its operation."""

    params: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # Tolerated by the server (as Brevo does) but outside the contract: the
    # client check (`serve --check-client`) reports these.
    tolerated: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # template, as in the contract (without the base path)
    path_params: tuple[Param, ...]
    query_params: dict[str, Param]
    statuses: frozenset[int]
    requires_any_of: tuple[str, ...]
    source: dict[str, str]
    success_status: int
    body: BodySchema | None = None  # the compiled requestBody; None when the operation takes none

    @property
    def has_body(self) -> bool:
        return self.body is not None

    @property
    def not_found_status(self) -> int:
        """How this operation answers a well-formed id that names nothing."""
        for status in (404, 400, 422):
            if status in self.statuses:
                return status
        return 422

    def validate(self, path_values: list[str], query: list[tuple[str, str]]) -> Validated:
        """Check and coerce every parameter, collecting all problems, not just the first."""
        result = Validated()
        params, problems = result.params, result.problems
        for param, raw in zip(self.path_params, path_values, strict=True):
            self._take(param, raw, params, problems)

        seen: dict[str, int] = {}
        for name, raw in query:
            param = self.query_params.get(name)
            if param is None:
                result.tolerated.append(self._unknown_query_param(name))
                continue
            seen[name] = seen.get(name, 0) + 1
            if seen[name] == 2:
                problems.append(
                    Problem(name, "query", f"Parameter '{name}' (query) is given more than once",
                            param.invalid_status)
                )
            elif seen[name] == 1:
                self._take(param, raw, params, problems)

        for name, param in self.query_params.items():
            if name in seen:
                continue
            if param.required:
                problems.append(
                    Problem(name, "query", f"Missing required parameter '{name}' (query): expected "
                            f"{param.expectation}", param.invalid_status, missing=True)
                )
            elif param.default is not MISSING:
                params[name] = param.default

        if self.requires_any_of and not any(name in seen for name in self.requires_any_of):
            names = " or ".join(f"'{name}'" for name in self.requires_any_of)
            status = max(self.query_params[name].invalid_status for name in self.requires_any_of)
            problems.append(
                Problem(self.requires_any_of[0], "query", f"One of {names} (query) is required", status,
                        missing=True)
            )
        return result

    def validate_body(self, value: Any) -> BodyCheck | None:
        """Check a parsed JSON body (`bodies.NO_BODY` when empty), collecting all problems; None without a body.

        Body problems are `Problem`s with location "body", like parameter ones: the pipeline adds them to the
        same list, so that one answer names everything wrong with a request.
        """
        if self.body is None:
            return None
        return check_body(self.body, value, Problem)

    @staticmethod
    def _take(param: Param, raw: str, params: dict[str, Any], problems: list[Problem]) -> None:
        try:
            params[param.name] = param.coerce(raw)
        except ParamProblem as problem:
            problems.append(
                Problem(param.name, param.location,
                        f"Invalid parameter '{param.name}' ({param.location}): {problem}",
                        param.invalid_status)
            )

    def _unknown_query_param(self, name: str) -> str:
        hint = difflib.get_close_matches(name, list(self.query_params), n=1, cutoff=0.6)
        if not hint:
            lowered = {known.lower().replace("_", ""): known for known in self.query_params}
            found = lowered.get(name.lower().replace("_", ""))
            hint = [found] if found else []
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"Unknown query parameter '{name}' for {self.operation_id}{suggestion}"


@dataclass(frozen=True, slots=True)
class CompiledContract:
    document: dict[str, Any]
    base_path: str  # e.g. "/v3", from the first server URL
    operations: dict[str, Operation]
    router: Router


def compile_contract(document: dict[str, Any]) -> CompiledContract:
    servers = document.get("servers") or [{"url": "/"}]
    base_path = urlparse(servers[0].get("url", "/")).path.rstrip("/")
    operations: dict[str, Operation] = {}
    router = Router()
    for path, item in (document.get("paths") or {}).items():
        item = resolve(document, item)
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = _compile_operation(document, path, method, item[method], shared)
            if operation.operation_id in operations:
                raise ContractError(f"operationId {operation.operation_id!r} is used twice")
            operations[operation.operation_id] = operation
            router.add(base_path + path, operation)
    return CompiledContract(document, base_path, operations, router)


def _compile_operation(
    document: dict[str, Any], path: str, method: str, spec: dict[str, Any], shared: list[Any]
) -> Operation:
    operation_id = spec.get("operationId")
    where = f"{method.upper()} {path}"
    if not isinstance(operation_id, str):
        raise ContractError(f"{where}: missing operationId")
    by_key: dict[tuple[str, str], Param] = {}
    for raw in [*shared, *spec.get("parameters", [])]:
        param_spec = resolve(document, raw)
        if param_spec.get("in") in ("header", "cookie"):
            raise ContractError(f"{where}: header and cookie parameters are not supported")
        param = compile_param(param_spec, f"{operation_id}")
        by_key[(param.location, param.name)] = param  # operation level overrides path level

    template_names = [segment[1:-1] for segment in path.split("/") if segment.startswith("{")]
    path_params = []
    for name in template_names:
        param = by_key.get(("path", name))
        if param is None:
            raise ContractError(f"{operation_id}: path parameter {name!r} is not declared")
        path_params.append(param)
    query_params = {name: p for (location, name), p in by_key.items() if location == "query"}

    statuses = frozenset(int(code) for code in spec.get("responses", {}) if str(code).isdigit())
    successes = sorted(code for code in statuses if 200 <= code < 300 and code != 204)
    requires_any_of = tuple(spec.get("x-requires-any-of", ()))
    for name in requires_any_of:
        if name not in query_params:
            raise ContractError(f"{operation_id}: x-requires-any-of names unknown parameter {name!r}")
    return Operation(
        operation_id=operation_id,
        method=method.upper(),
        path=path,
        path_params=tuple(path_params),
        query_params=query_params,
        statuses=statuses,
        requires_any_of=requires_any_of,
        source=dict(spec.get("x-brevo-source") or {}),
        # A delete documents only 204: that is its success.
        success_status=successes[0] if successes else 204 if 204 in statuses else 200,
        body=compile_body(document, operation_id, spec.get("requestBody")),
    )
