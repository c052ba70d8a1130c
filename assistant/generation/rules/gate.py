"""The last word on answering: the fitted answerability model (``generation/answerability.py``) judges the
evidence an answer would rest on. It never turns a refusal or a correction into an answer: it runs last."""

from __future__ import annotations

from ..base import Draft
from .base import Context, Rule
from .drafts import does_not_say, refusal


class AnswerabilityGate(Rule):
    name = "answerability"

    def decide(self, ctx: Context) -> Draft | None:
        model = ctx.reader.answerability
        # Its features measure how much of the question the evidence covers; a follow-up answered from the
        # paragraph it points back at ("When was that?") has almost no words of its own to cover.
        if model is None or not model.judges(ctx.question) or ctx.top in ctx.pointed_at:
            return None
        chance = model.probability(ctx.features)
        if chance >= model.threshold:
            ctx.answerability = chance  # the answer carries what the model said
            return None
        draft = refusal(does_not_say(ctx.question), [ctx.top], ctx.reader.threshold)
        draft.features, draft.answerability = ctx.features, chance
        return draft
