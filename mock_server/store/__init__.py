"""The in-memory store: frozen entity records (`models`), the `World` holding them, and query helpers."""

from mock_server.store.models import REFERENCE_NOW, REFERENCE_NOW_ISO
from mock_server.store.world import MemberTable, ProgramData, World

__all__ = ["REFERENCE_NOW", "REFERENCE_NOW_ISO", "MemberTable", "ProgramData", "World"]
