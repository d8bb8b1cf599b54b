"""Durable state (``serve --state PATH``): every accepted change in an append-only log, replayed at start-up.

    logfile.py   the file's format: framed, checksummed records; torn tails and corruption told apart
    header.py    the first record: what the changes were made on (seed, fixtures ...), checked at start
    recorder.py  `Recorder` (nothing kept) and `DurableRecorder` (apply, append, fsync, then answer)

docs/durability.md says why a log rather than SQLite, and what a crash can and cannot lose.
"""

from __future__ import annotations

import errno
import fcntl
from collections.abc import Mapping
from typing import TYPE_CHECKING

from mock_server.durable.header import check_header, header_of
from mock_server.durable.logfile import CorruptLog, LogFile, StateError, scan
from mock_server.durable.recorder import ChangeKind, DurableRecorder, Recorder, Replayed, report

if TYPE_CHECKING:
    from mock_server.backend import Backends
    from mock_server.routes import WriteHandler
    from mock_server.settings import Settings

__all__ = ["ChangeKind", "CorruptLog", "DurableRecorder", "Recorder", "Replayed", "StateError", "open_recorder"]


def open_recorder(settings: Settings, backends: Backends, handlers: Mapping[str, WriteHandler],
                  kinds: Mapping[str, ChangeKind] | None = None) -> Recorder:
    """The recorder of a start: with ``--state``, the file opened (or made), checked and replayed into `backends`.

    Raises `StateError` (a one-line message for the command line) when the file cannot be used.
    Call it before any listener is told of events: replayed changes tell none anyway (`Backend.muted`).
    """
    if settings.state is None:
        return Recorder(backends, kinds)
    path = str(settings.state)
    try:
        log = LogFile(path)
    except OSError as error:
        raise StateError(f"cannot open state file {path}: {error.strerror or error}") from None
    try:
        _lock_alone(log)
        header = header_of(settings)
        found = scan(path, log.read(), stop_at_corruption=settings.state_truncate)
        if not found.records:  # a new file, or one cut short before its header was on disk
            log.truncate(0)
            log.start(header)
            found = scan(path, log.read())
        check_header(path, found.records[0].value, header)
        recorder = DurableRecorder(backends, log, handlers, real_clock=settings.clock == "real", kinds=kinds)
        done = recorder.replay(found)
    except BaseException:
        log.close()
        raise
    report(done.summary(path))
    return recorder


def _lock_alone(log: LogFile) -> None:
    """One mock per state file: a second one appending to it would interleave two histories."""
    try:
        fcntl.flock(log.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise StateError(f"state file {log.path} is in use by another running mock") from None
        raise
