"""The soak's requests: mixed reads over every operation, resolved from the server's own world.

`candidate_paths` builds, from ``GET /__mock__/world``, reads of all 20
operations over many programs, members, pages and filters, plus ids that exist
nowhere and malformed parameters. `classify` sends each once and groups them by
the status they get: the mock is deterministic, so under load each must get the
very same status again, and any other answer is an error of the soak.
"""

from __future__ import annotations

import http.client
import json
from collections import defaultdict
from typing import Any

UNKNOWN_UUID = "0e5c1d2a-7b3f-4c6d-9e8f-a1b2c3d4e5f6"


def world_of(port: int, sample: int) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", f"/__mock__/world?sample={sample}")
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"GET /__mock__/world answered {answer.status}: {body[:200]!r}")
        return json.loads(body)
    finally:
        connection.close()


def candidate_paths(world: dict[str, Any], members_per_program: int) -> list[str]:
    paths = ["/v3/loyalty/config/programs", "/v3/loyalty/config/programs?limit=2&offset=1&sort=asc",
             "/v3/loyalty/config/programs?sort_field=name"]
    for program in world["programs"]:
        pid = program["id"]
        config, balance = f"/v3/loyalty/config/programs/{pid}", f"/v3/loyalty/balance/programs/{pid}"
        tier, offer = f"/v3/loyalty/tier/programs/{pid}", f"/v3/loyalty/offer/programs/{pid}"
        paths += [config, f"{balance}/balance-definitions", f"{balance}/balance-definitions?version=active",
                  f"{tier}/tier-groups", f"{tier}/tiers", f"{offer}/offers", f"{offer}/offers?limit=5&offset=2"]
        definitions = program["balanceDefinitions"]
        for definition in definitions:
            bdid = definition["id"]
            paths.append(f"{balance}/balance-definitions/{bdid}")
            paths += [f"{balance}/balance-definitions/{bdid}/limits/{blid}" for blid in definition["limitIds"]]
            for offset in (0, 50, 400):
                paths.append(f"{balance}/contact-balances?balanceDefinitionId={bdid}&limit=50&offset={offset}")
            paths.append(f"{balance}/contact-balances?balanceDefinitionId={bdid}&sortField=value&sort=asc&limit=500")
        paths += [f"{tier}/tier-groups/{group['id']}" for group in program["tierGroups"]]
        paths += [f"{offer}/rewards/{reward['id']}" for reward in program["rewards"]]
        paths += [f"{offer}/code-pools/{pool['id']}/codes-count" for pool in program["codePools"]]
        for member in program["members"][:members_per_program]:
            cid = member["contactId"]
            paths += [f"{balance}/subscriptions/{cid}/{what}"
                      for what in ("balances", "tier", "vouchers", "transactions")]
            paths += [f"{config}/account-info?contactId={cid}",
                      f"{config}/account-info?loyaltySubscriptionId={member['loyaltySubscriptionId']}&params=balance",
                      f"{offer}/vouchers?contactId={cid}"]
            for definition in definitions[:2]:
                bdid = definition["id"]
                paths += [f"{balance}/active-balance?contactId={cid}&balanceDefinitionId={bdid}",
                          f"{balance}/transaction-history?contactId={cid}&balanceDefinitionId={bdid}&limit=20",
                          f"{balance}/transaction-history?contactId={cid}&balanceDefinitionId={bdid}"
                          "&status=completed&transactionType=credit&sort=asc"]
        # ids that exist nowhere, and malformed parameters
        paths += [f"/v3/loyalty/config/programs/{UNKNOWN_UUID}", f"{balance}/subscriptions/999999999/balances",
                  f"{tier}/tier-groups/{UNKNOWN_UUID}", f"{offer}/rewards/{UNKNOWN_UUID}",
                  f"{balance}/contact-balances?limit=0", f"{balance}/contact-balances?balanceDefinitionId=x",
                  f"{balance}/transaction-history?contactId=abc&balanceDefinitionId={definitions[0]['id']}",
                  "/v3/loyalty/config/programs?limit=9223372036854775808", "/v3/loyalty/config/programs/not-a-uuid",
                  f"{config}/account-info?contactId=0"]
    return paths


def classify(port: int, paths: list[str], api_key: str) -> dict[int, list[str]]:
    """status -> the paths that get it (one request each, on one keep-alive connection)."""
    by_status: dict[int, list[str]] = defaultdict(list)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for path in paths:
            connection.request("GET", path, headers={"api-key": api_key})
            answer = connection.getresponse()
            answer.read()
            by_status[answer.status].append(path)
    finally:
        connection.close()
    return dict(by_status)
