"""The warm path: ``assistant ask`` hands its question to a chat page that is already running, instead of
loading the answer engine in a new process.

The page serves one question per call at its ``/answer`` API (``ui.ChatPage.answer_record``): the answer as
``Answer.to_dict()``, plus the settings it answers with. The answer is used only when those settings are the
asker's own (same corpus, data dir, retrieval and backend; where it listens does not matter), so the warm path
never changes an answer. Nothing listening, another program on the port, a page with a password, a page that
stops mid-answer: each means ``None``, and the caller answers locally. Only the standard library is imported
here: this runs before anything heavy.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

SERVICE = "summit-assistant"
API = "answer"  # the page's endpoint: /gradio_api/call/answer
CONNECT_TIMEOUT = 0.2  # a page on this machine accepts at once; nothing listening is refused at once
# Serving details: a page elsewhere on the same machine answers the same.
SERVING_FIELDS = frozenset({"host", "port", "share", "concurrency", "auth"})


def signature(settings: Any) -> dict[str, Any]:
    """The settings an answer depends on, as JSON-safe values (``settings`` is a ``Settings``)."""
    dumped: dict[str, Any] = settings.model_dump(mode="json")
    return {key: value for key, value in dumped.items() if key not in SERVING_FIELDS}


def _address(settings: Any) -> tuple[str, int]:
    """Where a page of ``settings`` listens, as this machine reaches it (a page bound to every interface
    answers on loopback)."""
    return (settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"), settings.port


def page_url(settings: Any) -> str:
    host, port = _address(settings)
    return f"http://{host}:{port}"


def ask_page(settings: Any, question: str, timeout: float = 60.0) -> dict[str, Any] | None:
    """The running page's record for ``question`` (``{"answer": …}`` or ``{"error": …}``), or None when no
    page of this assistant with these settings answers."""
    base = page_url(settings)
    try:
        socket.create_connection(_address(settings), timeout=CONNECT_TIMEOUT).close()
    except OSError:
        return None
    try:
        request = urllib.request.Request(
            f"{base}/gradio_api/call/{API}",
            data=json.dumps({"data": [question]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            event = json.load(response)["event_id"]
        with urllib.request.urlopen(f"{base}/gradio_api/call/{API}/{event}", timeout=timeout) as response:
            stream = response.read().decode("utf-8")
    except (OSError, ValueError, KeyError, TypeError, urllib.error.HTTPError):
        return None
    record = _completed(stream)
    if not record or record.get("service") != SERVICE or record.get("settings") != signature(settings):
        return None
    if "answer" not in record and "error" not in record:
        return None  # the page failed on this question: answer it here
    return record


def completed_data(stream: str) -> Any:
    """The result of Gradio's server-sent events: the JSON of the ``data:`` line after ``event: complete``
    (None when there is none)."""
    lines = stream.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == "event: complete" and lines[i + 1].startswith("data:"):
            try:
                return json.loads(lines[i + 1].removeprefix("data:"))
            except ValueError:
                return None
    return None


def _completed(stream: str) -> dict[str, Any] | None:
    """The record the ``/answer`` API completed with, if the stream holds one."""
    data = completed_data(stream)
    record = data[0] if isinstance(data, list) and data else None
    return record if isinstance(record, dict) else None
