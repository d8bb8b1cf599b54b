"""Paging, ordering, filters and lookups shared by the handlers."""

from array import array

import pytest

from mock_server.errors import InvalidParameter, UnknownResource
from mock_server.seeding import build_world
from mock_server.store.models import freeze
from mock_server.store.queries import (
    definition_of,
    member_of,
    meta_matches,
    norm_id,
    page,
    page_of_order,
    parse_meta_filter,
    program_of,
    visible_or_404,
)


def test_page_is_a_slice_and_empty_past_the_end():
    items = list(range(10))
    assert page(items, 0, 3) == [0, 1, 2]
    assert page(items, 8, 5) == [8, 9]
    assert page(items, 10, 5) == []


@pytest.mark.parametrize(("offset", "limit"), [(0, 3), (2, 4), (5, 10), (7, 1), (9, 9)])
def test_page_of_order_matches_slicing_both_ways(offset, limit):
    order = array("l", [4, 2, 7, 1, 0, 3, 6, 5])
    assert page_of_order(order, offset, limit, reverse=False) == list(order)[offset : offset + limit]
    assert page_of_order(order, offset, limit, reverse=True) == list(reversed(order))[offset : offset + limit]


def test_meta_filter_syntax():
    assert parse_meta_filter("source:rule") == ("source", "rule")
    assert parse_meta_filter("url:https://x") == ("url", "https://x")
    assert parse_meta_filter("source") == ("source", None)
    assert parse_meta_filter("note:") == ("note", "")
    with pytest.raises(InvalidParameter, match="key:value") as caught:
        parse_meta_filter(":rule")
    assert caught.value.status == 422  # the voucher list documents 422, not 400


def test_meta_matches_reads_values_as_text():
    meta = freeze({"source": "rule", "vip": True, "level": 3})
    assert meta_matches(meta, "source", "rule")
    assert not meta_matches(meta, "source", "manual")
    assert meta_matches(meta, "vip", "true")
    assert meta_matches(meta, "level", "3")
    assert meta_matches(meta, "level", None)
    assert not meta_matches(meta, "missing", None)


@pytest.fixture(scope="module")
def world():
    return build_world(5, 20)


def test_lookups_ignore_case_and_name_the_parameter(world):
    data = world.programs[0]
    assert program_of(world, {"pid": data.id.upper()}) is data
    assert norm_id("  ABC ") == "abc"
    with pytest.raises(UnknownResource) as caught:
        program_of(world, {"pid": "00000000-0000-4000-8000-000000000000"})
    assert caught.value.param == "pid"
    definition = data.definitions[0]
    assert definition_of(data, {"bdid": definition.id.upper()}, "bdid") is definition
    with pytest.raises(UnknownResource, match="balanceDefinitionId"):
        definition_of(data, {"balanceDefinitionId": data.id}, "balanceDefinitionId")
    with pytest.raises(UnknownResource, match="'cid'"):
        member_of(world, data, 10**12, "cid")


def test_visible_or_404_respects_versions(world):
    inactive = next(d for d in world.programs if d.program.state == "inactive")
    definition = inactive.definitions[0]
    assert visible_or_404(inactive, definition, "draft", "Balance definition", "bdid", "x") is definition
    with pytest.raises(UnknownResource):
        visible_or_404(inactive, definition, "active", "Balance definition", "bdid", "x")
    with pytest.raises(UnknownResource):
        visible_or_404(inactive, None, "draft", "Balance definition", "bdid", "x")
