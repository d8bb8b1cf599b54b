"""Reset and fixture loading on a running server: what a test suite does between its tests."""

from __future__ import annotations

import threading

import httpx

from mock_server.settings import ApiKey, Settings
from mock_server.testing import running_mock


def test_loading_fixtures_while_the_server_answers_never_fails_a_request():
    with running_mock(Settings(access_log=False, contacts=20)) as mock:
        stop = threading.Event()
        statuses: list[int] = []

        def hammer() -> None:
            with httpx.Client(base_url=mock.base_url, headers={"api-key": mock.api_key}) as client:
                while not stop.is_set():
                    statuses.append(client.get("/loyalty/config/programs").status_code)
                    pid = client.get("/loyalty/config/programs").json()["items"][0]["id"]
                    statuses.append(client.get(f"/loyalty/balance/programs/{pid}/balance-definitions").status_code)

        reader = threading.Thread(target=hammer)
        reader.start()
        swaps = 0
        try:
            # Swap worlds until the reader has answered a good number of requests meanwhile (bounded), so
            # the swaps and the reads really overlap however fast either side is on this machine.
            while len(statuses) < 60 and swaps < 500:
                mock.load_fixture("widget-member")
                mock.reset()
                swaps += 1
        finally:
            stop.set()
            reader.join()
        assert len(statuses) >= 60 and swaps >= 1, (len(statuses), swaps)
        assert set(statuses) <= {200, 204}, sorted(set(statuses))


def test_reset_with_a_key_resets_that_organisation_and_an_unknown_key_resets_nothing():
    keys = (ApiKey("key-a", "acme"), ApiKey("key-b", "globex"))
    with running_mock(Settings(access_log=False, contacts=5, api_keys=keys)) as mock:
        backends = mock.state.backends
        for name in ("acme", "globex"):
            backends[name].new_id()
        # State-changing admin calls carry the custom header (a browser would have to preflight it).
        with httpx.Client(base_url=mock.root_url, headers={"X-Brevo-Mock": "1"}) as client:
            refused = client.post("/__mock__/reset", headers={"api-key": "nobody"})
            assert refused.status_code == 401 and set(refused.json()) == {"code", "message"}
            assert (backends["acme"].ids.issued, backends["globex"].ids.issued) == (1, 1)
            assert client.post("/__mock__/reset", headers={"api-key": "key-a"}).status_code == 200
            assert (backends["acme"].ids.issued, backends["globex"].ids.issued) == (0, 1)
            assert client.post("/__mock__/reset").status_code == 200
            assert backends["globex"].ids.issued == 0
