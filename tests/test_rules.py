"""The answer-rule contract: rules decide in order (None: the next one does), a family can be switched off,
and a draft states its values and correction in fields as well as in its text."""

from __future__ import annotations

import pytest

from assistant import Settings
from assistant.cli import _settings, build_parser
from assistant.generation import ExtractiveGenerator
from assistant.generation.base import Draft
from assistant.generation.rules import RULE_NAMES, Context, Rule, configured


def _inputs(bot, question: str):
    return bot.scorer.analyser.analyse(question, []), bot.retrieve(question)


def _generator(bot, disabled: list[str] | None = None) -> ExtractiveGenerator:
    reader = bot.generator.reader
    return ExtractiveGenerator(bot.scorer, reader.threshold, reader.max_sentences, disabled or [])


class _Spy(Rule):
    name = "spy"

    def __init__(self, decision: Draft | None) -> None:
        self.decision, self.calls = decision, 0

    def decide(self, ctx: Context) -> Draft | None:
        self.calls += 1
        return self.decision


def test_a_rule_that_returns_nothing_lets_the_next_decide_and_the_first_decision_wins(bot):
    decided = Draft("decided", [], "refusal", 0.0)
    first, second, third = _Spy(None), _Spy(decided), _Spy(Draft("never", [], "answer", 1.0))
    generator = _generator(bot)
    generator.rules = [first, second, third]
    assert generator.generate(*_inputs(bot, "How much has trade grown since 1997?"), []) is decided
    assert (first.calls, second.calls, third.calls) == (1, 1, 0)


def test_when_no_rule_decides_the_evidence_is_quoted_as_the_answer(bot):
    generator = _generator(bot)
    generator.rules = [_Spy(None)]
    draft = generator.generate(*_inputs(bot, "How much has trade grown since 1997?"), [])
    assert draft.kind == "answer" and draft.text.startswith("Twentyfold. “")


@pytest.mark.parametrize(
    ("family", "question", "decided"),
    [
        ("overview", "What is this article about?", "The article “"),
        (
            "unknown_values",
            "Why was the summit held in Phnom Penh?",
            "That premise does not match the article: it says Seoul",
        ),
        ("unmentioned", "What was the weather like?", "The article does not mention the weather."),
        (
            "owners",
            "Why did Cambodia endorse North Korea's initiative?",
            "That premise does not match the article: it says South Korea’s",
        ),
        (
            "ranks",
            "Is South Korea the largest investor in Cambodia?",
            "That premise does not match the article: it says second-largest",
        ),
        (
            "opposites",
            "Why did Cambodia reject the Audacious Initiative?",
            "That premise does not match the article: it says “endorsed”",
        ),
        (
            "titles",
            "Is Hun Manet the president of Cambodia?",
            "That premise does not match the article: it says Prime Minister",
        ),
    ],
)
def test_switching_a_family_off_changes_the_answer_it_decides(bot, family, question, decided):
    inputs = _inputs(bot, question)
    assert _generator(bot).generate(*inputs, []).text.startswith(decided)
    assert not _generator(bot, [family]).generate(*inputs, []).text.startswith(decided)


def test_disabled_rules_setting_reaches_the_assistant(bot):
    question = "Why did Cambodia reject the Audacious Initiative?"
    assert bot.ask(question).kind == "correction"
    assert bot.configure(disabled_rules=["opposites"]).ask(question).kind != "correction"


def test_without_flag_and_env_name_families_and_reject_unknown_ones(monkeypatch, capsys):
    args = build_parser().parse_args(["eval", "--without", "ranks", "--without", "titles"])
    assert _settings(args).disabled_rules == ["ranks", "titles"]
    monkeypatch.setenv("ASSISTANT_DISABLED_RULES", "owners, opposites")
    assert Settings().disabled_rules == ["owners", "opposites"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", "--without", "no-such-rule"])
    assert "answer_types" in capsys.readouterr().err  # the choices are listed
    with pytest.raises(ValueError, match="unknown answer rule"):
        configured(["no-such-rule"])
    assert set(RULE_NAMES) >= {"unknown_values", "answer_types", "multipart"}


def test_a_correction_states_its_values_in_fields(bot):
    draft = bot.generator.generate(*_inputs(bot, "Why was the summit held in Phnom Penh?"), [])
    assert draft.kind == "correction"
    assert draft.correction == ("Phnom Penh", "Seoul") and draft.values == ["Seoul"]
    assert draft.cited and "Seoul" in draft.cited[0][0].text


def test_a_direct_answer_states_its_values_in_fields(bot):
    draft = bot.generator.generate(*_inputs(bot, "How much has trade grown since 1997?"), [])
    assert draft.kind == "answer" and draft.text.startswith("Twentyfold. “")
    assert draft.values == ["Twentyfold"] and draft.correction is None
    assert "twentyfold" in draft.cited[0][0].text


def test_a_refusal_states_no_values(bot):
    draft = bot.generator.generate(*_inputs(bot, "What is the exact date of the summit?"), [])
    assert draft.kind == "refusal" and draft.values == [] and draft.correction is None
