"""Gradio's per-session records stay bounded on a served page: every API call is a session of its own."""

from __future__ import annotations

import httpx

from assistant import page_bounds, soak
from assistant.page_bounds import PrunedSessions
from assistant.servers import free_port
from assistant.ui import launch

QUESTIONS = ["How much has trade grown since 1997?", "Who did Yoon Suk Yeol meet in Seoul?"]


def test_pruned_sessions_drop_only_sessions_with_nothing_pending():
    sessions = PrunedSessions({}, limit=3)
    sessions["busy"] = {"event-1"}
    for n in range(10):
        sessions[f"done-{n}"] = set()  # a session as Gradio makes it; as it leaves a completed call's, too
        assert len(sessions) <= 3
    assert "busy" in sessions and "done-9" in sessions  # a pending event's session, and the newest, are kept


def test_a_served_page_keeps_no_more_sessions_than_its_bounds(bot, monkeypatch):
    bound = 5
    for name in ("SESSIONS_KEPT", "EVENTS_KEPT", "PENDING_SESSIONS_KEPT"):
        monkeypatch.setattr(page_bounds, name, bound)
    app = launch(bot, port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        with httpx.Client(base_url=app.local_url.rstrip("/"), timeout=60) as client:
            problems = [soak.ask(client, soak.ENDPOINTS[i % 2], QUESTIONS[i % 2]) for i in range(6 * bound)]
        queue, states = app._queue, app.state_holder
        sizes = {
            "session_data": len(states.session_data),
            "time_last_used": len(states.time_last_used),
            "event_analytics": len(queue.event_analytics),
            "pending_event_ids_session": len(queue.pending_event_ids_session),
        }
    finally:
        app.close()
    assert problems == [None] * (6 * bound)
    assert all(0 < size <= bound for size in sizes.values()), sizes
