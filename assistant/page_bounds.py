"""Bounds on what Gradio keeps per session, so a page that answers for days holds a flat memory.

A call of the page's API (``/gradio_api/call/answer``, ``/respond``) names no session, so Gradio makes one per
call, and gradio 6.31 keeps, per session or per event (measured with tracemalloc over 1,000 ``/answer`` calls):

* ``StateHolder.session_data``: a ``SessionState`` with a copy of every component's config (about 40 KB for
  this page), and ``time_last_used`` beside it; both are evicted least recently used past the launch option
  ``state_session_capacity`` (default 10,000 sessions: about 400 MB). ``launch`` passes ``SESSIONS_KEPT``.
* ``Queue.pending_event_ids_session``: a set of event ids per session. The set is emptied when its event
  completes but removed only when a client disconnects early (``Queue.clean_events``), so it grows by one key
  per call without bound, and ``GET /call/{api}/{event_id}`` scans it on every call. Upstream:
  gradio-app/gradio#13154 (reported), #13156 (cleans it on cancel only), #13515 (added the scan).
  ``bound_queue`` drops the emptied sets.
* ``Queue.event_analytics``: a five-field dict per event for the monitoring page (off here), capped at
  ``GRADIO_ANALYTICS_MAX_EVENTS`` (10,000); ``bound_queue`` caps it at ``EVENTS_KEPT``.
* ``Queue.pending_messages_per_session``: already an LRU of 2,000 message queues; left as it is.
"""

from __future__ import annotations

from typing import Any

# A browser tab's session is touched by each of its events, so only tabs idle while this many other sessions
# (API calls included) came and went lose their state; ChatInterface keeps the conversation in the browser.
SESSIONS_KEPT = 500
EVENTS_KEPT = 1_000
PENDING_SESSIONS_KEPT = 1_000  # past this many keys, the emptied sets are dropped


class PrunedSessions(dict[str, set[str]]):
    """``Queue.pending_event_ids_session`` that drops sessions with no pending event once it holds more than
    ``limit`` keys. Safe because Gradio reads a session's set again only while one of its events is pending,
    and every use runs on the server's one event loop with no ``await`` between a check and its use."""

    def __init__(self, items: dict[str, set[str]], limit: int) -> None:
        super().__init__(items)
        self.limit = limit

    def __setitem__(self, session: str, ids: set[str]) -> None:
        super().__setitem__(session, ids)
        if len(self) > self.limit:
            # The newest key is still empty here: Gradio adds its event id right after making the set.
            for idle in [s for s, pending in self.items() if not pending and s != session]:
                del self[idle]


def bound_queue(queue: Any) -> None:
    """Bound the per-event structures of a Blocks' ``_queue`` (a ``gradio.queueing.Queue``)."""
    queue.pending_event_ids_session = PrunedSessions(queue.pending_event_ids_session, PENDING_SESSIONS_KEPT)
    queue.ANALYTICS_MAX_EVENTS = EVENTS_KEPT
