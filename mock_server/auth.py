"""The ``api-key`` check: which organisation a key belongs to, or why it is refused.

With ``--world-per-key PREFIX`` any key starting with PREFIX is accepted too, and
reads an organisation of its own (named by `mock_server.keynames.key_organisation`;
docs/isolation.md).
"""

from __future__ import annotations

from mock_server.errors import PermissionDenied, Unauthorized
from mock_server.keynames import key_organisation, masked
from mock_server.settings import Settings

KEY_NAMES_KEPT = 4096  # per-key organisation names remembered (then forgotten all at once and recomputed)


class KeyRing:
    def __init__(self, settings: Settings) -> None:
        self._organisations = {api_key.key: api_key.organisation for api_key in settings.api_keys}
        self._forbidden = frozenset(settings.forbidden_keys)
        self.prefix = settings.world_per_key
        self._per_key: dict[str, str] = {}  # key -> its organisation, so a hash is computed once per key
        self.labels: dict[str, str] = {}  # per-key organisation -> its masked key (for the admin page)

    def accepts(self, key: str) -> bool:
        """Whether the key reads an organisation (no exception: for checks before a request is answered)."""
        if key in self._organisations:
            return True
        return self.prefix is not None and key.startswith(self.prefix) and key not in self._forbidden

    def organisation_of(self, key: str | None) -> str:
        """The organisation whose world the key reads; raises 401 or 403 otherwise.

        A configured key reads its organisation, and a forbidden one is refused, even with the per-key prefix.
        """
        if not key:
            raise Unauthorized("Missing header 'api-key': every Loyalty endpoint needs an API key")
        organisation = self._organisations.get(key)
        if organisation is not None:
            return organisation
        if key in self._forbidden:
            raise PermissionDenied("This API key is valid but has no access to the Loyalty API")
        if self.prefix is not None and key.startswith(self.prefix):
            return self._per_key.get(key) or self._name(key)
        raise Unauthorized("Key not found: the 'api-key' header does not hold a key this server accepts")

    def per_key(self, key: str | None) -> bool:
        """Whether `key` reads a world of its own (a per-key key, not a configured or forbidden one)."""
        return (bool(key) and self.prefix is not None and key not in self._organisations
                and key not in self._forbidden and key.startswith(self.prefix))

    def _name(self, key: str) -> str:
        if len(self._per_key) >= KEY_NAMES_KEPT:  # bounded: a client sending ever-new keys must not grow memory
            self._per_key.clear()
            self.labels.clear()
        organisation = key_organisation(key)
        self._per_key[key] = organisation
        assert self.prefix is not None
        self.labels[organisation] = masked(key, self.prefix)
        return organisation
