"""A webhook receiver for the benchmark: answers 200 at once to any POST (and to GET, for readiness).

A bare ASGI app under uvicorn with the mock's own options, so that the receiver is never what limits
the deliveries the webhook row measures.

    python -m bench.webhook_receiver --port 9000
"""

from __future__ import annotations

import argparse
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while True:  # drain the body
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
