"""Premises no name or number check catches: 'the top investor' where the article says 'second-largest
investor', 'next year' where it says 'this year' for the same thing. Corrected, unless nothing was claimed."""

from __future__ import annotations

import re
from collections.abc import Callable

from ...language import normalise, prefix, stem
from ...question import RELATIVE_YEAR
from ..base import Draft
from .base import Context, CorrectionRule
from .drafts import Correction, corrected, does_not_say, refusal

_TOP_RANK = re.compile(r"\b(top|largest|biggest|leading|number one)\s+(?:foreign\s+)?(?P<noun>[a-z]+)", re.IGNORECASE)
_ORDINAL_RANK = re.compile(r"\b(second|third|fourth|fifth)-(largest|biggest)\s+(?P<noun>[a-z]+)", re.IGNORECASE)
# "Who is the biggest investor?" asks for the top of a ranking; "Is Korea the biggest investor?" claims it.
_ASKS_TOP = re.compile(
    r"^\W*(?:who|what|which(?:\s+\w+)?)\s+(?:is|was|are|were|has been|ranks?)\s+(?:now\s+)?(?:the\s+)?(?:single\s+)?"
    r"(?:top|largest|biggest|leading|number one)\b",
    re.IGNORECASE,
)


class WrongRank(CorrectionRule):
    name = "ranks"

    def decide(self, ctx: Context) -> Draft | None:
        fix = self.find(ctx)
        if not fix:
            return None
        if _ASKS_TOP.match(ctx.question.resolved) and _ORDINAL_RANK.search(fix.right):
            # Nothing was claimed, so nothing to correct: the article just never names who ranks first.
            return refusal(does_not_say(ctx.question), [fix.evidence], ctx.reader.threshold)
        return corrected(fix)

    def find(self, ctx: Context) -> Correction | None:
        asked = ctx.question.resolved
        claims: list[tuple[re.Match[str], re.Pattern[str], Callable[[re.Match[str]], bool]]] = []
        top = _TOP_RANK.search(asked)
        if top and not re.search(r"\b(second|third|fourth|fifth)\b", asked, re.IGNORECASE):
            # The ranked thing is the same when named alike: "largest source of investment" / "investor".
            nouns = {prefix(t) for t in ctx.question.own_terms}
            claims.append(
                (top, _ORDINAL_RANK, lambda e: stem(e["noun"]) == stem(top["noun"]) or prefix(stem(e["noun"])) in nouns)
            )
        year = RELATIVE_YEAR.search(asked)
        if year and normalise(year.group(0)) not in ctx.reader.analyser.text:
            claims.append((year, RELATIVE_YEAR, lambda e: True))
        for claim, pattern, same_thing in claims:
            for evidence in ctx.scored[:3]:
                found = pattern.search(evidence.sentence.text)
                if evidence.support >= ctx.reader.threshold and found and same_thing(found):
                    return Correction(claim.group(0), found.group(0), evidence)
        return None
