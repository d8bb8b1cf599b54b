"""The contract's links from a write, resolved against one exchange.

A link (OpenAPI 3 `links` on a response) names the operation that shows a
write's effect and how to fill its parameters from the write's request and
answer (``$request.path.pid``, ``$response.body#/id``). The write sequences
(`writes`) follow them: after each accepted write, every linked read is
called, and linked writes (begin -> complete) are the sequence's next steps.
So the sequences walk the contract's own graph rather than a hand-kept list
of URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from mock_server.contract.loader import resolve
from mock_server.contract.operations import CompiledContract, Operation


@dataclass(frozen=True)
class Link:
    name: str
    target: str  # operationId
    parameters: dict[str, str]  # parameter name -> runtime expression


@dataclass(frozen=True)
class Call:
    """A resolved request: the operation, its path (without the base path) and query."""

    operation: Operation
    path: str
    query: dict[str, Any]
    path_values: dict[str, Any]
    link: str = ""  # the link it came from, if any

    @property
    def is_read(self) -> bool:
        return self.operation.method == "GET"


def links_from(contract: CompiledContract, operation_id: str, status: int = 200) -> list[Link]:
    """The links a successful answer of `operation_id` declares, in contract order."""
    document = contract.document
    operation = contract.operations[operation_id]
    item = resolve(document, document["paths"][operation.path])
    spec = item.get(operation.method.lower(), {})
    response = resolve(document, (spec.get("responses") or {}).get(str(status), {}))
    found = []
    for name, raw in (response.get("links") or {}).items():
        link = resolve(document, raw)
        if link.get("operationId") in contract.operations:
            found.append(Link(name, link["operationId"], dict(link.get("parameters") or {})))
    return found


def build_call(contract: CompiledContract, operation_id: str, values: dict[str, Any], link: str = "") -> Call:
    """`operation_id` with its path parameters filled from `values`; the other values go in the query."""
    operation = contract.operations[operation_id]
    path = operation.path
    for param in operation.path_params:
        if param.name not in values:
            raise KeyError(f"{operation_id} needs path parameter {param.name!r}")
        path = path.replace("{" + param.name + "}", quote(str(values[param.name]), safe=""))
    path_names = {param.name for param in operation.path_params}
    query = {name: value for name, value in values.items() if name not in path_names}
    return Call(operation, path, query, {name: values[name] for name in path_names}, link)


def evaluate(expression: str, path_values: dict[str, Any], query: dict[str, Any], body: Any, answer: Any) -> Any:
    """One runtime expression; None when it names nothing in this exchange."""
    if not isinstance(expression, str) or not expression.startswith("$"):
        return expression  # a constant
    if expression.startswith("$request.path."):
        return path_values.get(expression.removeprefix("$request.path."))
    if expression.startswith("$request.query."):
        return query.get(expression.removeprefix("$request.query."))
    if expression.startswith("$request.body#"):
        return _pointer(body, expression.removeprefix("$request.body#"))
    if expression.startswith("$response.body#"):
        return _pointer(answer, expression.removeprefix("$response.body#"))
    return None


def follow(contract: CompiledContract, link: Link, path_values: dict[str, Any], query: dict[str, Any], body: Any,
           answer: Any) -> Call | None:
    """The call a link leads to from this exchange; None when a parameter cannot be filled."""
    values = {}
    for name, expression in link.parameters.items():
        value = evaluate(expression, path_values, query, body, answer)
        if value is None:
            return None
        values[name] = value
    try:
        return build_call(contract, link.target, values, link.name)
    except KeyError:
        return None


def write_operations(contract: CompiledContract) -> list[str]:
    """operationIds of the contract's writes (every method but GET), in contract order."""
    return [op for op, operation in contract.operations.items() if operation.method != "GET"]


def _pointer(value: Any, pointer: str) -> Any:
    if pointer in ("", "/"):
        return value
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value

