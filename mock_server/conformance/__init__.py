"""Conformance tooling: check any server, and any client, against the contract.

- `runner`      schemathesis checks (and stateful runs over the contract's links) against a URL
- `properties`  semantic properties beyond the schema (paging, sorting, filters, consistency), over HTTP
- `discovery`   ids to test with, read from the target itself
- `budget`      request count, pacing and 429 handling, for servers with a quota (the real Brevo)
- `report`      what failed, per operation and property, with a curl that reproduces it
- `proxy`       forward a real client to a real server, checking both against the contract
- `cli`         the `conformance` and `proxy` commands

Everything here needs the `conformance` extra (schemathesis, hypothesis, httpx);
the mock server itself never imports this package.
"""
