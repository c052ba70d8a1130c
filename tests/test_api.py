"""The Python API end to end on the real model and real Chroma (tmp data dirs)."""

import subprocess
import sys

import pytest

from assistant import Answer, Assistant, Citation, CorpusError, QuestionError, Settings
from assistant.embeddings import load_encoder


def test_ask_returns_typed_answer_with_citations_and_timings(bot):
    ans = bot.ask("Who did Yoon Suk Yeol meet in Seoul?")
    assert isinstance(ans, Answer) and not ans.refused
    assert "Cambodian Prime Minister Hun Manet" in ans.text
    assert all(isinstance(c, Citation) for c in ans.citations)
    c = ans.citations[0]
    assert (c.paragraph, c.marker) == (1, 1) and c.chunk_id.startswith("korea-cambodia-summit:")
    assert set(ans.timings) == {"analyse", "retrieve", "rerank", "generate"}


def test_second_assistant_reuses_the_loaded_model(bot, tmp_path):
    before = load_encoder.cache_info()
    other = Assistant(Settings(data_dir=tmp_path / "d2", corpus_dir=bot.settings.corpus_dir))
    assert other.embeddings is bot.embeddings
    assert load_encoder.cache_info().misses == before.misses


def test_chat_resolves_follow_ups_from_history(bot):
    history = [
        {"role": "user", "content": "What was discussed at the Korea-Cambodia Business Forum?"},
        {"role": "assistant", "content": bot.ask("What was discussed at the Korea-Cambodia Business Forum?").text},
    ]
    ans = bot.chat("How many people attended it?", history)
    assert "250" in ans.text and ans.rewritten_query


TRADE_BETWEEN = "How much has trade between the two countries grown?"


def test_a_follow_up_is_answered_from_the_paragraph_the_previous_answer_quoted(bot):
    first = bot.ask(TRADE_BETWEEN)
    assert first.text.startswith("Twentyfold.") and first.citations[0].paragraph == 5
    history = [{"role": "user", "content": TRADE_BETWEEN}, {"role": "assistant", "content": first.text}]
    # "that" is the growth the answer quoted; the sentence before it, in the same paragraph, says since when.
    then = bot.chat("When was that?", history)
    assert then.kind == "answer" and then.text.startswith("1997. “"), then.text
    assert then.citations[0].paragraph == 5 and "reestablishing relations in 1997" in then.citations[0].text
    # Without the quoted paragraph there is nothing "that" points at.
    assert bot.chat("When was that?", history[:1]).refused


@pytest.mark.parametrize("bad", ["", "   \n\t ", "\x00\x01"])
def test_empty_questions_raise_a_friendly_error(bot, bad):
    with pytest.raises(QuestionError, match="Please type a question"):
        bot.ask(bad)


def test_oversized_question_raises_a_friendly_error(bot):
    with pytest.raises(QuestionError, match="20,000 characters long"):
        bot.ask("a" * 20_000)


def test_odd_text_is_answered_not_crashed(bot):
    for text in [
        "\ud800 trade?",
        "🇰🇷 🇰🇭 summit?",
        "무역은 얼마나 성장했나요?",
        "'; DROP TABLE chunks; --",
        "$(rm -rf /)",
    ]:
        assert isinstance(bot.ask(text), Answer)


def test_missing_corpus_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus directory not found"):
        Assistant(Settings(data_dir=tmp_path, corpus_dir=tmp_path / "missing"))


def test_configure_shares_index_and_changes_retrieval(bot):
    dense = bot.configure(retriever="dense", rerank=False)
    assert dense.index is bot.index and dense.reranker is None
    assert dense.ask("How much has trade grown since 1997?").kind == "answer"
    with pytest.raises(ValueError):
        bot.configure(chunk_tokens=32)


def test_bad_env_value_is_reported(monkeypatch):
    monkeypatch.setenv("ASSISTANT_K", "zero")
    with pytest.raises(ValueError, match="k"):
        Settings()


def test_warm_up_loads_what_the_first_answer_would_wait_for(bot) -> None:
    # A fresh process: the session's own bot has long loaded everything.
    probe = (
        "import sys; from assistant import Assistant, Settings; "
        f"bot = Assistant(Settings(data_dir={str(bot.settings.data_dir)!r})); "
        "before = 'spacy' in sys.modules; bot.warm_up(); "
        "from assistant import nlp; print(before, nlp.pipeline.cache_info().currsize)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["False", "1"], done.stderr
