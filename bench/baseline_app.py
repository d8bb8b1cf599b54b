"""The baseline: bare Starlette on uvicorn, answering a fixed JSON body after an api-key check.

Every figure of the benchmark is a ratio against this app, measured in the same
run, on the same machine, with the same uvicorn options as the mock
(`mock_server.server.uvicorn_options`). It has one route per measured request,
answering the very bytes the mock answered for it, so both send the same size;
what is left between the two is the mock's own work: routing, validation from
the contract, the world look-ups and the JSON encoding.

POST routes (`--posts`) stand for a write: they parse the JSON body, check that
it names a member (`LoyaltySubscriptionId` or `contactId`, the transaction
body's keys), and answer the bytes the mock answered for one such write.

    python -m bench.baseline_app --port 8100 --bodies bodies.json [--posts posts.json] --api-key KEY
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.server import bind_socket, uvicorn_options
from mock_server.settings import Settings

UNAUTHORIZED = b'{"code":"unauthorized","message":"Key not found"}'
MEMBER_KEYS = ("LoyaltySubscriptionId", "contactId")  # the transaction body names its member by one of them
NOT_JSON = b'{"code":"bad_request","message":"The request body is not a JSON object"}'
NO_MEMBER = b'{"code":"missing_parameter","message":"Missing member: give contactId or LoyaltySubscriptionId"}'

Endpoint = Callable[[Request], Awaitable[Response]]


def baseline_path(name: str) -> str:
    return f"/baseline/{name}"


def _endpoint(body: bytes, api_key: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if request.headers.get("api-key") != api_key:
            return Response(UNAUTHORIZED, status_code=401, media_type="application/json")
        return Response(body, media_type="application/json")

    return endpoint


def _post_endpoint(answer: bytes, api_key: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if request.headers.get("api-key") != api_key:
            return Response(UNAUTHORIZED, status_code=401, media_type="application/json")
        try:
            body = orjson.loads(await request.body())  # the mock's JSON parser
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            return Response(NOT_JSON, status_code=400, media_type="application/json")
        if not any(key in body for key in MEMBER_KEYS):
            return Response(NO_MEMBER, status_code=400, media_type="application/json")
        return Response(answer, media_type="application/json")

    return endpoint


def create_baseline(bodies: dict[str, bytes], api_key: str, posts: dict[str, bytes] | None = None) -> Starlette:
    """One GET route per name of `bodies` and one POST route per name of `posts`, each answering its bytes."""
    routes = [Route(baseline_path(name), _endpoint(body, api_key), methods=["GET"]) for name, body in bodies.items()]
    routes += [Route(baseline_path(name), _post_endpoint(answer, api_key), methods=["POST"])
               for name, answer in (posts or {}).items()]
    return Starlette(routes=routes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, required=True, help="JSON object: name -> body text")
    parser.add_argument("--posts", type=Path, help="JSON object: name -> answer text of a POST route")
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    bodies = {name: text.encode() for name, text in json.loads(args.bodies.read_text()).items()}
    posts = {name: text.encode() for name, text in json.loads(args.posts.read_text()).items()} if args.posts else {}
    app = create_baseline(bodies, args.api_key, posts)
    # The mock's socket and options, as `brevo-loyalty-mock serve --no-access-log` has them.
    sock = bind_socket("127.0.0.1", args.port)
    config = uvicorn.Config(app, **uvicorn_options(Settings(access_log=False)))
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
