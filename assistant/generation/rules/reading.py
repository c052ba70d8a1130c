"""The trained reader's verdict (``assistant/reader.py``): it reads the most relevant candidate sentences and
gives each the probability that it answers the question. Below the threshold on every one, the text does
not say: refused. Otherwise the rules' evidence stands, and the answer names the reader's span first when
the reader read it in that sentence and no rule for the asked kind of value reads one there (``compose``).
It comes after the families that correct a false premise: a question built on one is not answerable as
asked, and deserves the correction. docs/reader.md has what it measures and why its threshold is 0."""

from __future__ import annotations

from ..base import Draft
from .base import Context, Rule
from .drafts import does_not_say, refusal


class ReaderVerdict(Rule):
    name = "reader"

    def decide(self, ctx: Context) -> Draft | None:
        # Reading costs ~30-45 ms a question: at threshold 0 without an LLM to arbitrate there is nothing to decide.
        if not ctx.reader.reads_every_question or not ctx.readings:
            return None
        best = ctx.readings[0]
        if best.reading.probability < ctx.reader.reader_threshold:
            draft = refusal(does_not_say(ctx.question), ctx.by_support, ctx.reader.threshold)
            draft.reader = best.reading.probability
            return draft
        ctx.read = best
        return None
