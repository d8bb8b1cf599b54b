"""Fixture files: the shipped widget member, and every way a broken fixture is reported."""

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from mock_server.fixtures import FixtureError, fixture_file, load_fixture, shipped_fixture
from mock_server.seeding import build_world
from tests.support.handlers import contract_handlers

H = contract_handlers()
WIDGET_PID = "27d1dd7a-af67-4020-ba65-19d60000a26e"


def _write(tmp_path, text: str, name: str = "case.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _error(path) -> str:
    with pytest.raises(FixtureError) as caught:
        load_fixture(path)
    return str(caught.value)


def _build_error(path, contacts: int = 10) -> str:
    fixture = load_fixture(path)
    with pytest.raises(FixtureError) as caught:
        build_world(1, contacts, [fixture])
    return str(caught.value)


MEMBER = """
programs:
  - name: Test Program
    balanceDefinitions:
      - name: Points
    members:
      - contactId: 7
        balances:
          - balanceDefinition: Points
            {balance}
"""


# ------------------------------------------------------------------ shipped


def test_shipped_fixture_is_found_by_name():
    path = shipped_fixture("widget-member")
    assert path is not None and path.name == "widget-member.yaml"
    assert shipped_fixture("widget-member.yaml") == path
    assert shipped_fixture("no-such-fixture") is None
    assert shipped_fixture("../etc/passwd") is None


def test_a_fixture_is_named_by_a_path_or_by_a_shipped_name(tmp_path, monkeypatch):
    shipped = shipped_fixture("widget-member")
    assert fixture_file("widget-member") == shipped == fixture_file("widget-member.yaml")
    # A file of the same name in the working directory wins over the shipped one.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "widget-member.yaml").write_text(WIDGET_COPY_MARKER)
    assert fixture_file("widget-member.yaml") == Path("widget-member.yaml")
    # Something that reads as a path is left to load_fixture, which says the file is missing.
    assert fixture_file("scenarios/missing.yaml") == Path("scenarios/missing.yaml")
    with pytest.raises(FixtureError, match=r"missing\.yaml: cannot be read"):
        load_fixture(fixture_file("scenarios/missing.yaml"))
    with pytest.raises(FixtureError, match="no shipped fixture of that name"):
        fixture_file("no-such-fixture")


WIDGET_COPY_MARKER = "# a project's own copy\n"


def test_widget_fixture_reads_as_the_guide_describes():
    fixture = load_fixture(shipped_fixture("widget-member"))
    assert fixture.name == "widget-member"
    (program,) = fixture.programs
    assert program.id == WIDGET_PID
    (member,) = program.members
    assert member.contact_id == 12345
    (balance,) = member.balances
    assert balance.definition == "Purchase Points"
    assert balance.balance == Decimal(340)
    assert sum(tx.signed_counted for tx in balance.transactions) == 340


def test_widget_member_in_the_world():
    world = build_world(123, 20, [load_fixture(shipped_fixture("widget-member"))])
    params = {"pid": WIDGET_PID, "cid": 12345}
    balances = H["getSubscriptionBalances"](world, params)
    assert [entry["value"] for entry in balances["balance"]] == [340]
    tier = H["getSubscriptionTier"](world, params)
    assert (tier["tierGroupName"], tier["tierName"], tier["nextTierName"]) == ("VIP Levels", "Silver", "Gold")
    assert (tier["nextTierThreshold"], tier["currentBalance"]) == (500, 340)
    vouchers = H["getSubscriptionVouchers"](world, params)
    assert [(v["code"], v["offerName"], v["publicDescription"]) for v in vouchers] == [
        ("GOLD10", "Gold Welcome Reward", "10% off your next order")
    ]
    account = H["getParameterSubscriptionInfo"](world, {"pid": WIDGET_PID, "loyaltySubscriptionId": "cust_abc123"})
    assert account["balance"]["contactId"] == 12345


# ------------------------------------------------------------- load errors


def test_unreadable_file(tmp_path):
    message = _error(tmp_path / "missing.yaml")
    assert message.startswith(f"{tmp_path / 'missing.yaml'}: cannot be read")


def test_bad_yaml_names_the_line(tmp_path):
    path = _write(tmp_path, "programs: [\n  - name: x\n")
    message = _error(path)
    assert message.startswith(f"{path}: is not valid YAML")
    assert "line" in message


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b"])
def test_a_control_character_is_one_line_naming_where(tmp_path, character):
    path = tmp_path / "case.yaml"
    path.write_bytes(f"programs:\n  - name: A{character}B\n".encode())
    message = _error(path)
    assert "\n" not in message  # one line, as every other error
    assert message == (f"{path}: is not valid YAML: control character U+{ord(character):04X} is not allowed "
                       "(line 2, column 12)")


def test_a_voucher_code_given_twice_in_a_program_is_refused_naming_both(tmp_path):
    path = _write(tmp_path, """
        programs:
          - name: X
            offers: [{name: Welcome}]
            members:
              - {contactId: 1, vouchers: [{offer: Welcome, code: HELLO5}]}
              - {contactId: 2, vouchers: [{offer: Welcome, code: BYE}, {offer: Welcome, code: HELLO5}]}
    """)
    assert _error(path) == (f"{path}: programs[0].members[1].vouchers[1].code repeats 'HELLO5', already given at "
                            "programs[0].members[0].vouchers[0].code")


def test_an_offers_fixed_code_is_shared_by_its_vouchers(tmp_path):
    path = _write(tmp_path, """
        programs:
          - name: X
            offers: [{name: Welcome, code: WELCOME}]
            members:
              - {contactId: 1, vouchers: [{offer: Welcome, code: WELCOME}]}
              - {contactId: 2, vouchers: [{offer: Welcome, code: WELCOME}]}
          - name: Y
            offers: [{name: Other}]
            members: [{contactId: 1, vouchers: [{offer: Other, code: WELCOME}]}]   # another program's codes
    """)
    assert [len(program.members) for program in load_fixture(path).programs] == [2, 1]


def test_duplicate_keys_are_refused(tmp_path):
    path = _write(tmp_path, "programs: []\nprograms: []\n")
    assert "duplicate key 'programs'" in _error(path)


def test_empty_file(tmp_path):
    assert _error(_write(tmp_path, "# nothing\n")).endswith(": is empty")


def test_unknown_key_lists_the_allowed_ones(tmp_path):
    path = _write(tmp_path, "programs:\n  - name: X\n    member: []\n")
    message = _error(path)
    assert f"{path}: programs[0] has an unknown key 'member'" in message
    assert "members" in message


def test_wrong_type_names_the_location_and_value(tmp_path):
    path = _write(tmp_path, MEMBER.format(balance="balance: abc"))
    assert _error(path) == f"{path}: programs[0].members[0].balances[0].balance must be a number, got 'abc'"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("balance: -1", "balance must be at least 0"),
        ("balance: true", "balance must be a number, got True"),
        ("# no balance", "needs a 'balance', 'transactions', or both"),
        ("balance: 5\n            transactionCount: 0", "transactionCount cannot be 0"),
        ("transactions: [{type: debit, amount: 5, status: expired}]", "can be 'expired' only for a credit"),
        ("transactions: [{type: credit, amount: 0}]", "amount must be greater than 0"),
        ("transactions: [{type: gift, amount: 5}]", "type must be one of credit, debit"),
        ("transactions: [{type: credit, amount: 5, createdAt: 2030-01-01T00:00:00Z}]", "after the reference clock"),
        ("transactions: [{type: credit, amount: 5, createdAt: yesterday}]", "must be an ISO 8601 date-time"),
        (
            "transactions: [{type: credit, amount: 5, createdAt: 2026-02-01T00:00:00Z}, {type: credit, amount: 5}]",
            "createdAt on every transaction or on none",
        ),
        (
            "transactions: [{type: credit, amount: 5, createdAt: 2026-02-01T00:00:00Z},"
            " {type: credit, amount: 5, createdAt: 2026-01-01T00:00:00Z}]",
            "oldest first",
        ),
        ("transactions: [{type: credit, amount: 5, rejectReason: x}]", "rejectReason applies to rejected"),
        ("transactions: [{type: debit, amount: 5}]", "add up to a negative balance"),
    ],
)
def test_balance_problems(tmp_path, snippet, expected):
    assert expected in _error(_write(tmp_path, MEMBER.format(balance=snippet)))


def test_transactions_must_add_up_to_the_stated_balance(tmp_path):
    snippet = (
        "balance: 340\n            transactions:\n"
        "              - {type: credit, amount: 400}\n"
        "              - {type: debit, amount: 100}\n"
        "              - {type: credit, amount: 40, status: cancelled}\n"
    )
    path = _write(tmp_path, MEMBER.format(balance=snippet))
    message = _error(path)
    assert message.startswith(f"{path}: programs[0].members[0].balances[0].transactions add up to 300")
    assert "stated balance 340" in message


def test_repeated_names_and_contacts(tmp_path):
    path = _write(tmp_path, """
        programs:
          - name: X
            members: [{contactId: 1}, {contactId: 1}]
    """)
    assert "programs[0].members[1] repeats 1" in _error(path)


def test_tiers_must_rise(tmp_path):
    path = _write(tmp_path, """
        programs:
          - name: X
            balanceDefinitions: [{name: P}]
            tierGroups:
              - name: G
                balanceDefinition: P
                tiers: [{name: A, threshold: 100}, {name: B, threshold: 100}]
    """)
    assert "tierGroups[0].tiers[1].threshold must be greater than the tier below (100)" in _error(path)


def test_bad_program_id_and_pattern(tmp_path):
    assert "id must be a UUID" in _error(_write(tmp_path, "programs: [{name: X, id: nope}]"))
    assert "at least four '#'" in _error(_write(tmp_path, "programs: [{name: X, pattern: 'A-##'}]"))


# ------------------------------------------------------------ apply errors


def test_unknown_definition_and_offer_are_reported_at_build(tmp_path):
    path = _write(tmp_path, """
        programs:
          - name: X
            members:
              - contactId: 3
                balances: [{balanceDefinition: Nope, balance: 1}]
    """)
    assert _build_error(path).startswith(
        f"{path}: programs[0].members[0].balances[0].balanceDefinition names 'Nope'"
    )
    path = _write(tmp_path, """
        programs:
          - name: X
            members:
              - contactId: 3
                vouchers: [{offer: Ghost, code: ABC}]
    """, "offer.yaml")
    assert "vouchers[0].offer names 'Ghost', which is not an offer of 'X'" in _build_error(path)


def test_overdraft_and_stale_completed_credit_are_refused(tmp_path):
    overdraft = "transactions:\n" + "".join(
        f"              - {{type: {kind}, amount: {amount}, createdAt: 2026-0{month}-01T00:00:00Z}}\n"
        for kind, amount, month in (("debit", 50, 2), ("credit", 80, 3))
    )
    assert "cannot be settled" in _build_error(_write(tmp_path, MEMBER.format(balance=overdraft)))
    stale = (
        "transactions: [{type: credit, amount: 5, createdAt: 2025-01-01T00:00:00Z, "
        "expiresAt: 2025-06-01T00:00:00Z}]"
    )
    assert "give it status 'expired'" in _build_error(_write(tmp_path, MEMBER.format(balance=stale), "s.yaml"))
    never = "transactions: [{type: credit, amount: 5, status: expired}]"
    assert "needs an expiresAt" in _build_error(_write(tmp_path, MEMBER.format(balance=never), "n.yaml"))


def test_money_amounts_take_two_decimals(tmp_path):
    path = _write(tmp_path, """
        programs:
          - name: X
            balanceDefinitions: [{name: Cash, unit: EUR}, {name: Pts}]
            members:
              - contactId: 3
                balances:
                  - {balanceDefinition: Cash, balance: 12.345}
    """)
    assert "EUR amounts take at most two decimals" in _build_error(path)
    points = _write(tmp_path, """
        programs:
          - name: X
            balanceDefinitions: [{name: Pts}]
            members:
              - contactId: 3
                balances: [{balanceDefinition: Pts, balance: 1.5}]
    """, "p.yaml")
    assert "POINTS amounts take whole numbers" in _build_error(points)


def test_contradicting_seeded_data_is_refused(tmp_path):
    world = build_world(1, 10)
    seeded = world.programs[0]
    definition = seeded.definitions[1]  # the money definition
    member = seeded.members.contact_ids[0]
    path = _write(tmp_path, f"""
        programs:
          - name: {seeded.program.name}
            balanceDefinitions: [{{name: {definition.name}, unit: POINTS}}]
    """)
    assert f"already has '{definition.unit}'" in _build_error(path)
    path = _write(tmp_path, f"""
        programs:
          - name: {seeded.program.name}
            balanceDefinitions: [{{name: {definition.name}, expiry: {{value: 6, unit: month}}}}]
    """, "e.yaml")
    assert "already has 'yearly expiry on 01/01'" in _build_error(path)  # a yearly day is not a lifetime
    path = _write(tmp_path, f"""
        programs:
          - name: {seeded.program.name}
            members: [{{contactId: {member}, subscribedAt: 2020-01-01T00:00:00Z}}]
    """, "m.yaml")
    assert "cannot change" in _build_error(path)


def test_members_of_a_never_published_program_are_refused(tmp_path):
    inactive = next(d for d in build_world(1, 10).programs if d.program.state == "inactive")
    assert len(inactive.members) == 0
    path = _write(tmp_path, f"""
        programs:
          - name: {inactive.program.name}
            members: [{{contactId: 5}}]
    """)
    error = _build_error(path)
    assert error == (
        f"{path}: programs[0].members[0] cannot subscribe contact 5: program {inactive.program.name!r} was never "
        "published (state 'inactive'), and contacts enrol only in a published program"
    )
    assert "\n" not in error
    created = _write(tmp_path, """
        programs:
          - name: Not Yet Live
            state: inactive
            members: [{contactId: 9}]
    """, "created.yaml")
    assert f"{created}: programs[0].members[0] cannot subscribe contact 9" in _build_error(created)
    # Without members, a never-published program from a fixture is fine.
    empty = _write(tmp_path, "programs:\n  - {name: Not Yet Live, state: inactive}\n", "empty.yaml")
    world = build_world(1, 10, [load_fixture(empty)])
    assert len(world.program_by_name("Not Yet Live").members) == 0


# ------------------------------------------------------------- layering


def test_target_balance_on_a_seeded_member_and_a_new_one(tmp_path):
    plain = build_world(8, 15)
    data = plain.programs[0]
    points = data.definitions[0]
    seeded_contact = data.members.contact_ids[3]
    untouched = plain.member(data, seeded_contact).ledgers[1]
    path = _write(tmp_path, f"""
        programs:
          - name: {data.program.name}
            members:
              - contactId: {seeded_contact}
                balances: [{{balanceDefinition: {points.name}, balance: 777, transactionCount: 9}}]
              - contactId: 999999
                loyaltySubscriptionId: new-member
                balances: [{{balanceDefinition: {points.name}, balance: 12}}]
    """)
    world = build_world(8, 15, [load_fixture(path)])
    layered = world.program(data.id)
    member = world.member(layered, seeded_contact)
    assert member.ledgers[0].value == 777
    assert len(member.ledgers[0].transactions) == 9
    assert member.ledgers[1] == untouched  # the other definition stays as seeded
    new = world.member_by_subscription(layered, "new-member")
    assert new.contact_id == 999999
    assert new.ledgers[0].value == 12
    assert len(layered.members) == 16
    assert list(layered.members.fixture_contacts) == [seeded_contact, 999999]


def test_tier_group_of_the_same_name_is_replaced_in_place(tmp_path):
    plain = build_world(8, 5)
    data = plain.programs[0]
    group = data.primary_tier_group
    path = _write(tmp_path, f"""
        programs:
          - name: {data.program.name}
            tierGroups:
              - name: {group.name}
                balanceDefinition: {data.definitions[0].name}
                tiers: [{{name: Low, threshold: 0}}, {{name: High, threshold: 10}}]
    """)
    layered = build_world(8, 5, [load_fixture(path)]).program(data.id)
    replaced = layered.primary_tier_group
    assert replaced.id == group.id
    assert [tier.name for tier in layered.tiers_of(replaced)] == ["Low", "High"]
    assert len(layered.tier_groups) == len(data.tier_groups)
    assert not any(tier.group_id == group.id and tier.name not in ("Low", "High") for tier in layered.tiers)
