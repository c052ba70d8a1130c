"""The trained reader: the shipped model on a note it never saw, its verdict in the answer path (alone and over
an LLM's refusal), and the training command end to end on a tiny sample."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant import Assistant
from assistant.core import shared_reader
from assistant.corpus import split_sentences
from assistant.minilm import fingerprint, word_embeddings
from assistant.reader import CONFIG_FILE, MODEL_DIR, MODEL_FILE, WINDOW_CHARS, WORD_INPUT, Reading, SpanReader, window
from assistant.squad import Example, overlap, sample
from assistant.train import CARD_FILE, TrainConfig, run

HARBOUR = (
    "The old harbour was rebuilt in 1911 by the engineer Marta Lind. Its lighthouse, painted red and white, can be "
    "seen from 18 nautical miles away. Fishing boats land about 4,000 tonnes of cod a year there."
)
SENTENCES = [HARBOUR[s:e] for s, e in split_sentences(HARBOUR)]


@pytest.fixture(scope="module")
def reader() -> SpanReader:
    return SpanReader()


def test_the_shipped_model_is_small_and_described() -> None:
    assert (MODEL_DIR / MODEL_FILE).stat().st_size < 35 * 2**20
    card = (MODEL_DIR / CARD_FILE).read_text(encoding="utf-8")
    assert "SQuAD" in card and "CC BY-SA 4.0" in card and "seed" in card


def test_the_answering_sentence_outranks_a_near_miss(reader: SpanReader) -> None:
    asked = reader.read("Who rebuilt the old harbour?", SENTENCES)
    assert max(range(len(asked)), key=lambda i: asked[i].probability) == 0
    assert asked[0].probability >= reader.threshold and "Marta Lind" in asked[0].text
    # Same sentence, same words, but it does not say who paid: the reader must think less of it.
    paid = reader.read("Who paid for the rebuilding of the harbour?", SENTENCES)
    assert paid[0].probability < asked[0].probability


def test_the_span_is_the_value_asked_for(reader: SpanReader) -> None:
    [reading] = reader.read("From how far away can the lighthouse be seen?", SENTENCES[1:2])
    assert "18 nautical miles" in reading.text


def test_a_sentence_is_read_with_the_one_before_it_when_both_fit() -> None:
    assert window(SENTENCES, 1) == (f"{SENTENCES[0]} {SENTENCES[1]}", len(SENTENCES[0]) + 1)
    assert window(SENTENCES, 0) == (SENTENCES[0], 0)
    assert window(["", SENTENCES[1]], 1) == (SENTENCES[1], 0)  # no sentence before it in its paragraph
    long = "word " * (WINDOW_CHARS // 5)
    assert window([long, SENTENCES[1]], 1) == (SENTENCES[1], 0)
    assert window(SENTENCES, 1, limit=0) == (SENTENCES[1], 0)  # a model trained on sentences alone


def test_a_span_in_the_sentence_before_is_not_taken_for_the_sentences_own() -> None:
    text, offset = window(SENTENCES, 1)
    inside = Reading(0.9, text.index("18 nautical"), text.index(" away"), "18 nautical miles")
    assert inside.within(offset) == Reading(
        0.9, SENTENCES[1].index("18"), SENTENCES[1].index(" away"), "18 nautical miles"
    )
    before = Reading(0.8, text.index("Marta"), text.index("Marta") + 10, "Marta Lind")
    assert before.within(offset) == Reading(0.8, 0, 0, "")


@pytest.fixture(scope="module")
def harbour_bot(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Assistant:
    folder = tmp_path_factory.mktemp("harbour")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "harbour.txt").write_text(HARBOUR + "\n", encoding="utf-8")
    return Assistant(corpus_dir=folder / "corpus", data_dir=folder / "data", models_dir=models_dir)


def test_the_assistant_answers_with_what_the_reader_read(harbour_bot: Assistant) -> None:
    answer = harbour_bot.ask("Who rebuilt the old harbour?")
    assert answer.kind == "answer" and "Marta Lind" in answer.text.split("“")[0]


def test_the_engine_reads_a_sentence_with_the_one_before_it_in_its_paragraph_only(
    bot: Assistant, tmp_path: Path
) -> None:
    # A model trained on windows says so in its reader.json; the shipped one's folder, so marked, stands in.
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / MODEL_FILE).symlink_to(MODEL_DIR / MODEL_FILE)
    config = json.loads((MODEL_DIR / CONFIG_FILE).read_text(encoding="utf-8")) | {"window_chars": WINDOW_CHARS}
    (folder / CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")
    rules = bot.configure(reader_dir=folder).generator.reader  # type: ignore[attr-defined]  # the extractive one's
    [doc] = bot.corpus.documents
    opening = [s for s in doc.sentences[1:] if s.paragraph != doc.sentences[s.index - 1].paragraph]
    inner = [s for s in doc.sentences[1:] if s.paragraph == doc.sentences[s.index - 1].paragraph]
    assert opening and inner
    assert rules.window(opening[0]) == (opening[0].text, 0)
    before = doc.sentences[inner[0].index - 1]
    assert rules.window(inner[0]) == (f"{before.text} {inner[0].text}", len(before.text) + 1)
    # A model trained on sentences alone (no window_chars, as the shipped one) reads each sentence alone.
    assert bot.generator.reader.window(inner[0]) == (inner[0].text, 0)  # type: ignore[attr-defined]


def test_below_a_set_threshold_the_reader_refuses(harbour_bot: Assistant) -> None:
    strict = harbour_bot.configure(reader_threshold=0.9)
    assert strict.ask("Who rebuilt the old harbour?").kind == "answer"
    for question in ("How tall is the lighthouse?", "What colour are the fishing boats?"):
        refused = strict.ask(question)
        assert refused.kind == "refusal" and refused.reader is not None and refused.reader < 0.9, question


def test_without_the_reader_its_threshold_refuses_nothing(harbour_bot: Assistant) -> None:
    answer = harbour_bot.configure(reader=False, reader_threshold=0.9).ask("How tall is the lighthouse?")
    assert answer.reader is None


def test_calibration_can_have_every_question_read(harbour_bot: Assistant) -> None:
    # At threshold 0 a question that asks for no value is not read (nothing to decide), unless told to: what
    # `assistant eval --calibrate-reader` records for each question.
    question = "What does the note say about the lighthouse?"
    assert harbour_bot.configure(reader_threshold=0.0).ask(question).reader is None
    assert harbour_bot.configure(reader_threshold=0.0, reader_reads_all=True).ask(question).reader is not None


def test_a_confident_reader_overrules_an_llm_refusal(bot: Assistant) -> None:
    refuser = FakeListChatModel(responses=["The article does not say how much trade has grown."] * 4)
    answer = bot.configure(chat_model=refuser).ask("How much has trade volume increased?")
    assert answer.kind == "answer" and "twentyfold" in answer.text.lower()
    assert "llm-refusal-overruled" in answer.notes


def test_an_llm_refusal_stands_when_the_reader_is_not_confident(bot: Assistant) -> None:
    refuser = FakeListChatModel(responses=["The article does not say what the weather was like."] * 4)
    answer = bot.configure(chat_model=refuser).ask("What was the weather like during the summit?")
    assert answer.kind == "refusal" and "llm-refusal-overruled" not in answer.notes


def _tiny_squad(path: Path) -> Path:
    """Two SQuAD 2.0-format articles: one for training, one held back for validation."""

    def article(title: str, context: str, qas: list[tuple[str, str | None, str]]) -> dict:
        rows = []
        for n, (question, answer, plausible) in enumerate(qas):
            span = answer or plausible
            entry = {"text": span, "answer_start": context.index(span)}
            rows.append(
                {
                    "id": f"{title}-{n}",
                    "question": question,
                    "is_impossible": answer is None,
                    "answers": [entry] if answer else [],
                    **({"plausible_answers": [entry]} if answer is None else {}),
                }
            )
        return {"title": title, "paragraphs": [{"context": context, "qas": rows}]}

    data = [
        article(
            "Harbour",
            HARBOUR,
            [
                ("Who rebuilt the harbour?", "Marta Lind", ""),
                ("Who paid for the harbour?", None, "Marta Lind"),
                ("How far can the lighthouse be seen?", "18 nautical miles", ""),
            ],
        ),
        article(
            "Mill",
            "The mill was built in 1820. It ground wheat for the village until 1950. A museum opened there in 1990.",
            [("When was the mill built?", "1820", ""), ("When did the mill burn down?", None, "1950")],
        ),
    ]
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainConfig, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("train")
    config = TrainConfig(
        squad2=_tiny_squad(folder / "tiny.json"),
        squad1=None,
        out=folder / "reader",
        validation_articles=1,
        max_steps=2,
        batch_size=4,
        threads=1,
    )
    return config, run(config, command="pytest", progress=False)


def test_training_runs_end_to_end_on_a_tiny_sample(tiny_run: tuple[TrainConfig, dict[str, Any]]) -> None:
    config, report = tiny_run
    assert report["training"]["steps"] == 2 and report["int8"]["questions"] in (2, 3)
    trained = SpanReader(config.out)
    assert 0.0 <= trained.threshold <= 1.0
    assert len(trained.read("Who rebuilt the harbour?", SENTENCES)) == len(SENTENCES)
    card = (config.out / CARD_FILE).read_text(encoding="utf-8")
    assert "seed 13" in card and "pytest" in card
    assert json.loads((config.out / CONFIG_FILE).read_text(encoding="utf-8"))["max_tokens"] == config.max_tokens


def test_a_trained_reader_looks_its_word_pieces_up_in_the_installed_model(
    tiny_run: tuple[TrainConfig, dict[str, Any]],
) -> None:
    import onnx

    config, _ = tiny_run
    graph = onnx.load(str(config.out / MODEL_FILE)).graph
    assert WORD_INPUT in {i.name for i in graph.input}
    assert not [t for t in graph.initializer if t.dims and t.dims[0] == 30522]  # no vocabulary-sized table
    assert (config.out / MODEL_FILE).stat().st_size < 16 * 2**20
    saved = json.loads((config.out / CONFIG_FILE).read_text(encoding="utf-8"))
    assert saved["word_embeddings"] == fingerprint(word_embeddings())


def test_a_reader_trained_on_other_weights_is_refused_clearly(
    tiny_run: tuple[TrainConfig, dict[str, Any]], tmp_path: Path
) -> None:
    config, _ = tiny_run
    other = tmp_path / "other"
    shutil.copytree(config.out, other)
    saved = json.loads((other / CONFIG_FILE).read_text(encoding="utf-8"))
    (other / CONFIG_FILE).write_text(json.dumps({**saved, "word_embeddings": "0" * 16}), encoding="utf-8")
    with pytest.raises(ValueError, match="other all-MiniLM-L6-v2 weights"):
        SpanReader(other)
    # The engine says which setting to change, before any question is asked.
    with pytest.raises(ValueError, match=r"no usable reader model .* ASSISTANT_READER_DIR"):
        shared_reader(other)


def test_training_can_draw_reworded_questions_only() -> None:
    copied = Example("Who rebuilt the old harbour?", SENTENCES[0], 52, 62, "Harbour", "copied")
    reworded = Example("Which engineer was behind the port's reconstruction?", SENTENCES[0], 52, 62, "Harbour", "new")
    near_miss = Example("Which engineer was behind the port's reconstruction?", SENTENCES[1], -1, -1, "Harbour", "new")
    assert overlap(copied.question, copied.sentence) == 1.0 and overlap(reworded.question, reworded.sentence) == 0.2
    pairs = [copied, reworded, near_miss]
    assert sample(pairs, 10, 1.0, seed=13) == pairs
    assert sample(pairs, 10, 0.4, seed=13) == [reworded, near_miss]  # the question's pairs go together
    assert len(sample(pairs, 1, 1.0, seed=13)) in (1, 2)


def test_training_refuses_a_file_that_is_not_squad(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": []}', encoding="utf-8")
    from assistant.squad import SquadFormatError

    with pytest.raises(SquadFormatError, match="not a readable SQuAD"):
        run(TrainConfig(squad2=bad, squad1=None, out=tmp_path / "out"), progress=False)
