"""A Loyalty webhook receiver, standard library only: it logs each event and welcomes members to Gold.

Point the mock at it and drive a purchase:

    python examples/webhooks/receiver.py --port 9000                          # one terminal
    make run ARGS='--fixture widget-member --webhook http://127.0.0.1:9000/hooks'
    python examples/python/purchase_flow.py                                    # a third one

and it prints, among the other events, ``Welcome to Gold, contact 67890!`` when the second order
lifts the member from Silver to Gold. It emails nobody: replace `welcome` with your own action.

What a real handler must do, and this one does: answer 2xx quickly (Brevo retries a timeout or a
429 at +10 min, +1 h, +2 h and +8 h, and drops the event on any other error), and treat a second
delivery of the same `event_id` as already done (a retry after a lost answer is a duplicate).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SEEN: set[str] = set()  # event ids handled (keep them in your database, with a time to live)


def welcome(contact_id: int, tier: str) -> str:
    return f"Welcome to {tier}, contact {contact_id}!"


def handle(event: dict[str, Any]) -> list[str]:
    """The lines this event logs (its name, and the welcome on an upgrade to Gold)."""
    if event["event_id"] in SEEN:
        return [f"{event['event_name']} {event['event_id']}: already handled"]
    SEEN.add(event["event_id"])
    lines = [f"{event['event_name']} contact={event.get('contact_id')}"]
    tier = event.get("tier") or {}
    if event["event_name"] == "tier_association_updated" and event.get("direction") == "upgrade" \
            and tier.get("name") == "Gold":
        lines.append(welcome(event["contact_id"], tier["name"]))
    return lines


class Hooks(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            event = json.loads(self.rfile.read(length))
            lines = handle(event)
        except (ValueError, KeyError, TypeError):
            self._answer(400)  # not a Loyalty event: Brevo would not retry it either
            return
        for line in lines:
            print(line, flush=True)
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per event is printed by do_POST


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Log Loyalty webhooks; welcome members to Gold.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9000, help="port; 0 picks a free one (default 9000)")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), Hooks)
    print(f"listening on http://{args.host}:{server.server_address[1]}/hooks", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
