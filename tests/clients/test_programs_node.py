"""The program and subscription writes through the official Node client (@getbrevo/brevo 6.x), unchanged.

A short ES module run by node from examples/node (where `npm ci` installs the client) drives the nine
operations and prints what it saw as JSON; the test checks it against the mock's world. Skipped when
node or the client is not installed (`make test` installs it when npm is present).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server.testing import RunningMock, running_mock
from tests.api.support import make_settings

NODE_DIR = Path(__file__).resolve().parents[2] / "examples" / "node"

SCRIPT = r"""
import { BrevoClient, BrevoError } from "@getbrevo/brevo";
const [baseUrl, apiKey, takenName] = process.argv.slice(1);
const brevo = new BrevoClient({ apiKey, baseUrl });
const out = {};
const status = async (call) => {
  try { await call(); return 200; } catch (error) {
    if (error instanceof BrevoError) return error.statusCode;
    throw error;
  }
};
const created = await brevo.program.createNewLp({ name: "Node Club", description: "made by node" });
const pid = created.id;
out.created = created.state;
out.refusedBeforePublish = await status(() => brevo.program.subscribeToLoyaltyProgram({ pid, contactId: 101 }));
await brevo.program.publishLoyaltyProgram({ pid });
out.published = (await brevo.program.getLoyaltyProgramInfo({ pid })).state;
const enrolled = await brevo.program.subscribeToLoyaltyProgram({ pid, contactId: 101, loyaltySubscriptionId: "n-101" });
out.enrolled = [enrolled.contactId, enrolled.loyaltySubscriptionId];
out.twice = await status(() => brevo.program.subscribeToLoyaltyProgram({ pid, contactId: 101 }));
const added = await brevo.program.subscribeMemberToASubscription({ pid, memberContactIds: [201, 202], contactId: 101 });
out.added = [added.ownerContactId, added.memberContactIds];
out.owner = await status(
  () => brevo.program.subscribeMemberToASubscription({ pid, memberContactIds: [101], contactId: 101 }));
await brevo.program.deleteContactMembers({ pid, memberContactIds: "201" });
const info = await brevo.program.getParameterSubscriptionInfo({ pid, contactId: "101", params: "members" });
out.members = info.members.map((member) => member.memberContactId);
out.renamed = (await brevo.program.updateLoyaltyProgram({ pid, name: "Node Club 2" })).description;
out.patched = (await brevo.program.partiallyUpdateLoyaltyProgram({ pid, description: "again" })).name;
out.clash = await status(() => brevo.program.createNewLp({ name: takenName }));
await brevo.program.deleteContactSubscription({ pid, cid: 101 });
out.gone = await status(() => brevo.program.deleteContactSubscription({ pid, cid: 101 }));
await brevo.program.deleteLoyaltyProgram({ pid });
out.deleted = await status(() => brevo.program.getLoyaltyProgramInfo({ pid }));
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    with running_mock(make_settings(journal_size=1000)) as running:  # the violation check sees every request
        yield running


def test_the_node_client_drives_the_program_writes(mock: RunningMock, node: str) -> None:
    world = mock.state.backends[mock.state.settings.api_keys[0].organisation].world
    taken = world.programs[0].program.name
    done = subprocess.run([node, "--input-type=module", "-e", SCRIPT, mock.base_url, mock.api_key, taken],
                          cwd=NODE_DIR, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {
        "created": "inactive", "refusedBeforePublish": 422, "published": "active", "enrolled": [101, "n-101"],
        "twice": 422, "added": [101, [201, 202]], "owner": 409, "members": [101, 202], "renamed": "",
        "patched": "Node Club 2", "clash": 409, "gone": 404, "deleted": 404,
    }
    assert mock.violations == []
