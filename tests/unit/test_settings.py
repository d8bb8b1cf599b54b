"""Settings from flags and environment, and their one-line errors."""

import pytest

from mock_server.settings import (
    ApiKey,
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


def test_rate_limit_syntax():
    assert parse_rate_limit("600/hour") == 600
    assert parse_rate_limit("1200") == 1200
    assert parse_rate_limit("off") is None
    with pytest.raises(SettingsError, match="N/hour"):
        parse_rate_limit("fast")


def test_environment_values_are_checked_and_named():
    with pytest.raises(SettingsError, match="BREVO_MOCK_PORT"):
        overrides_from_env({"BREVO_MOCK_PORT": "eighty"})
    with pytest.raises(SettingsError, match="BREVO_MOCK_CONTACTS"):
        overrides_from_env({"BREVO_MOCK_CONTACTS": "0"})


def test_settings_survive_a_round_trip_through_the_environment():
    settings = Settings(
        port=9000, seed=7, api_keys=(ApiKey("a", "acme"), ApiKey("b", "globex")), forbidden_keys=("f",),
        contacts=50, rate_limit_per_hour=100, check_client=True, admin=False,
    )
    assert Settings(**overrides_from_env(to_env(settings))) == settings


def test_organisations_in_first_seen_order():
    settings = Settings(api_keys=(ApiKey("a", "x"), ApiKey("b", "y"), ApiKey("c", "x")))
    assert settings.organisations == ("x", "y")
