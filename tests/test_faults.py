"""Faults around the assistant: a damaged corpus, an index that disappears or breaks under a running process,
read-only and full disks, racing processes, bad configuration and an unreachable or hung Chroma server.

What must hold in every case: a clear message (``IndexUnavailable`` / CLI exit 2 with ``error:`` or
``invalid configuration:``), never a traceback, and never a half-built index in use — a previous complete
collection stays usable until a new one is complete.

Tests that need to mount file systems (read-only bind, tiny tmpfs) run as root where ``mount`` works and
skip elsewhere; the chmod variant runs only for non-root users (root ignores permission bits).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import chromadb
import pytest
from chromadb.api.models.Collection import Collection

from assistant import Assistant, IndexUnavailable, Settings
from assistant import index as index_module
from assistant.cli import main
from assistant.corpus import load_corpus
from assistant.index import open_index
from assistant.servers import free_port
from assistant.settings import PROJECT_DIR
from assistant.ui import ERROR_REPLY, ChatPage
from tests.conftest import CORPUS

TRADE = "How much has trade grown since 1997?"
ARTICLE = "korea-cambodia-summit"
CLI = [sys.executable, "-m", "assistant.cli"]


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_DIR,
        env={**os.environ, **(env or {})},
    )


def stored(index_dir: Path) -> list[tuple[str, dict, int]]:
    """(name, metadata, count) of every collection on disk, read by a fresh client (not a cached one)."""
    index_module._forget_clients()
    client = chromadb.PersistentClient(
        path=str(index_dir), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    found = sorted((c.name, dict(c.metadata or {}), c.count()) for c in client.list_collections())
    index_module._forget_clients()
    return found


def assert_one_complete_collection(index_dir: Path, records: int) -> str:
    """Exactly one collection, complete, holding every record; no temporary (half-built) one left."""
    found = stored(index_dir)
    assert len(found) == 1, found
    name, meta, count = found[0]
    assert "-tmp-" not in name and meta.get("complete") is True and meta.get("records") == records == count, found[0]
    return name


def flat(text: str) -> str:
    """``text`` with rich's line wrapping undone."""
    return " ".join(text.split())


def records_of(bot: Assistant) -> int:
    return bot.index.chunk_count + len(bot.corpus.sentences)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS)


# -- the corpus ------------------------------------------------------------------------------------------


def test_bad_files_are_skipped_with_a_warning_and_the_article_still_answers(corpus_copy, tmp_path, caplog, capsys):
    (corpus_copy / "empty.md").write_text("")
    (corpus_copy / "latin1.txt").write_bytes("Caf\xe9 society met in Seoul.".encode("latin-1"))
    with open(corpus_copy / "huge.txt", "wb") as f:  # 50 MB, sparse: instant to make, over the 20 MB limit
        f.truncate(50 * 1024 * 1024)
    with open(corpus_copy / "preallocated.txt", "wb") as f:  # 1 MB of NUL bytes: valid UTF-8, not an article
        f.truncate(1024 * 1024)
    (corpus_copy / "zz-duplicate.txt").write_bytes((corpus_copy / f"{ARTICLE}.txt").read_bytes())
    (corpus_copy / "folder.md").mkdir()  # a directory with an article's name is not a file to read
    expected = {
        "empty.md": "empty",
        "latin1.txt": "not valid UTF-8",
        "huge.txt": "larger than 20 MB (50 MB)",
        "preallocated.txt": "binary (NUL byte at 0)",
        "zz-duplicate.txt": f"duplicate of {ARTICLE}.txt",
    }
    with caplog.at_level(logging.WARNING, logger="assistant.corpus"):
        bot = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy))
    warned = [r.getMessage() for r in caplog.records if r.name == "assistant.corpus"]
    for name, reason in expected.items():
        assert any(name in w and reason in w for w in warned), (name, warned)
        assert any(s.startswith(f"{name}: {reason}") for s in bot.corpus.skipped), bot.corpus.skipped
    assert [d.doc_id for d in bot.corpus.documents] == [ARTICLE]
    answer = bot.ask(TRADE)
    assert "twentyfold" in answer.text.lower() and {c.doc_id for c in answer.citations} == {ARTICLE}
    # The CLI names every skipped file as a warning too, and still builds the index.
    assert main(["--data-dir", str(tmp_path / "data"), "--corpus-dir", str(corpus_copy), "index"]) == 0
    err = flat(capsys.readouterr().err)
    for name, reason in expected.items():
        assert f"warning: skipped {name}: {reason}" in err


# -- the index under a running assistant -----------------------------------------------------------------


def test_index_deleted_while_running_then_a_new_process_rebuilds(settings):
    running = Assistant(settings)
    shutil.rmtree(settings.index_dir)
    # The running process keeps answering (chromadb still holds the open files) or says it failed; no traceback.
    reply = list(ChatPage(running).respond(TRADE, []))[-1]
    assert "twentyfold" in reply.lower() or reply == ERROR_REPLY
    done = run_cli("--data-dir", str(settings.data_dir), "--corpus-dir", str(CORPUS), "index")
    assert done.returncode == 0, done.stderr
    assert "built index" in done.stdout and "Traceback" not in done.stderr
    assert_one_complete_collection(settings.index_dir, records_of(running))


def test_index_deleted_while_running_then_a_new_assistant_rebuilds(settings):
    running = Assistant(settings)
    shutil.rmtree(settings.index_dir)
    fresh = Assistant(settings)
    assert "twentyfold" in fresh.ask(TRADE).text.lower()
    assert fresh.index.built, "the deleted index must be rebuilt, not served from the deleted files"
    assert (settings.index_dir / "chroma.sqlite3").exists()
    del running


def test_index_corrupted_while_running_is_quarantined_and_rebuilt(settings, caplog):
    running = Assistant(settings)
    for path in settings.index_dir.rglob("*"):
        if path.is_file():
            path.write_bytes(b"this is not a database" * 64)
    # The running page says something went wrong (the traceback goes to the log, not the user)…
    with caplog.at_level(logging.ERROR, logger="assistant.ui"):
        reply = list(ChatPage(running).respond(TRADE, []))[-1]
    assert reply == ERROR_REPLY or "twentyfold" in reply.lower()
    assert "Traceback" not in reply
    # …and the next assistant moves the damaged store aside, rebuilds it completely and answers.
    fresh = Assistant(settings)
    assert fresh.index.built and any("moved to chroma.corrupt-" in n for n in fresh.index.notes)
    assert "twentyfold" in fresh.ask(TRADE).text.lower()
    assert list(settings.data_dir.glob("chroma.corrupt-*")), "the damaged store is kept for inspection"
    assert_one_complete_collection(settings.index_dir, records_of(fresh))


_KILLED_BUILD = """
import os, sys
from chromadb.api.models.Collection import Collection
from assistant import Settings
from assistant.core import shared_embeddings
from assistant.corpus import load_corpus
from assistant.index import open_index

real_add = Collection.add
def add(self, *args, **kwargs):
    real_add(self, *args, **kwargs)
    os._exit(137)  # the power goes out after the first batch is stored
Collection.add = add
s = Settings(data_dir=sys.argv[1], corpus_dir=sys.argv[2])
open_index(load_corpus(s.corpus_dir), shared_embeddings(s), s, rebuild=True)
"""


def test_build_killed_midway_leaves_nothing_half_built_in_use(bot, settings):
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_BUILD, str(settings.data_dir), str(CORPUS)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_DIR,
    )
    assert killed.returncode == 137, killed.stderr
    assert [name for name, _, _ in stored(settings.index_dir)] != [], "the killed build left its temporary collection"
    assert all("-tmp-" in name for name, _, _ in stored(settings.index_dir))
    # The lock died with the process; the next open builds a complete index and drops the leftover.
    started = time.monotonic()
    ix = open_index(load_corpus(CORPUS), bot.embeddings, settings)
    assert ix.built and time.monotonic() - started < 60
    assert_one_complete_collection(settings.index_dir, records_of(bot))


# -- read-only and full disks ----------------------------------------------------------------------------


@contextlib.contextmanager
def mounted(*args: str, target: Path):
    """``mount ARGS target`` for the duration (root only); skips the test where mounting is not allowed."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root and mount(8) to make a read-only or tiny file system")
    done = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"mount is not permitted here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        index_module._forget_clients()  # chromadb keeps the store's files open
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@contextlib.contextmanager
def read_only(path: Path):
    with mounted("--bind", str(path), target=path):
        done = subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot remount read-only here: {done.stderr.strip()}")
        yield path


def test_data_dir_on_a_read_only_file_system(bot, tmp_path, capsys):
    base = tmp_path / "disk"
    data = base / "data"
    base.mkdir()
    settings = Settings(data_dir=data, corpus_dir=CORPUS)
    open_index(bot.corpus, bot.embeddings, settings)
    index_module._forget_clients()
    with read_only(base):
        with pytest.raises(IndexUnavailable, match=rf"cannot use the data directory {data}: Read-only file system"):
            open_index(bot.corpus, bot.embeddings, settings)
        with pytest.raises(IndexUnavailable, match="Read-only file system"):  # not even creatable
            open_index(bot.corpus, bot.embeddings, settings.with_overrides(data_dir=base / "fresh"))
        assert main(["--data-dir", str(data), "--corpus-dir", str(CORPUS), "index"]) == 2
        err = flat(capsys.readouterr().err)
        assert f"error: cannot use the data directory {data}: Read-only file system" in err and "Traceback" not in err
    # Nothing was moved aside or changed: once writable again, the same index is reused.
    assert not list(data.glob("chroma.corrupt-*"))
    assert not open_index(bot.corpus, bot.embeddings, settings).built


def test_data_dir_made_read_only_with_chmod(bot, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits; test_data_dir_on_a_read_only_file_system covers read-only data")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS)
    open_index(bot.corpus, bot.embeddings, settings)
    index_module._forget_clients()
    paths = [settings.data_dir, *settings.data_dir.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    try:
        for p in paths:
            p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        with pytest.raises(IndexUnavailable, match=r"(Permission denied|not writable)"):
            open_index(bot.corpus, bot.embeddings, settings)
    finally:
        for p in reversed(paths):
            p.chmod(modes[p])


def test_a_file_in_the_way_of_the_index_directory(bot, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS)
    settings.data_dir.mkdir()
    settings.index_dir.write_text("not a directory")
    with pytest.raises(IndexUnavailable, match=rf"cannot create the index directory {settings.index_dir}"):
        open_index(bot.corpus, bot.embeddings, settings)
    assert settings.index_dir.read_text() == "not a directory"  # left alone


def _fail_tmp_adds(monkeypatch, error: BaseException) -> None:
    """Every ``add`` into a temporary (being-built) collection fails with ``error``."""
    real_add = Collection.add

    def add(self, *args, **kwargs):
        if "-tmp-" in self.name:
            raise error
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "add", add)


def test_disk_full_during_a_rebuild_keeps_the_previous_index(bot, settings, monkeypatch, capsys):
    first = open_index(bot.corpus, bot.embeddings, settings)
    _fail_tmp_adds(monkeypatch, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    with pytest.raises(
        IndexUnavailable, match=r"building the index failed: OSError: \[Errno 28\] No space left on device"
    ):
        open_index(bot.corpus, bot.embeddings, settings, rebuild=True)
    assert main(["--data-dir", str(settings.data_dir), "--corpus-dir", str(CORPUS), "index", "--rebuild"]) == 2
    err = flat(capsys.readouterr().err)
    assert "error: building the index failed: OSError: [Errno 28] No space left on device" in err
    assert "Traceback" not in err
    monkeypatch.undo()
    # The previous collection is still complete, alone (no half-built one) and reused as it is.
    assert assert_one_complete_collection(settings.index_dir, records_of(bot)) == first.collection_name
    again = open_index(bot.corpus, bot.embeddings, settings)
    assert not again.built and again.store.similarity_search("trade", k=1)
    assert not list(settings.data_dir.glob("chroma.corrupt-*"))


def assert_full_disk_keeps_previous(bot, settings, first, error: str, cleanup) -> None:
    """A rebuild on a full disk fails with ``error`` (then ``cleanup`` frees the disk), the previous index
    stays the one in use, and nothing is quarantined as corrupt."""
    try:
        with pytest.raises(IndexUnavailable, match=error):
            open_index(bot.corpus, bot.embeddings, settings, rebuild=True)
    finally:
        cleanup()
    assert not list(settings.data_dir.glob("chroma.corrupt-*")), "a full disk is not a corrupt index"
    assert assert_one_complete_collection(settings.index_dir, records_of(bot)) == first.collection_name


def test_sqlite_disk_full_during_a_rebuild_keeps_the_previous_index(bot, settings, monkeypatch):
    first = open_index(bot.corpus, bot.embeddings, settings)
    _fail_tmp_adds(
        monkeypatch,
        chromadb.errors.InternalError(
            "Database error: error returned from database: (code: 13) database or disk is full"
        ),
    )
    assert_full_disk_keeps_previous(bot, settings, first, "disk is full", monkeypatch.undo)


def test_really_full_disk_during_a_rebuild_keeps_the_previous_index(bot, tmp_path):
    disk = tmp_path / "tiny"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=16m", "tmpfs", target=disk):
        settings = Settings(data_dir=disk / "data", corpus_dir=CORPUS)
        first = open_index(bot.corpus, bot.embeddings, settings)
        filler = disk / "filler"
        with open(filler, "wb") as f, contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
        os.truncate(filler, max(0, filler.stat().st_size - 16 * 1024))  # a few KB left: not enough to build
        index_module._forget_clients()
        assert_full_disk_keeps_previous(bot, settings, first, "(disk is full|No space left)", filler.unlink)


# -- processes racing ------------------------------------------------------------------------------------


def test_two_processes_rebuilding_at_once(bot, tmp_path):
    data = tmp_path / "shared"
    command = [*CLI, "--data-dir", str(data), "--corpus-dir", str(CORPUS), "index", "--rebuild"]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_DIR)
        for _ in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=400) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "built index" in out and "Traceback" not in err
    name = assert_one_complete_collection(data / "chroma", records_of(bot))
    assert name == bot.index.collection_name
    assert not list(data.glob("chroma.corrupt-*"))


# -- configuration ---------------------------------------------------------------------------------------

BAD_ENV = {
    "port-abc": ({"ASSISTANT_PORT": "abc"}, "index", "ASSISTANT_PORT='abc'"),
    "retriever-magic": ({"ASSISTANT_RETRIEVER": "magic"}, "index", "ASSISTANT_RETRIEVER='magic'"),
    "auth-nocolon": ({"ASSISTANT_AUTH": "nocolon"}, "chat", "ASSISTANT_AUTH must look like user:password"),
    "headers-not-json": ({"ASSISTANT_CHROMA_HEADERS": "notjson"}, "index", "chroma_headers"),
    "concurrency-0": ({"ASSISTANT_CONCURRENCY": "0"}, "chat", "ASSISTANT_CONCURRENCY='0'"),
}


@pytest.fixture(scope="module")
def bad_env_runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, float]]:
    """Each bad value, in its own process, all started together (each exits before loading the model)."""
    data = tmp_path_factory.mktemp("bad-env")
    started, procs = time.monotonic(), {}
    for key, (env, command, _) in BAD_ENV.items():
        procs[key] = subprocess.Popen(
            [*CLI, "--data-dir", str(data), command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT_DIR,
            env={**os.environ, **env},
        )
    results = {}
    for key, p in procs.items():
        out, err = p.communicate(timeout=120)
        results[key] = (subprocess.CompletedProcess(p.args, p.returncode, out, err), time.monotonic() - started)
    return results


@pytest.mark.parametrize("case", list(BAD_ENV))
def test_bad_env_value_exits_2_without_a_traceback(bad_env_runs, case):
    done, _ = bad_env_runs[case]
    names = BAD_ENV[case][2]
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "invalid configuration:" in done.stderr and names in flat(done.stderr)
    assert "Traceback" not in done.stderr and not done.stdout.strip()


def test_unreachable_chroma_server_exits_2_quickly():
    port = free_port()  # bound and released: nothing listens there
    started = time.monotonic()
    done = run_cli("index", env={"ASSISTANT_CHROMA_MODE": "server", "ASSISTANT_CHROMA_PORT": str(port)}, timeout=120)
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert f"cannot reach the Chroma server at http://127.0.0.1:{port}" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    # Generous on purpose (imports alone take seconds on a busy 2-core CI box): this guards against a hang,
    # which would run into the 120 s timeout above; it is not a speed target.
    assert elapsed < 90, f"took {elapsed:.1f} s to report an unreachable server"


def test_hung_chroma_server_fails_within_a_bounded_time(bot, settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts TCP connections (the kernel does), never reads or answers
    server = settings.with_overrides(chroma_mode="server", chroma_port=listener.getsockname()[1], chroma_timeout=1.0)
    outcome: dict[str, object] = {}

    def attempt() -> None:
        try:
            open_index(bot.corpus, bot.embeddings, server)
            outcome["result"] = "opened"
        except Exception as exc:
            outcome["result"] = exc

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=8)  # chroma_timeout is 1 s: a bounded client has long given up by then
    hung = worker.is_alive()
    listener.close()  # resets the pending connection, so a hung attempt ends too
    worker.join(timeout=15)
    assert not hung, "still waiting for a server that never answers after 8 s"
    assert isinstance(outcome.get("result"), IndexUnavailable)
