"""The durable state file: an append-only log of framed, checksummed JSON records.

    file    = MAGIC record*
    record  = length (u32, little-endian) crc32 (u32) payload (`length` bytes of JSON)

The first record is the header (what the log was written with: seed, contacts, fixtures ...).
Every later record is one accepted change. A record is written with one `write()` and made
durable with `fdatasync()` before the change it describes is acknowledged.

Reading tells three endings apart (docs/durability.md):

- clean: the file ends on a record boundary;
- torn tail: the last record is incomplete, or complete in length but failing its checksum and
  ending exactly at the end of the file. Only the last append can be cut short by a crash, and a
  write is acknowledged only after its record is durable, so what is dropped was never acknowledged;
- corrupt: anything else (wrong magic, a bad checksum with records after it, an impossible length).
  Never skipped: the reader raises `CorruptLog` with the offset.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

MAGIC = b"BLMSTATE\n"  # brevo-loyalty-mock state, then a newline so `head -c` shows something readable
FRAME = struct.Struct("<II")
# A record holds one request (bodies are at most 1 MiB, docs/limits.md) and its parameters: a length
# beyond this cannot have been written by the mock, so it is corruption, never a torn tail.
MAX_RECORD_BYTES = 8 * 1024 * 1024


class StateError(Exception):
    """A state file the mock will not start from; the message says why and what to do."""


class CorruptLog(StateError):
    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(
            f"state file {path} is corrupt at byte {offset}: {reason}. Nothing was changed; move the file away "
            "to start afresh, or start with --state-truncate to drop everything from that byte on"
        )
        self.offset = offset


@dataclass(frozen=True)
class Record:
    offset: int  # where its frame starts in the file
    end: int  # where the next one starts
    value: dict[str, Any]


@dataclass
class Scan:
    """What a read of the whole file found."""

    records: list[Record]
    end: int  # the end of the last complete record: where the next append goes
    dropped_bytes: int = 0  # a torn tail (see the module's docstring)
    corrupt: CorruptLog | None = None  # set only when asked to stop, not raise, at corruption


def frame(value: dict[str, Any]) -> bytes:
    payload = orjson.dumps(value)
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def scan(path: str, data: bytes, *, stop_at_corruption: bool = False) -> Scan:
    """Every complete record of a state file's bytes; raises `CorruptLog` unless `stop_at_corruption`."""
    if not data.startswith(MAGIC):
        if len(data) < len(MAGIC) and MAGIC.startswith(data):  # a crash while the file was being created
            return Scan([], 0, len(data))
        raise CorruptLog(path, 0, "it does not start with the state file's magic bytes (not a mock state file?)")
    records: list[Record] = []
    offset = len(MAGIC)
    size = len(data)
    while offset < size:
        problem = None
        if size - offset < FRAME.size:
            return Scan(records, offset, size - offset)  # torn inside the frame
        length, crc = FRAME.unpack_from(data, offset)
        start, end = offset + FRAME.size, offset + FRAME.size + length
        if length > MAX_RECORD_BYTES:
            problem = f"a record length of {length} bytes, more than the mock ever writes"
        elif end > size:
            return Scan(records, offset, size - offset)  # torn inside the payload
        elif zlib.crc32(data[start:end]) != crc:
            if end == size:
                return Scan(records, offset, size - offset)  # the last append, never fully on disk
            problem = "a record whose checksum does not match, with records after it"
        else:
            try:
                value = orjson.loads(data[start:end])
            except orjson.JSONDecodeError:
                value = None
            if not isinstance(value, dict):
                problem = "a record with a good checksum that is not a JSON object"
            else:
                records.append(Record(offset, end, value))
                offset = end
                continue
        error = CorruptLog(path, offset, problem)
        if stop_at_corruption:
            return Scan(records, offset, 0, error)
        raise error
    return Scan(records, offset)


class LogFile:
    """A state file open for appending; `append` returns once the record is on disk."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)

    def read(self) -> bytes:
        size = os.fstat(self.fd).st_size
        return os.pread(self.fd, size, 0)

    def read_from(self, offset: int) -> bytes:
        size = os.fstat(self.fd).st_size
        return os.pread(self.fd, size - offset, offset) if size > offset else b""

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)
        os.fsync(self.fd)

    def start(self, header: dict[str, Any]) -> None:
        """Write the magic and the header of a new (empty) log."""
        self._write(MAGIC + frame(header))

    def append(self, value: dict[str, Any]) -> int:
        """Append one record, durably; returns the size of the file after it."""
        return self._write(frame(value))

    def _write(self, data: bytes) -> int:
        written = os.write(self.fd, data)
        while written < len(data):  # a regular file takes it whole, barring a full disk
            written += os.write(self.fd, data[written:])
        os.fdatasync(self.fd) if hasattr(os, "fdatasync") else os.fsync(self.fd)
        return self.size()

    def close(self) -> None:
        os.close(self.fd)


def records_in(path: str, data: bytes, base: int) -> Iterator[Record]:
    """The complete records of bytes read from `base` on (another process's appends); stops at a partial one."""
    offset = 0
    while len(data) - offset >= FRAME.size:
        length, crc = FRAME.unpack_from(data, offset)
        end = offset + FRAME.size + length
        if end > len(data):
            return
        payload = data[offset + FRAME.size:end]
        if zlib.crc32(payload) != crc:
            raise CorruptLog(path, base + offset, "a record appended by another worker fails its checksum")
        yield Record(base + offset, base + end, orjson.loads(payload))
        offset = end
