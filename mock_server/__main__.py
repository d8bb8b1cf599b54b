"""`python -m mock_server` is the `brevo-loyalty-mock` command."""

from mock_server.cli import main

raise SystemExit(main())
