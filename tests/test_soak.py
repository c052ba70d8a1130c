"""The page that serves for a day: the soak benchmark end to end, and a page on a fresh data folder and a
fresh model cache, which must export the ONNX model without loading torch into itself."""

from __future__ import annotations

import json
import os
import sys

from assistant import Settings, remote, soak
from assistant.bench import main as bench
from assistant.servers import answers, free_port, serving


def test_soak_bench_runs_end_to_end_and_writes_its_report(tmp_path):
    assert bench(["--soak", "120", "--soak-minutes", "10", "--report-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "soak.json").read_text())
    summary = report["summary"]
    assert summary["requests"] == 120 and summary["errors"] == 0 and summary["stopped_by"] == "count"
    assert summary["torch_loaded"] is False
    assert report["rss"] == [{"requests": 100, "rss_mib": summary["rss_end_mib"]}] and summary["rss_end_mib"] > 50
    assert [w["end"] for w in report["windows"]] == [120] and report["windows"][0]["p50_ms"] > 0
    assert (tmp_path / "soak.png").read_bytes()[:4] == b"\x89PNG"


def test_a_page_on_a_fresh_data_folder_and_model_cache_never_imports_torch(tmp_path):
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", port=port)
    env = {**os.environ, "ASSISTANT_MODELS_DIR": str(settings.models_dir)}
    command = [sys.executable, "-m", "assistant.cli", "--data-dir", str(settings.data_dir), "chat", "--port", str(port)]
    with serving(command, answers(remote.page_url(settings)), tmp_path / "page.log", "the page", env=env) as page:
        record = remote.ask_page(settings, "How much has trade grown since 1997?", timeout=300)
        torch = soak.torch_loaded(page.pid)
    assert record is not None and "twentyfold" in record["answer"]["text"].lower()
    assert [p.suffix for p in settings.models_dir.glob("*.onnx")] == [".onnx"]  # exported, by a child process
    assert torch is False
