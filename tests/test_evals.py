"""The eval suites are well-formed, and the default configuration meets the suite's thresholds."""

import json

import pytest

from assistant.corpus import load_corpus
from assistant.evaluation import (
    ANSWERABLE, DECLINING, EVALS_DIR, evaluate, facts_present, failures, load_suite, load_thresholds, token_f1,
)
from tests.conftest import CORPUS

KINDS = ANSWERABLE | DECLINING


@pytest.mark.parametrize("suite", ["main", "paraphrase-dev", "paraphrase-dev2", "paraphrase", "paraphrase-fresh", "dialogues"])
def test_suite_items_are_well_formed(suite):
    text = load_corpus(CORPUS).documents[0].text
    items = load_suite(suite)
    assert len({i["id"] for i in items}) == len(items)
    for item in items:
        assert item["kind"] in KINDS and item["question"].strip() and item["reference"].strip()
        for sentence in item["evidence"]:
            assert sentence in text, f"{item['id']}: evidence not verbatim in the article"
        if item["kind"] in ANSWERABLE:
            assert item["key_facts"], item["id"]
            assert facts_present(" ".join(item["evidence"]), item["key_facts"]), f"{item['id']}: facts not in evidence"


def test_suite_sizes_meet_the_brief():
    main = load_suite("main")
    kinds = [i["kind"] for i in main]
    assert len(main) >= 40 and kinds.count("unanswerable") >= 8 and kinds.count("false_premise") >= 5
    assert len(load_suite("paraphrase")) >= 30 and len(load_suite("paraphrase-fresh")) >= 30
    dialogues = [json.loads(l) for l in (EVALS_DIR / "dialogues.jsonl").read_text().splitlines() if l.strip()]
    assert len(dialogues) >= 10 and all(len(d["turns"]) >= 2 for d in dialogues)


def test_scoring_helpers():
    assert facts_present("Trade grew Twentyfold since 1997", [["twentyfold", "20-fold"], ["1997"]])
    assert not facts_present("Trade grew", [["twentyfold"]])
    assert token_f1("trade grew twentyfold", "trade grew twentyfold") == 1.0
    assert token_f1("nothing", "else") == 0.0


@pytest.mark.slow
def test_default_configuration_meets_thresholds_on_main_suite(bot):
    report = evaluate(bot, "main", progress=False)
    assert not failures(report, load_thresholds()), report.metrics


@pytest.mark.slow
def test_multi_turn_dialogues_meet_the_bar(bot):
    report = evaluate(bot, "dialogues", progress=False)
    assert report.metrics["overall_accuracy"] >= 0.9, report.metrics
