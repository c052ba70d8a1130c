"""The eval suites are well-formed, and the default configuration meets the suite's thresholds."""

import json

import pytest

from assistant.corpus import load_corpus
from assistant.evaluation import (
    ANSWERABLE,
    BESIDE,
    DECLINING,
    DOCUMENT_SUITES,
    EVALS_DIR,
    HELD_OUT,
    evaluate,
    facts_present,
    failures,
    load_suite,
    load_thresholds,
    suite_corpus,
    token_f1,
)
from tests.conftest import CORPUS

KINDS = ANSWERABLE | DECLINING


@pytest.mark.parametrize(
    "suite", ["main", "paraphrase-dev", "paraphrase-dev2", "paraphrase", "paraphrase-fresh", "dialogues"]
)
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


@pytest.mark.parametrize("suite", DOCUMENT_SUITES)
def test_document_suites_are_well_formed_and_cover_every_kind(suite, tmp_path):
    text = load_corpus(suite_corpus(suite, CORPUS)).documents[0].text
    items = load_suite(suite)
    kinds = [i["kind"] for i in items]
    assert len(items) >= 40 and len({i["id"] for i in items}) == len(items)
    assert kinds.count("unanswerable") >= 10 and kinds.count("false_premise") >= 8 and len(ANSWERABLE & set(kinds)) == 5
    for item in items:
        assert all(sentence in text for sentence in item["evidence"]), item["id"]
        if item["kind"] != "unanswerable":
            assert facts_present(" ".join(item["evidence"]), item["key_facts"]), item["id"]


def test_the_squad_suite_is_well_formed_and_half_unanswerable():
    corpus = load_corpus(suite_corpus("squad-dev", CORPUS))
    text = " ".join(d.text for d in corpus.documents)
    items = load_suite("squad-dev")
    assert len(corpus.documents) == 6 and len({i["id"] for i in items}) == len(items) > 2000
    assert 0.45 < sum(i["kind"] == "unanswerable" for i in items) / len(items) < 0.55
    for item in items:
        assert all(sentence in text for sentence in item["evidence"]), item["id"]
        if item["kind"] == "fact" and item["evidence"]:
            assert facts_present(" ".join(item["evidence"]), item["key_facts"]), item["id"]


def test_a_document_suite_also_runs_beside_the_summit():
    beside = load_corpus(suite_corpus("town" + BESIDE, CORPUS))
    assert len(beside.documents) == 2
    assert {"coral", "press"} <= HELD_OUT  # run and reported, never tuned on


def test_suite_sizes_meet_the_brief():
    main = load_suite("main")
    kinds = [i["kind"] for i in main]
    assert len(main) >= 40 and kinds.count("unanswerable") >= 8 and kinds.count("false_premise") >= 5
    assert len(load_suite("paraphrase")) >= 30 and len(load_suite("paraphrase-fresh")) >= 30
    dialogues = [json.loads(line) for line in (EVALS_DIR / "dialogues.jsonl").read_text().splitlines() if line.strip()]
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


@pytest.mark.slow
@pytest.mark.parametrize("suite", ["town", "ferry"])
def test_development_documents_keep_their_answers(bot, suite):
    # A floor under the two development documents of other genres (0.86 and 0.81 when written): the answer
    # engine must keep reading documents it was not written for.
    report = evaluate(bot, suite, progress=False)
    assert report.metrics["answer_accuracy"] >= 0.75, report.metrics
