"""The ONNX serving path against sentence-transformers (the reference), and what serving imports."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import numpy as np
import pytest

from assistant.corpus import load_corpus
from assistant.embeddings import load_encoder
from assistant.evaluation import EVALS_DIR
from assistant.minilm import load_tokenizer
from tests.conftest import CORPUS

HEAVY = ("torch", "transformers", "sentence_transformers", "gradio", "sklearn")


def _questions(n: int = 200) -> list[str]:
    """The first ``n`` distinct questions of the eval files (dialogue turns included), in file order."""
    found: list[str] = []
    for path in sorted(EVALS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found += [row["question"]] if "question" in row else [t["question"] for t in row.get("turns", [])]
    return list(dict.fromkeys(found))[:n]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    sentences = [s.text for s in load_corpus(CORPUS).sentences]
    questions = _questions()
    assert len(questions) == 200 and len(sentences) > 15
    return sentences + questions


@pytest.fixture(scope="module")
def reference():
    return load_encoder("torch", None)


def test_onnx_agrees_with_sentence_transformers_on_the_article_and_200_questions(bot, reference, texts):
    onnx = bot.embeddings.encoder
    ours = onnx.encode(texts, 64)
    theirs = reference.encode(texts, 64)
    cosine = (ours * theirs).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosine.min() >= 0.9999, texts[int(cosine.argmin())]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # A text alone (no padding) gets the vector it gets inside a padded batch; past 256 pieces it is truncated.
    long = " ".join(texts[:40])
    single = np.stack([onnx.encode([t], 64)[0] for t in [*texts[:5], long]])
    assert np.allclose(single, onnx.encode([*texts[:5], long], 64), atol=1e-5)
    assert float(single[-1] @ reference.encode([long], 64)[0]) >= 0.9999


def test_word_piece_counts_match_the_reference_tokenizer(bot, reference, texts):
    long = " ".join(texts)  # past the model's 256 pieces: counting must not truncate
    hf = reference.model.tokenizer([*texts, long], add_special_tokens=False)["input_ids"]
    assert bot.embeddings.count_tokens_many([*texts, long]) == [len(ids) for ids in hf]
    assert bot.embeddings.count_tokens(long) == len(hf[-1]) > 256
    assert load_tokenizer(256).encode(long).ids[-1] == load_tokenizer().token_to_id("[SEP]")


def test_missing_onnx_model_is_exported_once_and_said_on_stderr(reference, tmp_path, caplog):
    from assistant.minilm_onnx import OnnxEncoder, ensure_onnx

    with caplog.at_level(logging.WARNING, logger="assistant.minilm_onnx"):
        first = ensure_onnx(tmp_path)
        second = ensure_onnx(tmp_path)
    assert first == second and first.exists() and first.parent == tmp_path
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1 and "ONNX" in caplog.records[
        0
    ].message
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, "weights.json"])  # no temp file left
    vector = OnnxEncoder(first).encode(["How much has trade grown since 1997?"], 1)[0]
    assert float(vector @ reference.encode(["How much has trade grown since 1997?"], 1)[0]) >= 0.9999


_IMPORTS = f"""
import json, sys
from assistant.cli import main
code = main(sys.argv[1:])
print(json.dumps({{"code": code, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})}}))
"""


@pytest.mark.parametrize(
    "command",
    [["ask", "How much has trade grown since 1997?"], ["sources", "--json"], ["eval", "--suite", "main"]],
    ids=["ask", "sources", "eval"],
)
def test_serving_commands_import_neither_torch_nor_gradio(bot, tmp_path, command):
    """With the ONNX model present, the command answers without torch, transformers or gradio in the process."""
    extra = ["--report-dir", str(tmp_path)] if command[0] == "eval" else []
    run = subprocess.run(
        [sys.executable, "-c", _IMPORTS, "--data-dir", str(bot.settings.data_dir), *command, *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, run.stderr[-2000:]
    assert result["loaded"] == [], result["loaded"]


@pytest.mark.slow
def test_every_eval_suite_answers_identically_on_both_backends(bot, tmp_path):
    """A torch-built index queried with torch, and the ONNX one queried on onnxruntime, answer alike."""
    from assistant import Assistant
    from assistant.evaluation import SUITES, evaluate

    torch_bot = Assistant(bot.settings.with_overrides(embedding_backend="torch", data_dir=tmp_path))
    assert torch_bot.index.built
    for suite in (s for s in SUITES if s != "squad-dev"):  # its 2,103 questions add minutes, no new kind of text
        ours = [(i.id, i.answer_kind, i.answer) for i in evaluate(bot, suite, progress=False).items]
        theirs = [(i.id, i.answer_kind, i.answer) for i in evaluate(torch_bot, suite, progress=False).items]
        assert ours == theirs, suite
