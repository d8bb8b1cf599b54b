"""Helpers shared by the backend tests."""

from __future__ import annotations

from mock_server.backend import Backend
from mock_server.store.models import Member


def current_member(backend: Backend, pid: str, contact_id: int) -> Member:
    """The member's record in the backend's world as it is now (after the writes so far)."""
    data = backend.world.program(pid)
    assert data is not None
    member = backend.world.member(data, contact_id)
    assert member is not None
    return member
