"""A `serve --workers N` worker ends when the process that started it is gone.

The parent holds the state file's lock and owns the shared directory. Killed with SIGKILL, it cannot stop
its workers. Without this guard they would go on answering on the port, and they would go on writing to a
state file whose lock is released: a second mock started on that file would write to it too, and one of
the two would lose acknowledged writes on the next replay. So each worker asks the kernel for SIGTERM when
its parent dies (Linux), or watches its parent's pid elsewhere. SIGTERM is uvicorn's graceful stop, and
every acknowledged write is already on disk.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PARENT_VARIABLE = "BREVO_MOCK_WORKER_PARENT"  # set by `serve --workers N` for its workers: the parent's pid
_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def end_with_parent() -> None:
    """In a worker: SIGTERM when the parent named by `PARENT_VARIABLE` is gone (now, or later)."""
    raw = os.environ.get(PARENT_VARIABLE)
    if not raw:
        return  # not a worker of `serve --workers N`
    parent = int(raw)
    if not _ask_the_kernel():
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="brevo-mock-parent-watch").start()
    if os.getppid() != parent:  # it died before the kernel was asked: nothing would tell us
        os.kill(os.getpid(), signal.SIGTERM)


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _ask_the_kernel() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
