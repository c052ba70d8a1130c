"""The warm path: ``assistant ask`` hands its question to a chat page already running with the same settings,
and answers in its own process otherwise. A real page (real pipeline) serves these tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlparse

import pytest

from assistant import Settings, remote
from assistant.servers import free_port

QUESTION = "How much has trade grown since 1997?"
# Run the console script's main() in a fresh process and report which of the engine's modules it loaded.
PROBE = (
    "import json, sys; from assistant.cli import main; code = main(sys.argv[1:]); "
    "print(json.dumps({'code': code, 'engine': 'assistant.core' in sys.modules}), file=sys.stderr)"
)


def _ask(bot, port: int, *args: str) -> tuple[dict, str, dict]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(bot.settings.data_dir), "ASSISTANT_PORT": str(port)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "ask", "--json", *args, QUESTION],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout), done.stderr, probe


def _port(app) -> int:
    return int(urlparse(app.local_url).port)


def test_ask_is_answered_by_the_running_page_without_loading_the_engine(bot, app) -> None:
    answer, stderr, probe = _ask(bot, _port(app))
    assert "answered by the chat page" in stderr
    assert probe == {"code": 0, "engine": False}
    assert answer["text"] == bot.ask(QUESTION).text  # the same answer the engine gives in-process
    assert answer["citations"][0]["paragraph"] >= 1


def test_the_note_that_the_page_answered_follows_the_answer_on_its_own_line(bot, app) -> None:
    # Read as a terminal tool shows the two streams, stdout then stderr, the note once came glued to the
    # answer's last line ("…Hun Manet.answered by the chat page at …"): it is now stdout's last line.
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(bot.settings.data_dir), "ASSISTANT_PORT": str(_port(app))}
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", QUESTION], capture_output=True, text=True, env=env, timeout=300
    )
    lines = done.stdout.splitlines()
    assert (
        done.returncode == 0
        and lines[-1] == f"answered by the chat page at {app.local_url.rstrip('/')} (--local answers here)"
    )
    assert lines[-2].endswith("Cambodia.") and "answered by" not in done.stderr  # where the cited sentence ends


def test_local_flag_answers_in_this_process(bot, app) -> None:
    answer, stderr, probe = _ask(bot, _port(app), "--local")
    assert "answered by the chat page" not in stderr
    assert probe == {"code": 0, "engine": True}
    assert answer["text"] == bot.ask(QUESTION).text


def test_nothing_listening_means_a_local_answer(bot) -> None:
    settings = Settings(data_dir=bot.settings.data_dir, models_dir=bot.settings.models_dir, port=free_port())
    assert remote.ask_page(settings, QUESTION) is None


def test_a_page_with_other_settings_is_not_asked(bot, app) -> None:
    # Same corpus and data, fewer passages: its answers could differ, so the asker answers itself.
    other = Settings(data_dir=bot.settings.data_dir, models_dir=bot.settings.models_dir, port=_port(app), k=2)
    assert remote.ask_page(other, QUESTION) is None
    same = Settings(data_dir=bot.settings.data_dir, models_dir=bot.settings.models_dir, port=_port(app))
    record = remote.ask_page(same, QUESTION)
    assert record is not None and record["answer"]["kind"] == "answer"


@pytest.mark.parametrize("question", ["", "x" * 5000])
def test_a_bad_question_gets_the_pages_message_not_a_fallback(bot, app, question: str) -> None:
    same = Settings(data_dir=bot.settings.data_dir, models_dir=bot.settings.models_dir, port=_port(app))
    record = remote.ask_page(same, question)
    assert record is not None and "error" in record and "answer" not in record


def test_a_page_served_before_its_engine_answers_once_the_engine_is_ready(bot) -> None:
    # `assistant chat` serves the page first and loads the engine next: a question asked in between waits.
    import threading

    from assistant.ui import PendingAssistant, launch

    pending = PendingAssistant(bot.settings, bot.corpus)
    app = launch(pending, port=free_port(), prevent_thread_lock=True, quiet=True)  # type: ignore[arg-type]
    try:
        settings = bot.settings.with_overrides(port=_port(app))
        records: list[dict | None] = []
        asking = threading.Thread(target=lambda: records.append(remote.ask_page(settings, QUESTION)))
        asking.start()
        asking.join(timeout=2)
        assert asking.is_alive()  # waiting for the engine, not refused
        pending.ready(bot)
        asking.join(timeout=60)
        assert records and records[0] is not None
        assert records[0]["answer"]["text"] == bot.ask(QUESTION).text
    finally:
        app.close()
