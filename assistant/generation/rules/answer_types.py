"""Evidence that lacks the kind of value asked for (a date, a dollar amount, names), or whose best such
sentence falls below the calibrated support threshold, does not answer: refused, pointing at what the
article does say nearby. A value in the paragraph a follow-up points back at answers whatever its support."""

from __future__ import annotations

from ..base import Draft
from .base import Context, Rule
from .drafts import does_not_say, refusal


class AnswerTypes(Rule):
    name = "answer_types"

    def decide(self, ctx: Context) -> Draft | None:
        if ctx.pointed_at or (ctx.typed and ctx.typed[0].support >= ctx.reader.threshold):
            return None
        return refusal(does_not_say(ctx.question), ctx.by_support, ctx.reader.threshold)
