"""Server mode end to end: a real ``chroma run`` on loopback, reached only through Settings."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.servers import free_port, serving
from assistant.settings import PROJECT_DIR

CHROMA = Path(sys.executable).with_name("chroma")


def _heartbeat(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as response:
            return "nanosecond heartbeat" in json.loads(response.read())
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if not CHROMA.exists() and not shutil.which("chroma"):
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    command = [
        str(CHROMA if CHROMA.exists() else shutil.which("chroma")),
        "run",
        "--path",
        str(path / "db"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with serving(command, lambda: _heartbeat(port), path / "server.log", "chroma run", timeout=60):
        yield port


def test_server_mode_answers_and_reuses_the_collection(chroma_server, tmp_path):
    data = tmp_path / "data"
    settings = Settings(
        chroma_mode="server", chroma_port=chroma_server, data_dir=data, corpus_dir=PROJECT_DIR / "corpus"
    )
    bot = Assistant(settings)
    assert bot.index.built
    answer = bot.ask("How much has trade grown since 1997?")
    assert answer.kind == "answer" and "twentyfold" in answer.text.lower()
    assert answer.citations and answer.citations[0].paragraph == 5
    # Vectors for reranking come back over HTTP.
    assert bot.index.sentence_vectors(bot.corpus.sentences[:2]).shape == (2, 384)

    again = Assistant(settings)
    assert again.index.built is False and again.index.collection_name == bot.index.collection_name
    assert "twentyfold" in again.ask("How much has trade grown since 1997?").text.lower()
    # Nothing embedded-only happened locally: no lock file, no on-disk Chroma store.
    assert not (data / "chroma").exists() and not (data / "index.lock").exists()


def test_server_mode_builds_incrementally(chroma_server, tmp_path, corpus_copy, monkeypatch):
    settings = Settings(
        chroma_mode="server",
        chroma_port=chroma_server,
        data_dir=tmp_path / "data",
        corpus_dir=corpus_copy,
        collection_prefix="incr",
    )
    first = Assistant(settings)
    (corpus_copy / "busan.md").write_text(
        "# Busan\n\nThe delegation also visited Busan. It toured the container port.\n"
    )
    encoded: list[str] = []
    real = first.embeddings.encode
    monkeypatch.setattr(first.embeddings, "encode", lambda texts, **kw: (encoded.extend(texts), real(texts, **kw))[1])
    second = Assistant(settings)
    assert second.index.built and second.index.stats.reused == first.index.stats.records
    assert sorted(encoded) == sorted(
        {
            "The delegation also visited Busan.",
            "It toured the container port.",
            "The delegation also visited Busan. It toured the container port.",
        }
    )
    names = [c.name for c in second.index.store._client.list_collections()]
    assert [n for n in names if n.startswith("incr-")] == [second.index.collection_name]
