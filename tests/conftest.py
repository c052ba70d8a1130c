"""Shared fixtures: every test's state lives in a tmp dir; one real Assistant serves the whole session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.settings import PROJECT_DIR

CORPUS = PROJECT_DIR / "corpus"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "models"


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, models_dir, monkeypatch):
    # Nothing a test does may touch the developer's .data/ directory. The exported ONNX model is shared by
    # the whole session (and its subprocesses): exported once, however many data dirs the tests make.
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path_factory.getbasetemp() / "default-data"))
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(models_dir))


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def bot(session_data_dir, models_dir) -> Assistant:
    """The real pipeline: real MiniLM model (on onnxruntime), real embedded Chroma in a tmp dir, default settings."""
    return Assistant(Settings(data_dir=session_data_dir, corpus_dir=CORPUS, models_dir=models_dir))


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private, writable copy of the corpus for tests that damage it."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="module")
def app(bot):
    """The chat page of ``bot`` served on a free loopback port, one server per test module."""
    from assistant.servers import free_port
    from assistant.ui import launch  # Gradio loads only for the modules that serve the page

    served = launch(bot, port=free_port(), prevent_thread_lock=True, quiet=True)
    yield served
    served.close()
