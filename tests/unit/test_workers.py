"""`serve --workers N`: the flag, and the settings each worker rebuilds from its environment."""


from mock_server import app as app_module
from mock_server.app import create_app, create_app_from_env
from mock_server.cli import build_parser, settings_from_args
from mock_server.settings import ApiKey, Settings, overrides_from_env, to_env


def test_workers_flag_reaches_the_settings(monkeypatch):
    monkeypatch.delenv("BREVO_MOCK_WORKERS", raising=False)
    args = build_parser().parse_args(["serve", "--workers", "3", "--read-only"])
    assert settings_from_args(args).workers == 3
    assert settings_from_args(build_parser().parse_args(["serve"])).workers == 1


def test_a_worker_rebuilds_the_same_settings_and_world(monkeypatch):
    settings = Settings(port=9123, seed=7, contacts=20, access_log=False, workers=2, read_only=True,
                        api_keys=(ApiKey("key-a", "acme"), ApiKey("key-b", "globex")), forbidden_keys=("nope",))
    for name, value in to_env(settings).items():
        monkeypatch.setenv(name, value)
    settled = []  # the collector of this test process is left alone; a worker's is settled once
    monkeypatch.setattr(app_module, "settle_collector", lambda: settled.append(True))
    worker = create_app_from_env()
    assert worker.state.mock.settings == settings
    assert settled == [True]
    parent = create_app(settings)
    for organisation in ("acme", "globex"):
        assert worker.state.mock.worlds[organisation].summary(sample=5) == \
            parent.state.mock.worlds[organisation].summary(sample=5)


def test_several_workers_take_writes_and_share_a_directory(monkeypatch, tmp_path):
    for name in ("BREVO_MOCK_WORKERS", "BREVO_MOCK_READ_ONLY"):
        monkeypatch.delenv(name, raising=False)
    settings = settings_from_args(build_parser().parse_args(["serve", "--workers", "4"]))
    assert (settings.workers, settings.read_only) == (4, False)  # writes shared through a state file
    shared = Settings(workers=4, state=tmp_path / "state.log", shared_dir=tmp_path)
    assert overrides_from_env(to_env(shared))["shared_dir"] == tmp_path
    assert overrides_from_env(to_env(shared))["state"] == tmp_path / "state.log"


def test_read_only_reaches_the_workers_environment():
    settings = Settings(workers=2, read_only=True)
    assert overrides_from_env(to_env(settings))["read_only"] is True
    assert overrides_from_env(to_env(Settings()))["read_only"] is False
