"""Real servers on loopback for tests and eval scripts: a free port, and a process that is always stopped."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path


class ServerFailed(RuntimeError):
    """The server exited or did not become ready; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(
    command: list[str], ready: Callable[[], bool], log_path: Path, name: str, timeout: float = 120.0, env: dict | None = None
) -> Iterator[subprocess.Popen]:
    """Start ``command`` (output to ``log_path``), wait until ``ready()``, yield the process; always stop it."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                raise ServerFailed(f"{name} exited with {process.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise ServerFailed(f"{name} not ready in {timeout:.0f} s:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def llama_server_command(model_path: str, port: int) -> list[str]:
    import sys

    return [
        sys.executable, "-m", "llama_cpp.server", "--model", model_path, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", "2", "--chat_format", "chatml", "--model_alias", "smollm2",
    ]


def answers(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` returns 200."""
    import httpx

    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return check
