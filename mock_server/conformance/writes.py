"""Stateful write sequences: writes, then the reads the contract links them to, checked for their effect.

The schema checks and the read properties never write. These sequences do,
through HTTP only, following the contract's links from each write
(`links`): begin -> complete -> history and balances, order -> complete,
subscribe -> balances, attribute a voucher -> vouchers and codes-count,
create* -> get*. After each accepted write every linked read is called and
must answer its documented success; each sequence then asserts what a
correct server shows (a draft leaves the balance alone, completing moves it
by the amount once and only once, a refused body changes nothing, N
concurrent credits all count).

Where they may write (`WriteScope`):

- ``mock``: the target is our mock (detected as the seeded properties are,
  through /__mock__/): any write, programs included;
- ``sandbox``: any other server, only with ``--allow-writes --program PID``:
  every write names that program (`pid`), none creates or deletes a program,
  and the run's `RequestBudget` refuses anything else before it leaves the
  process. What was written is listed in the report.

A sequence removes what it created (tier groups, definitions, subscriptions)
once it has passed; a failed one leaves its records in place, so that the
report's curls reproduce what it saw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from mock_server.conformance.budget import BudgetExhausted, RequestBudget, WriteRefused
from mock_server.conformance.discovery import Ids, Member
from mock_server.conformance.httpclient import Answer, Client
from mock_server.conformance.links import Call, build_call, follow, links_from
from mock_server.conformance.report import PropertyResult, Report
from mock_server.contract.operations import CompiledContract

MOCK, SANDBOX = "mock", "sandbox"
AMOUNT = 1  # one unit per credit: small enough for any cap, visible in any balance
CONCURRENT_CREDITS = 8
MEMBER_ATTEMPTS = 4  # members tried before a sequence says the target offers none it can credit
HISTORY_LIMIT = 500
NAME_ATTEMPTS = 5  # names tried for a new tier group (a failed run leaves its records, so that curls reproduce)
LATER = "2030-01-01T00:00:00Z"  # an order's due date: a fixed moment, never the wall clock
_PROGRAM_PATH = re.compile(r"/loyalty/(?:config|balance|tier|offer)/programs/([^/?#]+)(/[^?#]*)?$")
_NOT_SUPPORTED = (405, 501)


@dataclass(frozen=True)
class WriteScope:
    mode: str  # MOCK or SANDBOX
    program: str | None = None  # the sandbox program

    def refusal(self, method: str, url: str) -> str | None:
        """Why a write may not be sent, or None. Checked by the budget on every request of the run."""
        if self.mode == MOCK:
            return None
        path = urlsplit(url).path
        if any(unquote(segment) in (".", "..") for segment in path.split("/")):
            return "a dot segment could lead out of the sandbox program"
        found = _PROGRAM_PATH.search(path)
        if found is None or self.program is None or unquote(found.group(1)).lower() != self.program.lower():
            return f"writes may only name the sandbox program {self.program} (--program)"
        if method == "DELETE" and not (found.group(2) or "").strip("/"):
            return "the sandbox program itself is never deleted"
        return None


class Skip(Exception):
    """The sequence cannot run on this target (the write is not implemented, nothing to write on)."""


# ------------------------------------------------------------------ stepping


@dataclass
class Step:
    call: Call
    body: Any
    answer: Answer
    reads: dict[str, Answer] = field(default_factory=dict)  # link name -> the linked read's answer
    nexts: dict[str, Call] = field(default_factory=dict)  # link name -> a linked write, resolved

    @property
    def value(self) -> Any:
        return self.answer.body


class Sequencer:
    """Sends writes and follows their links; what a sequence function is given."""

    def __init__(self, client: Client, contract: CompiledContract, ids: Ids, scope: WriteScope, seed: int) -> None:
        self.client = client
        self.contract = contract
        self.ids = ids
        self.scope = scope
        self.seed = seed
        self.pid = ids.focus_program

    def call(self, operation_id: str, values: dict[str, Any], body: Any = None) -> Answer:
        """One request, no link followed; a 405/501 on a write means the target does not offer it."""
        target = build_call(self.contract, operation_id, values)
        return self._send(target, body)

    def write(self, operation_id: str, values: dict[str, Any], body: Any = None) -> Step:
        return self.run(build_call(self.contract, operation_id, values), body)

    def run(self, target: Call, body: Any = None) -> Step:
        """A write, then every read its answer links to (each must answer a documented success)."""
        answer = self._send(target, body)
        step = Step(target, body, answer)
        if not 200 <= answer.status < 300 or answer.status == 204:
            return step
        for link in links_from(self.contract, target.operation.operation_id, answer.status):
            linked = follow(self.contract, link, target.path_values, target.query, body, answer.body)
            assert linked is not None, (f"{target.operation.operation_id} answered {answer.status} but its link "
                                        f"{link.name} cannot be filled from the answer: {str(answer.body)[:300]}")
            if not linked.is_read:
                step.nexts[link.name] = linked
                continue
            read = self._send(linked)
            documented = linked.operation.statuses
            assert 200 <= read.status < 300 and read.status in documented, (
                f"after {target.operation.operation_id}, link {link.name}: GET {read.url} answered {read.status}: "
                f"{str(read.body)[:300]}")
            step.reads[link.name] = read
        return step

    def read(self, operation_id: str, values: dict[str, Any]) -> Answer:
        return self._send(build_call(self.contract, operation_id, values))

    def _send(self, target: Call, body: Any = None) -> Answer:
        answer = self.client.send(target.operation.method, target.path, body, target.query)
        if target.operation.method != "GET" and answer.status in _NOT_SUPPORTED:
            raise Skip(f"{target.operation.operation_id} answered {answer.status}: the target does not offer it")
        return answer

    # -- reads the sequences compare before and after ----------------------

    def balance(self, member: Member) -> float:
        answer = self.read("getSubscriptionBalances", {"pid": member.pid, "cid": member.contact_id,
                                                       "includeInternal": True}).ok()
        return _balance_in(answer, member.bdid)

    def history(self, member: Member) -> dict[str, str]:
        """transaction id -> status, of the member's history on the definition."""
        answer = self.read("getTransactionHistoryApi", {"pid": member.pid, "contactId": member.contact_id,
                                                        "balanceDefinitionId": member.bdid,
                                                        "limit": HISTORY_LIMIT}).ok()
        return {item["id"]: item.get("status") for item in answer.get("transactionHistory", []) if "id" in item}

    def members(self) -> list[Member]:
        found = [member for member in self.ids.members if member.pid == self.pid]
        if not found:
            raise Skip("no member of the program was found to write on")
        return found[:MEMBER_ATTEMPTS]

    def name(self, what: str) -> str:
        return f"conformance {what} {self.seed}"

    def definition(self) -> str:
        """The first definition the target listed: a visible one, which tiers may rank on."""
        found = self.ids.values.get("bdid")
        if not found:
            raise Skip("no balance definition was found to write on")
        return str(found[0])

    def create_group(self, what: str) -> Step:
        """A new tier group; names are unique in a program, so a name a failed earlier run left is skipped."""
        for attempt in range(1, NAME_ATTEMPTS + 1):
            name = self.name(what) + (f" #{attempt}" if attempt > 1 else "")
            step = self.write("createTierGroup", {"pid": self.pid}, {"name": name})
            if step.answer.status == 200:
                return step
            if step.answer.status != 409:
                break
        raise Skip(f"createTierGroup answered {step.answer.status}: {str(step.answer.body)[:200]}")


def _balance_in(answer: Any, bdid: str) -> float:
    for entry in answer.get("balance", []):
        if entry.get("balanceDefinitionId") == bdid:
            return float(entry.get("value") or 0)
    return 0.0


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def _status_of(answer: Answer) -> Any:
    return answer.body.get("status") if isinstance(answer.body, dict) else None


def _credit(member: Member, **extra: Any) -> dict[str, Any]:
    return {"amount": AMOUNT, "balanceDefinitionId": member.bdid, "contactId": member.contact_id, **extra}


def _begin_draft(s: Sequencer) -> tuple[Member, float, dict[str, str], Step]:
    """A draft credit on the first member the target lets us credit: (member, balance, history, begin step)."""
    refused = []
    for member in s.members():
        before, history = s.balance(member), s.history(member)
        step = s.write("beginTransaction", {"pid": member.pid}, _credit(member))
        if step.answer.status == 200 and _status_of(step.answer) == "draft":
            return member, before, history, step
        refused.append(f"contact {member.contact_id}: {step.answer.status} {str(step.answer.body)[:120]}")
        if step.answer.status == 200 and step.nexts.get("CancelIt"):
            s.run(step.nexts["CancelIt"])  # a draft in another state than expected: leave nothing open
    raise Skip("no member could be credited: " + "; ".join(refused))


# ----------------------------------------------------------------- sequences


def transaction_lifecycle(s: Sequencer) -> None:
    member, before, history, begun = _begin_draft(s)
    tid = begun.value["id"]
    assert _close(_balance_in(begun.reads["MemberTotals"].body, member.bdid), before), (
        f"a draft credit moved the balance of contact {member.contact_id}: {before} before, "
        f"{_balance_in(begun.reads['MemberTotals'].body, member.bdid)} after beginTransaction")
    assert s.history(member).get(tid) == "draft", f"the history does not show transaction {tid} as draft"

    done = s.run(begun.nexts["CompleteIt"])
    assert done.answer.status == 200 and _status_of(done.answer) == "completed", (
        f"completing draft {tid} answered {done.answer.status} {str(done.answer.body)[:200]}")
    shown = _balance_in(done.reads["TotalsAfterComplete"].body, member.bdid)
    assert _close(shown, before + AMOUNT), (f"after completing a credit of {AMOUNT}, the balance of contact "
                                            f"{member.contact_id} reads {shown}, expected {before + AMOUNT}")
    statuses = {item.get("id"): item.get("status")
                for item in done.reads["HistoryAfterComplete"].body.get("transactionHistory", [])}
    assert statuses.get(tid) == "completed", f"the history after completion shows {tid} as {statuses.get(tid)}"

    again = s.run(begun.nexts["CompleteIt"])
    assert 400 <= again.answer.status < 500, (f"completing transaction {tid} a second time answered "
                                              f"{again.answer.status}, expected a 4xx refusal")
    now = s.balance(member)
    assert _close(now, before + AMOUNT), (f"completing {tid} twice: the balance is {now}, expected "
                                          f"{before + AMOUNT} (the credit counted once)")
    assert len(s.history(member)) == len(history) + 1, "a refused second completion changed the history"


def cancel_lifecycle(s: Sequencer) -> None:
    member, before, _, begun = _begin_draft(s)
    tid = begun.value["id"]
    cancelled = s.run(begun.nexts["CancelIt"])
    assert cancelled.answer.status == 200 and _status_of(cancelled.answer) == "cancelled", (
        f"cancelling draft {tid} answered {cancelled.answer.status} {str(cancelled.answer.body)[:200]}")
    statuses = {item.get("id"): item.get("status")
                for item in cancelled.reads["HistoryAfterCancel"].body.get("transactionHistory", [])}
    assert statuses.get(tid) == "cancelled", f"the history after cancelling shows {tid} as {statuses.get(tid)}"
    late = s.run(begun.nexts["CompleteIt"])
    assert 400 <= late.answer.status < 500, f"completing cancelled transaction {tid} answered {late.answer.status}"
    assert _close(s.balance(member), before), f"a cancelled credit moved the balance of contact {member.contact_id}"


def order_lifecycle(s: Sequencer) -> None:
    member = s.members()[0]
    before = s.balance(member)
    order = s.write("createBalanceOrder", {"pid": member.pid},
                    _credit(member, dueAt=LATER, source="user"))
    if order.answer.status != 200:
        raise Skip(f"createBalanceOrder answered {order.answer.status}: {str(order.answer.body)[:200]}")
    assert _close(s.balance(member), before), "an order moved the balance before it was completed"
    done = s.run(order.nexts["CompleteOrder"])
    assert done.answer.status == 200 and _status_of(done.answer) == "completed", (
        f"completing order {order.value.get('id')} answered {done.answer.status} {str(done.answer.body)[:200]}")
    shown = _balance_in(done.reads["TotalsAfterComplete"].body, member.bdid)
    assert _close(shown, before + AMOUNT), f"after completing an order of {AMOUNT} the balance reads {shown}, " \
        f"expected {before + AMOUNT}"


def concurrent_credits(s: Sequencer) -> None:
    member, before, history, begun = _begin_draft(s)
    s.run(begun.nexts["CancelIt"])  # the probe: this member can be credited; it leaves nothing behind
    history = s.history(member)
    body = _credit(member, autoComplete=True)

    def credit(_: int) -> Answer:
        return s.call("beginTransaction", {"pid": member.pid}, body)

    with ThreadPoolExecutor(CONCURRENT_CREDITS) as pool:
        answers = list(pool.map(credit, range(CONCURRENT_CREDITS)))
    bad = [answer for answer in answers if answer.status != 200]
    assert not bad, f"a concurrent credit answered {bad[0].status}: {str(bad[0].body)[:200]}"
    completed = sum(_status_of(answer) == "completed" for answer in answers)
    now, after = s.balance(member), s.history(member)
    assert _close(now, before + completed * AMOUNT), (
        f"{completed} credits of {AMOUNT} completed at once on contact {member.contact_id}: the balance went from "
        f"{before} to {now}, expected {before + completed * AMOUNT} (an update was lost)")
    tids = {answer.body.get("id") for answer in answers}
    assert len(tids) == CONCURRENT_CREDITS, (f"{CONCURRENT_CREDITS} concurrent credits answered only {len(tids)} "
                                             "distinct transaction ids")
    assert len(after) == len(history) + CONCURRENT_CREDITS and tids <= set(after), (
        f"{CONCURRENT_CREDITS} concurrent credits: the history grew by {len(after) - len(history)}")


def invalid_bodies_refused(s: Sequencer) -> None:
    """Bodies the contract rejects are refused (4xx) and change nothing the reads show."""
    member = s.members()[0]
    before, history = s.balance(member), s.history(member)
    cases = [
        ("the amount as a string", {**_credit(member), "amount": str(AMOUNT)}),
        ("no balanceDefinitionId", {key: value for key, value in _credit(member).items()
                                    if key != "balanceDefinitionId"}),
        ("a transactionType outside its enum", _credit(member, transactionType="refund")),
    ]
    tried = 0
    for what, body in cases:
        try:
            answer = s.call("beginTransaction", {"pid": member.pid}, body)
        except Skip:
            continue
        tried += 1
        assert 400 <= answer.status < 500, f"beginTransaction with {what} answered {answer.status}, expected 4xx"
    # A tier update (a PUT: the report's curl replays it as it was) with a threshold sent as a string.
    try:
        group = s.create_group("invalid-body group")
    except Skip:
        group = None
    if group is not None:
        bdid = s.definition()
        tier = s.run(group.nexts["NewTierGroupTier"], {"name": s.name("tier"), "accessConditions": [
            {"balanceDefinitionId": bdid, "minimumValue": 100}]})
        assert tier.answer.status == 200, f"createTierForTierGroup answered {tier.answer.status}"
        tiers_before = s.read("getLoyaltyProgramTier", {"pid": s.pid}).ok()
        answer = s.call("updateTier", {"pid": s.pid, "tid": tier.value["tierId"]},
                        {"name": s.name("tier"), "tierRewards": [], "accessConditions": [
                            {"balanceDefinitionId": bdid, "minimumValue": "200"}]})
        tried += 1
        assert 400 <= answer.status < 500, (f"updateTier with minimumValue as a string answered {answer.status}, "
                                            "expected 4xx")
        tiers_after = s.read("getLoyaltyProgramTier", {"pid": s.pid}).ok()
        assert tiers_after == tiers_before, "a refused tier body changed the program's tiers"
        s.call("deleteTier", {"pid": s.pid, "tid": tier.value["tierId"]})
        s.call("deleteTierGroup", {"pid": s.pid, "gid": group.value["id"]})
    if not tried:
        raise Skip("the target offers none of the writes the invalid bodies are sent to")
    assert _close(s.balance(member), before), "a refused body moved the balance"
    assert s.history(member) == history, "a refused body changed the transaction history"


def tier_configuration(s: Sequencer) -> None:
    """create group -> get, create tier -> tiers and group, rename -> get, delete -> 404."""
    bdid = s.definition()
    group = s.create_group("group")
    gid, name = group.value["id"], group.body["name"]
    assert group.reads["NewTierGroup"].body.get("name") == name, "the new tier group reads back another name"
    tier = s.run(group.nexts["NewTierGroupTier"], {"name": s.name("tier"), "accessConditions": [
        {"balanceDefinitionId": bdid, "minimumValue": 100}]})
    assert tier.answer.status == 200, f"createTierForTierGroup answered {tier.answer.status} " \
        f"{str(tier.answer.body)[:200]}"
    tid = tier.value["tierId"]
    listed = {item.get("tierId") for item in tier.reads["ProgramTiersAfterCreate"].body.get("items", [])}
    assert tid in listed, f"the program's tiers do not list the new tier {tid}"
    assert tid in tier.reads["NewTierGroupOfTier"].body.get("tierOrder", []), \
        f"the tier group's tierOrder does not list the new tier {tid}, created in it (a stale read)"
    renamed = f"{name} renamed"
    update = s.write("updateTierGroup", {"pid": s.pid, "gid": gid},
                     {"name": renamed, "tierOrder": [tid], "upgradeStrategy": "real_time",
                      "downgradeStrategy": "real_time"})
    assert update.answer.status == 200, f"updateTierGroup answered {update.answer.status}"
    shown = update.reads["UpdatedTierGroup"].body.get("name")
    assert shown == renamed, f"after renaming tier group {gid} to {renamed!r} it reads {shown!r} (a stale read)"
    deleted = s.call("deleteTier", {"pid": s.pid, "tid": tid})
    assert deleted.status in (200, 204), f"deleteTier answered {deleted.status}"
    s.call("deleteTierGroup", {"pid": s.pid, "gid": gid})
    gone = s.read("getTierGroup", {"pid": s.pid, "gid": gid})
    assert gone.status == 404, f"tier group {gid} still answers {gone.status} after it was deleted"


def definition_read_back(s: Sequencer) -> None:
    """createBalanceDefinition -> getBalanceDefinition as written; deleted -> 404."""
    name = s.name("definition")
    definition = s.write("createBalanceDefinition", {"pid": s.pid}, {"name": name, "unit": "POINTS"})
    assert definition.answer.status == 200, f"createBalanceDefinition answered {definition.answer.status} " \
        f"{str(definition.answer.body)[:200]}"
    shown = definition.reads["NewDefinition"].body
    assert (shown.get("name"), shown.get("unit")) == (name, "POINTS"), f"the new definition reads back {shown}"
    bdid = definition.value["id"]
    s.call("deleteBalanceDefinition", {"pid": s.pid, "bdid": bdid})
    gone = s.read("getBalanceDefinition", {"pid": s.pid, "bdid": bdid})
    assert gone.status == 404, f"balance definition {bdid} still answers {gone.status} after it was deleted"


def reward_read_back(s: Sequencer) -> None:
    """createReward -> getRewardInformation as written (the contract has no reward delete: our mock only)."""
    name = s.name("reward")
    reward = s.write("createReward", {"pid": s.pid}, {"name": name})
    assert reward.answer.status == 200, f"createReward answered {reward.answer.status} {str(reward.answer.body)[:200]}"
    shown = reward.reads["NewReward"].body.get("name")
    assert shown == name, f"the new reward reads back the name {shown!r}, {name!r} was written"


def program_read_back(s: Sequencer) -> None:
    """createNewLP -> getLoyaltyProgramInfo as written; deleted -> 404 (our mock only: no program is created
    elsewhere)."""
    name = s.name("program")
    program = s.write("createNewLP", {}, {"name": name})
    assert program.answer.status == 200, (f"createNewLP answered {program.answer.status} "
                                          f"{str(program.answer.body)[:200]}")
    shown = program.reads["NewProgram"].body.get("name")
    assert shown == name, f"the new program reads back the name {shown!r}, {name!r} was written"
    pid = program.value["id"]
    s.call("deleteLoyaltyProgram", {"pid": pid})
    gone = s.read("getLoyaltyProgramInfo", {"pid": pid})
    assert gone.status == 404, f"program {pid} still answers {gone.status} after it was deleted"


def subscribe_then_balances(s: Sequencer) -> None:
    """subscribe -> balances (every balance 0), tier, account; then unsubscribe."""
    contact = _fresh_contact(s)
    step = s.write("subscribeToLoyaltyProgram", {"pid": s.pid}, {"contactId": contact})
    assert step.answer.status == 200, f"subscribing contact {contact} answered {step.answer.status} " \
        f"{str(step.answer.body)[:200]}"
    values = {entry.get("balanceDefinitionId"): entry.get("value")
              for entry in step.reads["EnrolledBalances"].body.get("balance", [])}
    assert all(not value for value in values.values()), f"a new member starts with balances {values}"
    s.call("deleteContactSubscription", {"pid": s.pid, "cid": contact})


def voucher_attribution(s: Sequencer) -> None:
    """attribute a voucher -> the holder's vouchers list it, the reward's code pool has one code less."""
    refused = []
    for rid in s.ids.values.get("rid", []):
        reward = s.read("getRewardInformation", {"pid": s.pid, "rid": rid})
        cpid = reward.body.get("codePoolId") if reward.status == 200 and isinstance(reward.body, dict) else None
        if not cpid:
            continue
        for member in s.members()[:2]:  # a reward may cost more than a member holds, or be held already
            count = s.read("getCodeCount", {"pid": s.pid, "cpid": cpid}).ok().get("count")
            step = s.write("createVoucher", {"pid": s.pid}, {"rewardId": rid, "contactId": member.contact_id})
            if step.answer.status != 200:
                refused.append(f"{step.answer.status} {str(step.answer.body)[:100]}")
                if len(refused) >= MEMBER_ATTEMPTS:
                    raise Skip("no voucher could be attributed: " + "; ".join(refused))
                continue
            vid = step.value["id"]
            held = {item.get("id") for item in step.reads["HolderVouchers"].body.get("contactRewards", [])}
            assert vid in held, f"voucher {vid} attributed to contact {member.contact_id} is not in their vouchers"
            after = s.read("getCodeCount", {"pid": s.pid, "cpid": cpid}).ok().get("count")
            assert after == count - 1, f"attributing voucher {vid} took a code of pool {cpid}: count {count} -> " \
                f"{after}"
            return
    raise Skip("no reward with a code pool could be attributed")


def _fresh_contact(s: Sequencer) -> int:
    """A contact id no member has: above every member the target showed."""
    known = [member.contact_id for member in s.ids.members]
    world = s.ids.world or {}
    for program in world.get("programs", []):
        known += [member.get("contactId", 0) for member in program.get("members", [])]
    return max(known, default=0) + 100_000 + s.seed


@dataclass(frozen=True)
class Sequence:
    name: str
    description: str
    run: Callable[[Sequencer], None]
    mock_only: bool = False  # creates what a sandbox could not remove, or names a contact we cannot know


SEQUENCES = (
    Sequence("transaction_lifecycle", "begin -> draft (balance unchanged) -> complete (balance + amount, history "
             "completed) -> complete again refused, the credit counted once", transaction_lifecycle),
    Sequence("cancel_lifecycle", "begin -> cancel: history cancelled, balance unchanged, completing it refused",
             cancel_lifecycle),
    Sequence("order_lifecycle", "create-order -> complete (its link): the balance moves once completed",
             order_lifecycle),
    Sequence("concurrent_credits", f"{CONCURRENT_CREDITS} credits at once on one member all count (no lost update)",
             concurrent_credits),
    Sequence("invalid_bodies_refused", "bodies the contract rejects get a 4xx and change nothing",
             invalid_bodies_refused),
    Sequence("tier_configuration", "tier group and tier created, read, renamed (read shows it), deleted (404)",
             tier_configuration),
    Sequence("definition_read_back", "create definition -> get: as written; delete -> 404", definition_read_back),
    Sequence("reward_read_back", "create reward -> get: as written", reward_read_back, mock_only=True),
    Sequence("program_read_back", "create program -> get: as written; delete -> 404", program_read_back,
             mock_only=True),
    Sequence("subscribe_then_balances", "subscribe -> balances all 0, tier and account answer; unsubscribe",
             subscribe_then_balances, mock_only=True),
    Sequence("voucher_attribution", "attribute a voucher -> the holder's vouchers list it, codes-count - 1",
             voucher_attribution),
)


# ------------------------------------------------------------------ running


def run_writes(session: requests.Session, base_url: str, ids: Ids, report: Report, *, budget: RequestBudget,
               contract: CompiledContract, scope: WriteScope, seed: int | None, only: tuple[str, ...] = ()) -> None:
    """Run every sequence the scope allows; results go to `report.writes`, the writes sent to `report.written`."""
    client = Client(session, base_url)
    sequencer = Sequencer(client, contract, ids, scope, seed if seed is not None else 0)
    scope_name = "our mock" if scope.mode == MOCK else f"sandbox program {scope.program}"
    budget.write_guard = scope.refusal  # the one place every request passes: nothing else may be written
    try:
        for sequence in SEQUENCES:
            if only and sequence.name not in only:
                continue
            result = PropertyResult(sequence.name, sequence.description, scope_name)
            report.writes.append(result)
            if ids.focus_program is None:
                result.status, result.message = "skipped", "the target has no program"
                continue
            if sequence.mock_only and scope.mode != MOCK:
                result.status, result.message = "skipped", "runs on our mock only"
                continue
            client.log.clear()
            try:
                sequence.run(sequencer)
            except Skip as reason:
                result.status, result.message = "skipped", str(reason)
            except BudgetExhausted as error:
                result.status, result.message = "skipped", str(error)
            except (AssertionError, requests.RequestException, WriteRefused) as error:
                result.status, result.message = "failed", str(error) or type(error).__name__
                result.curls = list(client.log)
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                # An answer without what the contract promises (no `id`, not an object, a link not filled).
                result.status, result.message = "failed", f"unexpected answer: {type(error).__name__}: {error}"
                result.curls = list(client.log)
    finally:
        budget.write_guard = None
        report.written.extend(client.written)
