"""`serve --workers N`: the flag, and the settings each worker rebuilds from its environment."""

from mock_server.app import create_app, create_app_from_env
from mock_server.cli import build_parser, settings_from_args
from mock_server.settings import ApiKey, Settings, to_env


def test_workers_flag_reaches_the_settings(monkeypatch):
    monkeypatch.delenv("BREVO_MOCK_WORKERS", raising=False)
    args = build_parser().parse_args(["serve", "--workers", "3"])
    assert settings_from_args(args).workers == 3
    assert settings_from_args(build_parser().parse_args(["serve"])).workers == 1


def test_a_worker_rebuilds_the_same_settings_and_world(monkeypatch):
    settings = Settings(port=9123, seed=7, contacts=20, access_log=False, workers=2,
                        api_keys=(ApiKey("key-a", "acme"), ApiKey("key-b", "globex")), forbidden_keys=("nope",))
    for name, value in to_env(settings).items():
        monkeypatch.setenv(name, value)
    worker = create_app_from_env()
    assert worker.state.mock.settings == settings
    parent = create_app(settings)
    for organisation in ("acme", "globex"):
        assert worker.state.mock.worlds[organisation].summary(sample=5) == \
            parent.state.mock.worlds[organisation].summary(sample=5)
