"""What a handler is: the signatures of read and write handlers (described in mock_server/routes/__init__.py).

Its own module so that the handler modules can name them while the package collects those modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server.backend import Backend
    from mock_server.store.world import World

Params = Mapping[str, Any]
Handler = Callable[["World", Params], Any]
WriteHandler = Callable[["Backend", Params, Any], Any]
