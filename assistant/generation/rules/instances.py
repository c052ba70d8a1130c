"""Questions about another instance of what the article reports once: the first time of something it only
reports happening again, the next (previous, another) one of something it reports once. Both refused."""

from __future__ import annotations

import re

from ...language import normalise, stem
from ...scoring import ScoredSentence
from ..base import Draft
from .base import Context, Rule
from .drafts import NEARBY_FACTOR, does_not_say, refusal

# Another instance of something the article reports once: "the next summit", "the previous visit".
_OTHER_INSTANCE = re.compile(r"\b(next|previous|prior|another|future|upcoming)\s+([a-z]+)\b", re.IGNORECASE)
# "When did they first establish relations?" is not answered by "since reestablishing relations in 1997".
_FIRST_TIME = re.compile(r"\b(first|originally|initially|ever)\b", re.IGNORECASE)


class OtherInstances(Rule):
    name = "instances"

    def decide(self, ctx: Context) -> Draft | None:
        redone = _only_repeated(ctx)
        if redone:
            return refusal(does_not_say(ctx.question), [redone], ctx.reader.threshold)
        other = _other_instance(ctx)
        if other:
            return refusal(f"The article does not mention {other}.", ctx.by_support, ctx.reader.threshold)
        return None


def _only_repeated(ctx: Context) -> ScoredSentence | None:
    """For "when did X first happen?", evidence that has only X happening again ("reestablishing" for
    "establish"): the article dates the repeat, not the first time."""
    question, scorer = ctx.question, ctx.reader.scorer
    if question.answer_type not in ("time", "year", "date") or not _FIRST_TIME.search(question.resolved):
        return None
    for evidence in ctx.scored:
        have = scorer.terms(evidence.sentence)
        if evidence.support >= ctx.reader.threshold * NEARBY_FACTOR and any(f"re{t}" in have and t not in have for t in question.own_terms):
            return evidence
    return None


def _other_instance(ctx: Context) -> str:
    """ "When will the next summit be held?": the article reports one summit, so a next (previous,
    another) one is not in it, however well "summit" matches. Returns the phrase, or ""."""
    for found in _OTHER_INSTANCE.finditer(ctx.question.resolved):
        modifier, noun = found.group(1).lower(), found.group(2).lower()
        if ctx.reader.scorer.document_frequency(stem(noun)) and normalise(found.group(0)) not in ctx.reader.analyser.text:
            return f"{modifier} {noun}" if modifier == "another" else f"{'an' if modifier[0] in 'aeiou' else 'a'} {modifier} {noun}"
    return ""
