"""Paging, ordering, filtering and lookups shared by the operation handlers.

Paging is always the slice ``[offset, offset + limit)`` of a deterministic order,
and every count a handler reports is the size of the filtered set before that
slice. Lookups turn a missing id into `UnknownResource`, naming the parameter.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from mock_server.errors import InvalidParameter, UnknownResource
from mock_server.store.models import BalanceDefinition, Member, Meta
from mock_server.store.world import ProgramData, World

T = TypeVar("T")


# ------------------------------------------------------------------ parameters


def descending(params: Mapping[str, Any]) -> bool:
    # `sort` always has a value: the pipeline fills the contract's default.
    return params["sort"] == "desc"


# ---------------------------------------------------------------------- paging


def page(items: Sequence[T], offset: int, limit: int) -> list[T]:
    """The records of one page."""
    if offset >= len(items):
        return []
    return list(items[offset : offset + limit])


def page_of_order(order: array, offset: int, limit: int, reverse: bool) -> list[int]:
    """One page of a pre-sorted ascending order, read forwards or backwards, without copying it."""
    size = len(order)
    stop = min(size, offset + limit)
    if offset >= stop:
        return []
    if not reverse:
        return list(order[offset:stop])
    return [order[size - 1 - i] for i in range(offset, stop)]


def ordered(records: Iterable[T], key: Callable[[T], Any], reverse: bool) -> list[T]:
    """Records sorted by `key` (which must end with a unique id, so the order is total)."""
    return sorted(records, key=key, reverse=reverse)


# ------------------------------------------------------------------- filtering


def parse_meta_filter(text: str) -> tuple[str, str | None]:
    """``key:value`` keeps records whose meta[key] reads as value; a bare ``key`` keeps those having key.

    Only the first ':' separates key and value, so values may contain colons.
    """
    key, separator, value = text.partition(":")
    key = key.strip()
    if not key:
        # A 422, not a 400: the voucher list (its only user) documents no 400.
        raise InvalidParameter(
            f"Invalid parameter 'metadata_key_value' (query): must look like 'key:value' or 'key', got {text!r}"
        )
    return key, (value if separator else None)


def meta_text(value: Any) -> str:
    """How a meta value reads in a filter: JSON spelling for booleans and null, str() otherwise."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def meta_matches(meta: Meta, key: str, value: str | None) -> bool:
    if key not in meta:
        return False
    return value is None or meta_text(meta[key]) == value


# --------------------------------------------------------------------- lookups


def norm_id(value: str) -> str:
    """Ids are stored lower-case; clients may send them in any case."""
    return value.strip().lower()


def program_of(world: World, params: Mapping[str, Any]) -> ProgramData:
    pid = params["pid"]
    data = world.program(norm_id(pid))
    if data is None:
        raise UnknownResource("Loyalty program", "pid", pid)
    return data


def definition_of(data: ProgramData, params: Mapping[str, Any], param: str) -> BalanceDefinition:
    raw = params[param]
    definition = data.definition_by_id.get(norm_id(raw))
    if definition is None or definition.deleted:
        raise UnknownResource("Balance definition", param, raw)
    return definition


def member_of(world: World, data: ProgramData, contact_id: int, param: str) -> Member:
    member = world.member(data, contact_id)
    if member is None:
        raise UnknownResource("Subscription of contact", param, contact_id)
    return member


def visible_or_404(data: ProgramData, entity: T | None, version: str, what: str, param: str, raw: Any) -> T:
    """`entity` if it exists in the requested version, else the not-found error for `param`."""
    if entity is None or not data.visible(entity, version):
        raise UnknownResource(what, param, raw)
    return entity
