"""The serving process's C heap (glibc's malloc): fewer arenas, large blocks mapped on their own, and freed
memory handed back to the system.

Every thread that allocates gets a malloc arena of its own, up to eight per core, and an arena holds on to
memory its thread freed; and glibc raises its threshold for mapping a large block on its own each time such
a block is freed (up to 32 MB), so the next ones land inside the heap and leave holes there when freed. A
chat page runs Gradio's worker threads, onnxruntime's and the index build's, with tensors of every size.
Measured on 1,000-answer soaks (docs/benchmarks.md): page RSS after 1,000 answers 658.6 MiB by default,
610.6 with two arenas, 586.8 with two arenas and a fixed 128 KiB threshold, at the same latency. Elsewhere
than glibc (musl, macOS) these calls do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's mallopt parameter numbers
ARENAS = 2  # one per core of the machines this serves on; more only scatter free memory
MMAP_THRESHOLD = 128 * 1024  # glibc's starting value, kept fixed: a freed tensor's pages leave with it


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def compact() -> bool:
    """Cap the malloc arenas and fix the threshold for mapping large blocks on their own; call before the
    process starts its threads. True when both took."""
    libc = _glibc()
    done = bool(libc and libc.mallopt(M_ARENA_MAX, ARENAS) == 1 and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1)
    log.debug("malloc arenas capped at %d, mmap threshold %d: %s", ARENAS, MMAP_THRESHOLD, done)
    return done


def release() -> bool:
    """Give memory freed so far back to the system (after start-up's temporary sessions and batches)."""
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0))
