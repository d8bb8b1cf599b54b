"""Parameters compiled from schemas: coercion of raw strings and the messages users read."""

import pytest

from mock_server.contract.loader import ContractError
from mock_server.contract.params import MISSING, ParamProblem, compile_param


def param(schema, **extra):
    return compile_param({"name": "p", "in": "query", "schema": schema, **extra}, "test")


def test_integer_with_range_coerces_and_names_the_range():
    limit = param({"type": "integer", "minimum": 1, "maximum": 500})
    assert limit.coerce("25") == 25
    for bad in ("0", "501", "-3"):
        with pytest.raises(ParamProblem, match="between 1 and 500"):
            limit.coerce(bad)


@pytest.mark.parametrize("raw", ["1.0", "1e3", " 1", "", "ten", "0x10", "١٢"])
def test_integer_refuses_anything_but_digits(raw):
    with pytest.raises(ParamProblem, match="must be an integer"):
        param({"type": "integer"}).coerce(raw)


def test_integers_are_bounded_to_64_bits_even_without_a_format():
    big = str(2**63)
    with pytest.raises(ParamProblem):
        param({"type": "integer"}).coerce(big)
    assert param({"type": "integer"}).coerce(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(ParamProblem, match="out of range"):
        param({"type": "integer", "format": "int64"}).coerce("9" * 5000)


def test_boolean_accepts_only_true_and_false():
    flag = param({"type": "boolean"})
    assert flag.coerce("true") is True
    assert flag.coerce("false") is False
    with pytest.raises(ParamProblem, match="true or false"):
        flag.coerce("1")


def test_uuid_format_and_error_quotes_the_value():
    pid = param({"type": "string", "format": "uuid"})
    value = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert pid.coerce(value) == value
    assert pid.coerce(value.upper()) == value.upper()
    with pytest.raises(ParamProblem, match=r"UUID.*'0f8fad5bd9cb'"):
        pid.coerce("0f8fad5bd9cb")


def test_enum_lists_allowed_values():
    sort = param({"type": "string", "enum": ["asc", "desc"]})
    assert sort.coerce("asc") == "asc"
    with pytest.raises(ParamProblem, match="one of asc, desc"):
        sort.coerce("ASC")


def test_control_characters_are_escaped_in_messages():
    with pytest.raises(ParamProblem) as caught:
        param({"type": "string", "format": "uuid"}).coerce("a\x00b")
    assert "\\x00" in str(caught.value)


def test_long_values_are_cut_in_messages():
    with pytest.raises(ParamProblem) as caught:
        param({"type": "integer"}).coerce("x" * 10_000)
    assert len(str(caught.value)) < 200


def test_defaults_come_from_schema_or_x_mock_default():
    assert param({"type": "integer", "default": 25}).default == 25
    assert param({"type": "integer"}, **{"x-mock-default": 50}).default == 50
    assert param({"type": "integer"}).default is MISSING


def test_x_invalid_status_is_carried():
    assert param({"type": "string"}, **{"x-invalid-status": 400}).invalid_status == 400
    assert param({"type": "string"}).invalid_status == 422


def test_unsupported_keywords_are_refused_not_ignored():
    with pytest.raises(ContractError, match="multipleOf"):
        param({"type": "integer", "multipleOf": 5})
    with pytest.raises(ContractError, match="format"):
        param({"type": "string", "format": "email"})
