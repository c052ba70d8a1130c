"""The console script, in-process (the model is already loaded) and once as a real subprocess."""

import json
import os
import subprocess
import sys

import pytest

from assistant.cli import main


@pytest.fixture
def cli_env(bot, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(bot.settings.data_dir))
    return bot


def test_ask_prints_answer_and_numbered_sources(cli_env, capsys):
    assert main(["ask", "How much has trade grown since 1997?"]) == 0
    out = capsys.readouterr().out
    assert "twentyfold" in out and "[1] paragraph 5:" in out


def test_ask_refusal_is_labelled(cli_env, capsys):
    assert main(["ask", "What is the exact date of the summit?"]) == 0
    out = capsys.readouterr().out
    assert "(not in the article)" in out and "does not say" in out


def test_ask_json_is_the_full_answer(cli_env, capsys):
    assert main(["ask", "--json", "How many people attended the business forum?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "answer" and data["citations"][0]["paragraph"] == 10


def test_empty_question_exits_2_with_a_message(cli_env, capsys):
    assert main(["ask", " "]) == 2
    assert "Please type a question" in capsys.readouterr().err


def test_index_reports_reuse(cli_env, capsys):
    assert main(["index"]) == 0
    assert "reused index" in capsys.readouterr().out


def test_sources_names_the_index_after_whose_documents_it_holds(cli_env, tmp_path, capsys):
    assert main(["sources", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["collection"].startswith("summit-")
    own = tmp_path / "notes"
    own.mkdir()
    (own / "harvest.txt").write_text("The rice harvest in Battambang rose by a tenth this year.\n", encoding="utf-8")
    assert main(["--corpus-dir", str(own), "--data-dir", str(tmp_path / "data"), "sources"]) == 0
    listed = capsys.readouterr().out
    assert "1 indexed document(s) in documents-" in listed and "summit" not in listed


def test_missing_corpus_exits_2(cli_env, tmp_path, capsys):
    assert main(["--corpus-dir", str(tmp_path / "none"), "index"]) == 2
    assert "corpus directory not found" in capsys.readouterr().err


def test_bad_setting_exits_2(cli_env, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_PORT", "-5")
    assert main(["index"]) == 2
    assert "invalid configuration" in capsys.readouterr().err


def test_console_script_runs_as_a_process(bot):
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(bot.settings.data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "Who did Yoon Suk Yeol meet in Seoul?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Hun Manet" in done.stdout


def test_chat_says_ready_only_once_the_page_answers(bot, tmp_path):
    # A newcomer opens the link the moment "Ready" appears: the page must already be served there.
    import httpx

    from assistant.servers import free_port

    port = free_port()
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(bot.settings.data_dir)}
    command = [sys.executable, "-m", "assistant.cli", "chat", "--port", str(port)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True
    )
    try:
        for line in process.stderr:  # the first line that says where to go
            if line.startswith("Ready in"):
                break
        else:
            raise AssertionError(f"chat exited with {process.wait()} before it was ready")
        url = line.split("Open ", 1)[1].strip()
        assert url.startswith(f"http://127.0.0.1:{port}")
        assert httpx.get(url, timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
