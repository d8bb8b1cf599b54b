"""Fixture files: named YAML scenarios layered on top of the seeded world.

`load_fixture` reads and checks a file completely (shape, types, names, and
that explicit transactions add up to the stated balance) and returns an
immutable `Fixture`. Applying it happens in `build_world`, which reports the
problems only the world can reveal (an unknown offer name, a debit larger than
the balance ...) with the same `FixtureError`. Every message starts with the
file and the location of the problem, e.g.::

    fixtures/x.yaml: programs[0].members[1].balances[0].balance must be a number, got 'abc'

The format is documented in fixtures/README.md.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import yaml

from mock_server.fixture_format import (
    EXPIRY_UNITS,
    OFFER_STATES,
    SCHEMA_FILE,
    SHAPES,
    SUBSCRIPTION_ID_MAX,
    VOUCHER_CODE,
)
from mock_server.store.models import (
    BALANCE_UNITS,
    EMPTY_META,
    PROGRAM_STATES,
    REFERENCE_NOW,
    REFERENCE_NOW_ISO,
    TRANSACTION_STATUSES,
    TRANSACTION_TYPES,
    Meta,
    freeze,
    from_datetime,
    parse_iso,
)


class FixtureError(Exception):
    """A fixture that cannot be used; the message names the file and the problem."""


# ------------------------------------------------------------------------ model


@dataclass(frozen=True, slots=True)
class TransactionSpec:
    location: str
    type: str
    amount: Decimal
    status: str
    created_at: int | None
    expires_at: int | None
    reject_reason: str | None
    meta: Meta

    @property
    def signed_counted(self) -> Decimal:
        """What the transaction adds to the balance (only completed ones count)."""
        if self.status != "completed":
            return Decimal(0)
        return self.amount if self.type == "credit" else -self.amount


@dataclass(frozen=True, slots=True)
class BalanceSpec:
    location: str
    definition: str
    balance: Decimal
    transactions: tuple[TransactionSpec, ...] | None  # None: generate `transaction_count` of them
    transaction_count: int | None


@dataclass(frozen=True, slots=True)
class VoucherSpec:
    location: str
    offer: str
    code: str
    created_at: int | None
    expires_at: int | None
    consumed_at: int | None
    meta: Meta


@dataclass(frozen=True, slots=True)
class MemberSpec:
    location: str
    contact_id: int
    loyalty_subscription_id: str | None
    subscribed_at: int | None
    balances: tuple[BalanceSpec, ...]
    vouchers: tuple[VoucherSpec, ...] | None  # None: keep the seeded vouchers


@dataclass(frozen=True, slots=True)
class DefinitionSpec:
    location: str
    name: str
    unit: str | None
    internal: bool | None
    description: str | None
    expiry: tuple[int, str] | None
    expiry_given: bool


@dataclass(frozen=True, slots=True)
class TierSpec:
    location: str
    name: str
    threshold: int


@dataclass(frozen=True, slots=True)
class TierGroupSpec:
    location: str
    name: str
    definition: str
    tiers: tuple[TierSpec, ...]


@dataclass(frozen=True, slots=True)
class OfferSpec:
    location: str
    name: str
    public_name: str | None
    public_description: str | None
    state: str | None
    value: Decimal | None
    unit: str | None
    code: str | None
    codes: int | None


@dataclass(frozen=True, slots=True)
class ProgramSpec:
    location: str
    name: str
    id: str | None
    state: str | None
    description: str | None
    pattern: str | None
    definitions: tuple[DefinitionSpec, ...]
    tier_groups: tuple[TierGroupSpec, ...]
    offers: tuple[OfferSpec, ...]
    members: tuple[MemberSpec, ...]


@dataclass(frozen=True, slots=True)
class Fixture:
    path: str
    name: str
    description: str
    programs: tuple[ProgramSpec, ...]

    def error(self, location: str, problem: str) -> FixtureError:
        """The error for a problem found while applying this fixture to a world."""
        return FixtureError(f"{self.path}: {location} {problem}")


# ---------------------------------------------------------------------- loading


def shipped_fixture(name: str) -> Path | None:
    """The file of a fixture shipped with the mock (``widget-member``), if there is one."""
    stem = name.removesuffix(".yaml").removesuffix(".yml")
    if not stem or "/" in stem or "\\" in stem:
        return None
    return _shipped(f"{stem}.yaml") or _shipped(f"{stem}.yml")


def shipped_schema() -> Path | None:
    """The JSON Schema of the format, shipped next to the fixtures (``fixture-schema`` prints it)."""
    return _shipped(SCHEMA_FILE)


def _shipped_folders() -> tuple[Path, Path]:
    here = Path(__file__).resolve().parent
    return here.parent / "fixtures", here / "_data" / "fixtures"  # a source tree, then the wheel


def _shipped(filename: str) -> Path | None:
    for folder in _shipped_folders():
        if (folder / filename).is_file():
            return folder / filename
    return None


def fixture_file(text: str | Path, base: Path | None = None) -> Path:
    """A fixture file named by a path, or by the name of a shipped fixture (``widget-member``).

    The one resolver of the flag, the environment variable, the pytest ini option
    and ``brevo_mock.load_fixture``. A relative path is read from `base` (the
    pytest root directory, so that tests do not depend on where pytest is run
    from), else from the current directory. An existing file wins; then a shipped
    fixture of that name (with or without ``.yaml``); then the path, which
    `load_fixture` reports missing under the name tried.
    """
    path = Path(text)
    candidate = path if base is None or path.is_absolute() else base / path
    if candidate.exists():
        return candidate
    shipped = shipped_fixture(str(text))
    if shipped is not None:
        return shipped
    if path.suffix in (".yaml", ".yml") or "/" in str(text) or os.sep in str(text):
        return candidate
    names = ", ".join(shipped_fixture_names()) or "none"
    raise FixtureError(f"fixture {str(text)!r}: no file {candidate.absolute()}, and no shipped fixture of that name "
                       f"(shipped: {names})")


def shipped_fixture_names() -> list[str]:
    """The names `--fixture` takes for the shipped fixtures, sorted."""
    for folder in _shipped_folders():
        if folder.is_dir():
            return sorted(path.stem for path in (*folder.glob("*.yaml"), *folder.glob("*.yml")))
    return []


def load_fixture(path: str | Path) -> Fixture:
    """Read and check one fixture file; raises `FixtureError` naming the file and the problem."""
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FixtureError(f"{label}: is not UTF-8 text") from None
    except OSError as error:
        raise FixtureError(f"{label}: cannot be read ({error.strerror or error})") from None
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise FixtureError(f"{label}: is not valid YAML: {error.problem or error.context}{where}") from None
    except yaml.reader.ReaderError as error:  # a control character; PyYAML's text takes two lines and an offset
        where = _line_and_column(text, error.position)
        raise FixtureError(f"{label}: is not valid YAML: control character {_codepoint(error.character)} is not "
                           f"allowed{where}") from None
    except yaml.YAMLError as error:
        raise FixtureError(f"{label}: is not valid YAML: {' '.join(str(error).split())}") from None
    if document is None:
        raise FixtureError(f"{label}: is empty")
    return _Reader(label).fixture(document, Path(path).stem)


def _line_and_column(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f" (line {line}, column {column})"


def _codepoint(character: str | int) -> str:
    code = character if isinstance(character, int) else ord(character)
    return f"U+{code:04X}"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


# ---------------------------------------------------------------------- reading


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


class _Reader:
    """Turns the parsed YAML into specs, failing on the first problem with its location."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, location: str, problem: str) -> NoReturn:
        raise FixtureError(f"{self.label}: {location or 'the document'} {problem}")

    # ---- primitives

    def mapping(self, value: Any, location: str, required: Sequence[str], optional: Sequence[str]) -> dict:
        if not isinstance(value, dict):
            self.fail(location, f"must be a mapping, got {_describe(value)}")
        allowed = (*required, *optional)
        for key in value:
            if key not in allowed:
                self.fail(location, f"has an unknown key {key!r} (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.fail(location, f"is missing the required key {key!r}")
        return value

    def shaped(self, value: Any, location: str, kind: str) -> dict:
        """A mapping of one kind of the format (`fixture_format.SHAPES`, the JSON Schema's source too)."""
        shape = SHAPES[kind]
        raw = self.mapping(value, location, shape.required, shape.optional)
        for first, second, problem in shape.exclusive:
            if first in raw and second in raw:
                self.fail(location, problem)
        if shape.needs_one_of is not None and not any(key in raw for key in shape.needs_one_of[0]):
            self.fail(location, shape.needs_one_of[1])
        return raw

    def sequence(self, value: Any, location: str) -> list:
        if not isinstance(value, list):
            self.fail(location, f"must be a list, got {_describe(value)}")
        return value

    def text(self, value: Any, location: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(location, f"must be a non-empty string, got {_describe(value)}")
        return value

    def integer(self, value: Any, location: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(location, f"must be an integer, got {_describe(value)}")
        if minimum is not None and value < minimum:
            self.fail(location, f"must be at least {minimum}, got {value}")
        return value

    def number(self, value: Any, location: str, minimum: Decimal | None = None, positive: bool = False) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(location, f"must be a number, got {_describe(value)}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(location, f"must be a number, got {value!r}")
        if not number.is_finite():
            self.fail(location, f"must be a finite number, got {value!r}")
        if positive and number <= 0:
            self.fail(location, f"must be greater than 0, got {value}")
        if minimum is not None and number < minimum:
            self.fail(location, f"must be at least {minimum}, got {value}")
        return number

    def boolean(self, value: Any, location: str) -> bool:
        if not isinstance(value, bool):
            self.fail(location, f"must be true or false, got {_describe(value)}")
        return value

    def choice(self, value: Any, location: str, options: Sequence[str]) -> str:
        if value not in options:
            self.fail(location, f"must be one of {', '.join(options)}, got {_describe(value)}")
        return value

    def moment(self, value: Any, location: str) -> int:
        if isinstance(value, datetime):
            ms = from_datetime(value)
        elif isinstance(value, date):
            ms = from_datetime(datetime(value.year, value.month, value.day))
        elif isinstance(value, str):
            try:
                ms = parse_iso(value)
            except ValueError:
                self.fail(location, f"must be an ISO 8601 date-time such as 2026-03-01T10:00:00Z, got {value!r}")
        else:
            self.fail(location, f"must be an ISO 8601 date-time, got {_describe(value)}")
        if ms > REFERENCE_NOW:
            self.fail(location, f"must not be after the reference clock {REFERENCE_NOW_ISO}")
        return ms

    def any_moment(self, value: Any, location: str) -> int:
        """A date-time that may lie after the reference clock (expiry dates)."""
        if isinstance(value, str):
            try:
                return parse_iso(value)
            except ValueError:
                pass
        elif isinstance(value, datetime):
            return from_datetime(value)
        elif isinstance(value, date):
            return from_datetime(datetime(value.year, value.month, value.day))
        self.fail(location, f"must be an ISO 8601 date-time such as 2026-12-31T23:59:59Z, got {_describe(value)}")

    def meta(self, value: Any, location: str) -> Meta:
        if value is None:
            return EMPTY_META
        if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
            self.fail(location, f"must be a mapping with string keys, got {_describe(value)}")
        return freeze(value)

    def items(
        self, value: Any, location: str, read: Callable[[Any, str], Any], unique: Callable[[Any], Any] | None = None
    ) -> tuple:
        made = []
        seen: dict[Any, str] = {}
        for i, item in enumerate(self.sequence(value, location)):
            spec = read(item, f"{location}[{i}]")
            if unique is not None:
                key = unique(spec)
                if key in seen:
                    self.fail(f"{location}[{i}]", f"repeats {key!r}, already given at {seen[key]}")
                seen[key] = f"{location}[{i}]"
            made.append(spec)
        return tuple(made)

    # ---- the document

    def fixture(self, document: Any, default_name: str) -> Fixture:
        raw = self.shaped(document, "", "fixture")
        name = self.text(raw["name"], "name") if "name" in raw else default_name
        description = self.text(raw["description"], "description") if "description" in raw else ""
        programs = self.items(raw["programs"], "programs", self.program, unique=lambda spec: spec.name)
        if not programs:
            self.fail("programs", "must list at least one program")
        return Fixture(self.label, name, description, programs)

    def program(self, value: Any, at: str) -> ProgramSpec:
        raw = self.shaped(value, at, "program")
        program_id = None
        if "id" in raw:
            text = self.text(raw["id"], f"{at}.id")
            try:
                program_id = str(uuid.UUID(text))
            except ValueError:
                self.fail(f"{at}.id", f"must be a UUID, got {text!r}")
        pattern = None
        if "pattern" in raw:
            pattern = self.text(raw["pattern"], f"{at}.pattern")
            if pattern.count("#") < 4:
                self.fail(f"{at}.pattern", f"must hold at least four '#' (digits), got {pattern!r}")
        offers = self.items(raw.get("offers", []), f"{at}.offers", self.offer, unique=lambda spec: spec.name)
        members = self.items(raw.get("members", []), f"{at}.members", self.member,
                             unique=lambda spec: spec.contact_id)
        self._check_codes(offers, members)
        return ProgramSpec(
            location=at,
            name=self.text(raw["name"], f"{at}.name"),
            id=program_id,
            state=self.choice(raw["state"], f"{at}.state", PROGRAM_STATES) if "state" in raw else None,
            description=self.text(raw["description"], f"{at}.description") if "description" in raw else None,
            pattern=pattern,
            definitions=self.items(raw.get("balanceDefinitions", []), f"{at}.balanceDefinitions",
                                   self.definition, unique=lambda spec: spec.name),
            tier_groups=self.items(raw.get("tierGroups", []), f"{at}.tierGroups", self.tier_group,
                                   unique=lambda spec: spec.name),
            offers=offers,
            members=members,
        )

    def _check_codes(self, offers: Sequence[OfferSpec], members: Sequence[MemberSpec]) -> None:
        """A voucher code names one voucher of the program; only an offer's fixed `code` is shared by its vouchers."""
        shared = {(offer.name, offer.code) for offer in offers if offer.code is not None}
        seen: dict[str, str] = {}
        for member in members:
            for voucher in member.vouchers or ():
                if (voucher.offer, voucher.code) in shared:
                    continue
                if voucher.code in seen:
                    self.fail(f"{voucher.location}.code",
                              f"repeats {voucher.code!r}, already given at {seen[voucher.code]}.code")
                seen[voucher.code] = voucher.location

    def definition(self, value: Any, at: str) -> DefinitionSpec:
        raw = self.shaped(value, at, "balanceDefinition")
        expiry = None
        if raw.get("expiry") is not None:
            spec = self.shaped(raw["expiry"], f"{at}.expiry", "expiry")
            expiry = (
                self.integer(spec["value"], f"{at}.expiry.value", minimum=1),
                self.choice(spec["unit"], f"{at}.expiry.unit", EXPIRY_UNITS),
            )
        return DefinitionSpec(
            location=at,
            name=self.text(raw["name"], f"{at}.name"),
            unit=self.choice(raw["unit"], f"{at}.unit", BALANCE_UNITS) if "unit" in raw else None,
            internal=self.boolean(raw["internal"], f"{at}.internal") if "internal" in raw else None,
            description=self.text(raw["description"], f"{at}.description") if "description" in raw else None,
            expiry=expiry,
            expiry_given="expiry" in raw,
        )

    def tier_group(self, value: Any, at: str) -> TierGroupSpec:
        raw = self.shaped(value, at, "tierGroup")
        tiers = self.items(raw["tiers"], f"{at}.tiers", self.tier, unique=lambda spec: spec.name)
        if not tiers:
            self.fail(f"{at}.tiers", "must list at least one tier")
        for i in range(1, len(tiers)):
            if tiers[i].threshold <= tiers[i - 1].threshold:
                self.fail(
                    f"{at}.tiers[{i}].threshold",
                    f"must be greater than the tier below ({tiers[i - 1].threshold}); list tiers lowest first",
                )
        return TierGroupSpec(
            location=at,
            name=self.text(raw["name"], f"{at}.name"),
            definition=self.text(raw["balanceDefinition"], f"{at}.balanceDefinition"),
            tiers=tiers,
        )

    def tier(self, value: Any, at: str) -> TierSpec:
        raw = self.shaped(value, at, "tier")
        return TierSpec(at, self.text(raw["name"], f"{at}.name"),
                        self.integer(raw["threshold"], f"{at}.threshold", minimum=0))

    def offer(self, value: Any, at: str) -> OfferSpec:
        raw = self.shaped(value, at, "offer")
        return OfferSpec(
            location=at,
            name=self.text(raw["name"], f"{at}.name"),
            public_name=self.text(raw["publicName"], f"{at}.publicName") if "publicName" in raw else None,
            public_description=(
                self.text(raw["publicDescription"], f"{at}.publicDescription") if "publicDescription" in raw else None
            ),
            state=self.choice(raw["state"], f"{at}.state", OFFER_STATES) if "state" in raw else None,
            value=self.number(raw["value"], f"{at}.value", minimum=Decimal(0)) if "value" in raw else None,
            unit=self.text(raw["unit"], f"{at}.unit") if "unit" in raw else None,
            code=self.text(raw["code"], f"{at}.code") if "code" in raw else None,
            codes=self.integer(raw["codes"], f"{at}.codes", minimum=0) if "codes" in raw else None,
        )

    def member(self, value: Any, at: str) -> MemberSpec:
        raw = self.shaped(value, at, "member")
        subscription_id = None
        if "loyaltySubscriptionId" in raw:
            subscription_id = self.text(raw["loyaltySubscriptionId"], f"{at}.loyaltySubscriptionId")
            if len(subscription_id) > SUBSCRIPTION_ID_MAX:
                self.fail(f"{at}.loyaltySubscriptionId", f"must be at most {SUBSCRIPTION_ID_MAX} characters long")
        vouchers = None
        if "vouchers" in raw:
            vouchers = self.items(raw["vouchers"] or [], f"{at}.vouchers", self.voucher)
        return MemberSpec(
            location=at,
            contact_id=self.integer(raw["contactId"], f"{at}.contactId", minimum=1),
            loyalty_subscription_id=subscription_id,
            subscribed_at=self.moment(raw["subscribedAt"], f"{at}.subscribedAt") if "subscribedAt" in raw else None,
            balances=self.items(raw.get("balances") or [], f"{at}.balances", self.balance,
                                unique=lambda spec: spec.definition),
            vouchers=vouchers,
        )

    def balance(self, value: Any, at: str) -> BalanceSpec:
        raw = self.shaped(value, at, "balance")
        definition = self.text(raw["balanceDefinition"], f"{at}.balanceDefinition")
        stated = self.number(raw["balance"], f"{at}.balance", minimum=Decimal(0)) if "balance" in raw else None
        if "transactions" in raw:
            transactions = self.items(raw["transactions"] or [], f"{at}.transactions", self.transaction)
            self._check_times(transactions, f"{at}.transactions")
            total = sum((tx.signed_counted for tx in transactions), Decimal(0))
            if stated is not None and total != stated:
                self.fail(
                    f"{at}.transactions",
                    f"add up to {total} (completed credits minus completed debits), not to the stated "
                    f"balance {stated}",
                )
            if total < 0:
                self.fail(f"{at}.transactions", f"add up to a negative balance ({total})")
            return BalanceSpec(at, definition, total, transactions, None)
        assert stated is not None  # the shape needs 'balance' or 'transactions'
        count = None
        if "transactionCount" in raw:
            count = self.integer(raw["transactionCount"], f"{at}.transactionCount", minimum=0)
            if count == 0 and stated != 0:
                self.fail(f"{at}.transactionCount", f"cannot be 0 for a balance of {stated}")
        return BalanceSpec(at, definition, stated, None, count)

    def _check_times(self, transactions: Sequence[TransactionSpec], at: str) -> None:
        dated = [tx.created_at is not None for tx in transactions]
        if any(dated) and not all(dated):
            self.fail(at, "must give createdAt on every transaction or on none")
        for i in range(1, len(transactions)):
            current, previous = transactions[i].created_at, transactions[i - 1].created_at
            if current is not None and previous is not None and current < previous:
                self.fail(f"{at}[{i}].createdAt", "is earlier than the transaction before it; list them oldest first")

    def transaction(self, value: Any, at: str) -> TransactionSpec:
        raw = self.shaped(value, at, "transaction")
        kind = self.choice(raw["type"], f"{at}.type", TRANSACTION_TYPES)
        status = self.choice(raw["status"], f"{at}.status", TRANSACTION_STATUSES) if "status" in raw else "completed"
        if status == "expired" and kind != "credit":
            self.fail(f"{at}.status", "can be 'expired' only for a credit")
        if "expiresAt" in raw and kind != "credit":
            self.fail(f"{at}.expiresAt", "applies to credits only")
        if "rejectReason" in raw and status != "rejected":
            self.fail(f"{at}.rejectReason", "applies to rejected transactions only")
        return TransactionSpec(
            location=at,
            type=kind,
            amount=self.number(raw["amount"], f"{at}.amount", positive=True),
            status=status,
            created_at=self.moment(raw["createdAt"], f"{at}.createdAt") if "createdAt" in raw else None,
            expires_at=self.any_moment(raw["expiresAt"], f"{at}.expiresAt") if "expiresAt" in raw else None,
            reject_reason=(
                self.text(raw["rejectReason"], f"{at}.rejectReason") if "rejectReason" in raw
                else ("rejected" if status == "rejected" else None)
            ),
            meta=self.meta(raw.get("meta"), f"{at}.meta"),
        )

    def voucher(self, value: Any, at: str) -> VoucherSpec:
        raw = self.shaped(value, at, "voucher")
        code = self.text(raw["code"], f"{at}.code")
        if not re.fullmatch(VOUCHER_CODE, code):
            self.fail(f"{at}.code", f"must be 1 to 64 printable characters without spaces, got {code!r}")
        created = self.moment(raw["createdAt"], f"{at}.createdAt") if "createdAt" in raw else None
        expires = self.any_moment(raw["expiresAt"], f"{at}.expiresAt") if "expiresAt" in raw else None
        consumed = self.moment(raw["consumedAt"], f"{at}.consumedAt") if raw.get("consumedAt") is not None else None
        if created is not None and expires is not None and expires <= created:
            self.fail(f"{at}.expiresAt", "must be after createdAt")
        if created is not None and consumed is not None and consumed < created:
            self.fail(f"{at}.consumedAt", "must not be before createdAt")
        return VoucherSpec(
            location=at,
            offer=self.text(raw["offer"], f"{at}.offer"),
            code=code,
            created_at=created,
            expires_at=expires,
            consumed_at=consumed,
            meta=self.meta(raw.get("meta"), f"{at}.meta"),
        )
