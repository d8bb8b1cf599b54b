"""Durable state (``serve --state PATH``): every accepted change in an append-only log, replayed at start-up.

    logfile.py   the file's format: framed, checksummed records; torn tails and corruption told apart
    header.py    the first record: what the changes were made on (seed, fixtures ...), checked at start
    recorder.py  `Recorder` (nothing kept) and `DurableRecorder` (apply, append, fsync, then answer)
    shared.py    `SharedRecorder`: the file shared by the workers of `serve --workers N`

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
from mock_server.durable.shared import SharedRecorder

if TYPE_CHECKING:
    from mock_server.backend import Backends
    from mock_server.routes import WriteHandler
    from mock_server.settings import Settings

__all__ = ["ChangeKind", "CorruptLog", "DurableRecorder", "Recorder", "Replayed", "StateError", "hold_alone",
           "open_recorder"]


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
    if settings.shared_dir is not None:
        return _open_shared(settings, backends, handlers, kinds, log)
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


def _open_shared(settings: Settings, backends: Backends, handlers: Mapping[str, WriteHandler],
                 kinds: Mapping[str, ChangeKind] | None, log: LogFile) -> Recorder:
    """A worker of `serve --workers N`: the parent made the file (header, torn tail cut) and holds it alone."""
    assert settings.shared_dir is not None
    try:
        recorder = SharedRecorder(backends, log, handlers, real_clock=settings.clock == "real", kinds=kinds,
                                  shared_dir=settings.shared_dir)
        found = recorder.scan()
        if not found.records:
            raise StateError(f"state file {log.path} has no header: the workers' parent should have written it")
        check_header(log.path, found.records[0].value, header_of(settings))
        recorder.start(found)
    except BaseException:
        log.close()
        raise
    return recorder


def hold_alone(path: str) -> LogFile:
    """The lock `serve --workers N` holds on its state file for the workers' lifetime (they take none on it)."""
    log = LogFile(path)
    try:
        _lock_alone(log)
    except BaseException:
        log.close()
        raise
    return log


def _lock_alone(log: LogFile) -> None:
    """One mock per state file: a second one appending to it would interleave two histories."""
    try:
        fcntl.flock(log.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise StateError(f"state file {log.path} is in use by another running mock") from None
        raise
