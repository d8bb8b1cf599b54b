"""Settings from flags and environment, and their one-line errors."""

import pytest

from mock_server.settings import (
    ApiKey,
    RateLimit,
    Settings,
    SettingsError,
    overrides_from_env,
    parse_api_key,
    parse_rate_limit,
    to_env,
)


def test_api_key_with_and_without_organisation():
    assert parse_api_key("k") == ApiKey("k", "default")
    assert parse_api_key("k=acme") == ApiKey("k", "acme")
    with pytest.raises(SettingsError, match="empty"):
        parse_api_key("k=")


@pytest.mark.parametrize(("text", "rate"), [
    ("600/hour", RateLimit(600, "hour")),
    ("1200", RateLimit(1200, "hour")),
    ("10/minute", RateLimit(10, "minute")),
    (" 10 / min ", RateLimit(10, "minute")),
    ("2/second", RateLimit(2, "second")),
    ("5/S", RateLimit(5, "second")),
    ("off", None),
    ("0/minute", None),
])
def test_rate_limit_syntax(text, rate):
    assert parse_rate_limit(text) == rate


@pytest.mark.parametrize("text", ["fast", "10/day", "10/", "-1/hour", "ten/minute"])
def test_a_bad_rate_limit_names_the_forms_it_takes(text):
    with pytest.raises(SettingsError, match="N/hour, N/minute or N/second"):
        parse_rate_limit(text)


def test_environment_values_are_checked_and_named():
    with pytest.raises(SettingsError, match="BREVO_MOCK_PORT"):
        overrides_from_env({"BREVO_MOCK_PORT": "eighty"})
    with pytest.raises(SettingsError, match="BREVO_MOCK_CONTACTS"):
        overrides_from_env({"BREVO_MOCK_CONTACTS": "0"})


def test_settings_survive_a_round_trip_through_the_environment():
    settings = Settings(
        port=9000, seed=7, api_keys=(ApiKey("a", "acme"), ApiKey("b", "globex")), forbidden_keys=("f",),
        contacts=50, rate_limit=RateLimit(100, "minute"), check_client=True, admin=False,
    )
    assert Settings(**overrides_from_env(to_env(settings))) == settings


def test_organisations_in_first_seen_order():
    settings = Settings(api_keys=(ApiKey("a", "x"), ApiKey("b", "y"), ApiKey("c", "x")))
    assert settings.organisations == ("x", "y")
