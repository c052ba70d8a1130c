"""The LLM judge measured with the scripted chat models (no optional packages, no network).

The oracle writes each eval item's reference answer with the right citations: the judge must accept it.
The fabricator writes cited answers with invented values: none may reach the user.
"""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.evaluation import bot_for, judge, load_suite
from assistant.generation import ExtractiveGenerator
from assistant.generation.guard import strip_markers
from assistant.generation.llm import LLMGenerator, build_messages
from evals.scripted import FabricatorChatModel, make_scripted, prompt_passages, prompt_question

# (suite, item ids): answers, a refusal and corrections of false premises
ORACLE_ITEMS = {
    "main": ["main-002", "main-003", "main-072", "main-059", "main-068", "main-069", "main-074"],
    "town": ["town-002", "town-030", "town-043", "town-045"],
}


@pytest.fixture(scope="module")
def town_bot(bot):
    return bot_for(bot, "town")


def _suite_bot(bot, town_bot, suite):
    return town_bot if suite == "town" else bot


@pytest.mark.parametrize("suite", list(ORACLE_ITEMS))
def test_oracle_answers_pass_the_judge(bot, town_bot, suite):
    llm_bot = _suite_bot(bot, town_bot, suite).configure(chat_model=make_scripted(f"oracle:{suite}"))
    items = {i["id"]: i for i in load_suite(suite)}
    for item_id in ORACLE_ITEMS[suite]:
        item = items[item_id]
        answer = llm_bot.ask(item["question"])
        assert judge(item, answer), (item_id, answer.kind, answer.text, answer.notes)
        assert f"llm:scripted:oracle:{suite}" in answer.notes and "guard-fallback" not in answer.notes, (
            item_id,
            answer.notes,
        )
    kinds = llm_bot.generator.stats
    assert kinds["llm_answers"] and kinds["llm_refusals"] and kinds["llm_corrections"], dict(kinds)


def test_oracle_cites_the_passages_that_hold_the_evidence(bot):
    oracle = make_scripted("oracle:main")
    item = next(i for i in load_suite("main") if i["id"] == "main-072")
    context = bot.retrieve(item["question"])
    prompt = build_messages(bot.scorer.analyser.analyse(item["question"]), context, [])[1].text
    n = next(k for k, text in prompt_passages(prompt).items() if "250 participants" in text)
    assert prompt_question(prompt) == item["question"]
    assert oracle.reply(prompt) == f"Correction: The forum was attended by 250 participants, not 120 [{n}]."


@pytest.mark.parametrize("suite", list(ORACLE_ITEMS))
def test_fabricated_values_never_reach_the_user(bot, town_bot, suite):
    fabricator = make_scripted("fabricator")
    assert isinstance(fabricator, FabricatorChatModel)
    llm_bot = _suite_bot(bot, town_bot, suite).configure(chat_model=fabricator)
    for item in load_suite(suite)[:24]:
        answer = llm_bot.ask(item["question"])
        assert not fabricator.shown(item["question"], strip_markers(answer.text)), (
            fabricator.invented[item["question"]],
            answer.text,
        )
    # Some true sentences it copied got through; every invented one was dropped.
    assert llm_bot.generator.stats["llm_answers"] and llm_bot.generator.stats["guard_fallbacks"]


def test_a_right_answer_citing_another_sentence_than_the_extractive_best_is_accepted(bot):
    # The extractive reader rests on the opening sentence; the model cites the visit sentence, which says it
    # too. The old agreement rule ("rests on other sentences than the best evidence") turned this down.
    question = bot.scorer.analyser.analyse("Who is the Cambodian Prime Minister who attended the summit?")
    context = bot.retrieve(question.text)
    extractive = bot.generator.generate(question, context, [])
    visit = "Prime Minister Hun Manet’s visit to South Korea included high-level meetings"
    assert not extractive.cited[0][0].text.startswith(visit)
    n = next(k for k, doc in enumerate(context, 1) if visit in doc.page_content)
    reply = f"Prime Minister Hun Manet visited South Korea for high-level meetings [{n}]."
    generator = LLMGenerator(FakeListChatModel(responses=[reply]), bot.scorer, bot.generator, backend="fake")
    draft = generator.generate(question, context, [])
    assert (
        draft.kind == "answer"
        and draft.text == "Prime Minister Hun Manet visited South Korea for high-level meetings [1]."
    ), draft.notes
    assert draft.cited[0][0].text.startswith(visit) and "guard-fallback" not in draft.notes


def test_a_chat_model_handed_in_answers_and_stays_through_configure_and_other_corpora(bot):
    # The product cannot name a test double in its settings (ASSISTANT_LLM); callers hand the model in.
    question = "How much has trade grown since 1997?"
    n = next(k for k, doc in enumerate(bot.retrieve(question), 1) if "twentyfold" in doc.page_content)
    model = FakeListChatModel(responses=[f"Trade volume has increased twentyfold [{n}]."], name="fake-trade")
    llm_bot = bot.configure(chat_model=model)
    assert bot.settings.llm == "extractive" and isinstance(bot.generator, ExtractiveGenerator)
    answer = llm_bot.ask(question)
    assert answer.text == "Trade volume has increased twentyfold [1]." and "llm:fake-trade" in answer.notes
    variant = llm_bot.configure(k=3)
    assert isinstance(variant.generator, LLMGenerator) and variant.generator.model is model
    assert bot_for(llm_bot, "town").generator.model is model
