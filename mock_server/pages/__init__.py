"""The mock's pages for people with a browser, under ``/__mock__/``.

- ``GET /__mock__/``                the world (programs, ids, sample members) and the request journal
- ``GET /__mock__/widget``          the loyalty widget of Brevo's "Read member data" guide, for one
                                    member: ``?contactId=12345`` (required), ``pid`` (default: a program
                                    the contact is a member of, a fixture's first), ``apiKey`` (default
                                    the first configured key), ``apiBase`` (default this server's /v3)
- ``GET /__mock__/assets/NAME``     the pages' own CSS and JavaScript

Everything the pages need is in this package: no CDN, no web font, no request
leaves the machine. The HTML is static; what the server knows (ids, key, base
path) reaches the scripts as one JSON island, escaped so that no query value
can close the script element. Like the other ``/__mock__/`` endpoints, the
pages answer only whom `mock_server.admin_guard` lets through: they show the API keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from mock_server.admin_guard import PREFIX
from mock_server.state import MockState
from mock_server.store.models import POINTS

if TYPE_CHECKING:
    from mock_server.store.world import ProgramData, World

ASSETS = {
    "pages.css": "text/css; charset=utf-8",
    "browse.js": "text/javascript; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
}

# The pages load nothing from elsewhere; the widget may call an API on another origin (apiBase).
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' http: https:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
_HEADERS = {"content-security-policy": _CSP, "cache-control": "no-store", "x-content-type-options": "nosniff"}


@cache
def _text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _page(template: str, title: str, config: dict[str, Any], status: int = 200) -> Response:
    # orjson leaves '<', '>' and '&' as they are: escape them so "</script>" in a value stays data.
    island = orjson.dumps(config).decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    html = (
        _text(template)
        .replace("{{title}}", title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        .replace("{{prefix}}", PREFIX)
        .replace("{{config}}", island)
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


# --------------------------------------------------------------------------- the widget's member


@dataclass(frozen=True)
class WidgetTarget:
    """What the widget page needs to know before its three calls."""

    program: ProgramData | None
    reason: str  # how the program was chosen: "pid", "fixture member", "member"
    problem: str | None = None


def choose_program(world: World, contact_id: int, pid: str | None) -> WidgetTarget:
    """The program to read `contact_id` in: `pid` when given, else one the contact is a member of.

    Without `pid`, a program where a fixture put the contact comes first (that is the
    member a developer asked for), then active programs, then any, in creation order.
    """
    if pid:
        return WidgetTarget(world.program(pid), "pid")
    memberships = [data for data in world.programs if data.members.position(contact_id) is not None]
    if not memberships:
        return WidgetTarget(None, "none", f"Contact {contact_id} is not a member of any program of this world.")

    def rank(data: ProgramData) -> tuple[int, int]:
        return (0 if contact_id in data.members.fixture_contacts else 1,
                0 if data.program.state == "active" else 1)

    chosen = min(memberships, key=rank)  # min() keeps the first of equal ranks: creation order
    return WidgetTarget(chosen, "fixture member" if contact_id in chosen.members.fixture_contacts else "member")


def points_definition(data: ProgramData) -> Any | None:
    """The balance the widget shows: the one the tier thresholds count, else the first public points."""
    group = data.primary_tier_group
    if group is not None:
        return data.definition_by_id.get(group.balance_definition_id)
    public = [definition for definition in data.definitions if not definition.internal and not definition.deleted]
    for definition in public:
        if definition.unit == POINTS:
            return definition
    return public[0] if public else None


def _valid_api_base(text: str) -> bool:
    if text.startswith("/") and not text.startswith("//"):
        return True
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.query and not parts.fragment


# --------------------------------------------------------------------------- routes


def page_routes(state: MockState) -> list[Route]:
    base_path = state.contract.base_path
    default_organisation = state.settings.api_keys[0].organisation

    def organisation_of(key: str) -> str:
        for api_key in state.settings.api_keys:
            if api_key.key == key:
                return api_key.organisation
        return default_organisation  # an unknown key: the API will answer 401, the page shows it

    async def browse(request: Request) -> Response:
        organisations = list(state.worlds)
        config = {
            "prefix": PREFIX,
            "basePath": base_path,
            "organisations": organisations,
            "organisation": request.query_params.get("organisation", default_organisation),
            "corsOrigins": list(state.settings.cors_origins),
        }
        return _page("browse.html", "brevo-loyalty-mock", config)

    async def widget(request: Request) -> Response:
        query = request.query_params
        api_key = query.get("apiKey") or state.settings.default_key
        api_base = (query.get("apiBase") or base_path).rstrip("/")
        world = state.worlds.get(organisation_of(api_key)) or state.worlds[default_organisation]
        config: dict[str, Any] = {
            "prefix": PREFIX,
            "apiKey": api_key,
            "apiBase": api_base,
            "corsOrigins": list(state.settings.cors_origins),
            "contactId": None,
            "programId": None,
            "problem": None,
            "members": _fixture_members(world),
        }
        raw_contact = query.get("contactId", "").strip()
        problem = None
        if not raw_contact:
            problem = "Give the member to show: /__mock__/widget?contactId=12345 (pid and apiKey are optional)."
        elif not (raw_contact.isascii() and raw_contact.isdigit()) or int(raw_contact) < 1 or len(raw_contact) > 19:
            problem = f"contactId must be a contact id (a whole number >= 1), not {raw_contact!r}."
        elif not _valid_api_base(api_base):
            problem = f"apiBase must be a path such as /v3 or an http(s) URL, not {api_base!r}."
        if problem is not None:
            config["problem"] = problem
            return _page("widget.html", "Loyalty widget", config, status=400 if raw_contact else 200)

        contact_id = int(raw_contact)
        target = choose_program(world, contact_id, query.get("pid", "").strip() or None)
        config["contactId"] = contact_id
        if target.problem is not None:
            config["problem"] = target.problem
            return _page("widget.html", "Loyalty widget", config, status=404)
        # With a pid the world does not know, the widget still calls: the API's 404 is the answer to show.
        config["programId"] = target.program.id if target.program is not None else query["pid"].strip()
        config["programChosenBy"] = target.reason
        if target.program is not None:
            config["programName"] = target.program.program.name
            definition = points_definition(target.program)
            if definition is not None:
                config["balanceDefinition"] = {"id": definition.id, "name": definition.name,
                                               "unit": definition.unit}
        return _page("widget.html", f"Loyalty widget · contact {contact_id}", config)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = ASSETS.get(name)
        if media_type is None:
            return Response(status_code=404)
        return Response(_text(name), media_type=media_type, headers=_HEADERS)

    return [
        Route(f"{PREFIX}/", browse, methods=["GET"]),
        Route(f"{PREFIX}/widget", widget, methods=["GET"]),
        Route(f"{PREFIX}/assets/{{name}}", asset, methods=["GET"]),
    ]


def _fixture_members(world: World, limit: int = 10) -> list[dict[str, Any]]:
    """Members a developer probably wants to look at: the fixtures', else each program's first."""
    found: list[dict[str, Any]] = []
    for data in world.programs:
        contacts = list(data.members.fixture_contacts)
        if not contacts and len(data.members):
            contacts = [data.members.contact_ids[0]]
        found.extend({"contactId": contact, "programId": data.id, "programName": data.program.name,
                      "fixture": contact in data.members.fixture_contacts} for contact in contacts)
    found.sort(key=lambda member: not member["fixture"])
    return found[:limit]
