"""The serving process's C heap (``assistant/heap.py``): its settings take on glibc, and memory freed inside the
heap goes back to the system when released (what the chat page does after start-up)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from assistant import heap

glibc = pytest.mark.skipif(heap._glibc() is None, reason="glibc's malloc only")


@glibc
def test_the_heap_settings_take() -> None:
    assert heap.compact()


@glibc
def test_released_memory_leaves_the_process() -> None:
    # In a fresh process: 100 MB of 2 KB blocks, all freed but the last, which pins the heap's top so glibc
    # cannot shrink it by itself; only the release hands the pages back.
    script = textwrap.dedent(
        """
        from assistant import heap

        def rss():
            return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024

        blocks = [bytearray(2048) for _ in range(50_000)]
        last = blocks[-1]
        del blocks
        before = rss()
        assert heap.release()
        print(before, rss())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    before, after = map(int, out.stdout.split())
    assert before - after >= 50, (before, after)
