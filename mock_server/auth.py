"""The ``api-key`` check: which organisation a key belongs to, or why it is refused."""

from __future__ import annotations

from mock_server.errors import PermissionDenied, Unauthorized
from mock_server.settings import Settings


class KeyRing:
    def __init__(self, settings: Settings) -> None:
        self._organisations = {api_key.key: api_key.organisation for api_key in settings.api_keys}
        self._forbidden = frozenset(settings.forbidden_keys)

    def accepts(self, key: str) -> bool:
        """Whether the key reads an organisation (no exception: for checks before a request is answered)."""
        return key in self._organisations

    def organisation_of(self, key: str | None) -> str:
        """The organisation whose world the key reads; raises 401 or 403 otherwise."""
        if not key:
            raise Unauthorized("Missing header 'api-key': every Loyalty endpoint needs an API key")
        organisation = self._organisations.get(key)
        if organisation is not None:
            return organisation
        if key in self._forbidden:
            raise PermissionDenied("This API key is valid but has no access to the Loyalty API")
        raise Unauthorized("Key not found: the 'api-key' header does not hold a key this server accepts")
