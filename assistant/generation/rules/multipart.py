"""A question asking several things: each part finds its own best evidence, so one sentence relevant to the
whole ("cooperation in politics, security, economy…") does not crowd out the ones that answer each part.
Refused when no part finds the value it asks for, or when one figure answers several counts."""

from __future__ import annotations

from ..base import Draft
from .base import Context, Part, Rule
from .direct import direct
from .drafts import refusal


class MultiPart(Rule):
    name = "multipart"

    def decide(self, ctx: Context) -> Draft | None:
        parts = _parts(ctx)
        answered = [p for p in parts if p.evidence]
        if (
            parts
            and not answered
            and all(p.question.answer_type not in ("other", "reason") for p in parts)
            and not any(
                ctx.reader.analyser.satisfies(p.question.answer_type, ctx.top.sentence.text, p.question) for p in parts
            )
        ):
            # Every part asks for a value (a place, a frequency) and neither the parts' own evidence nor
            # the sentence matching the whole question holds one: quoting it would only seem to answer.
            asked = " ".join(f"“{p.question.text}”" for p in parts)
            return refusal(f"The article does not answer: {asked}", ctx.by_support, ctx.reader.threshold)
        counts = {p.direct for p in answered if p.question.answer_type == "number" and p.direct}
        if len(counts) == 1 and sum(p.question.answer_type == "number" for p in answered) >= 2:
            # "How many came from Korea and how many from Cambodia?" answered twice by "250 participants":
            # one figure for several counts is a total, not the breakdown asked for.
            what = f"The article gives one figure for all of that, not one for each part: {counts.pop()}"
            return refusal(what, ctx.by_support, ctx.reader.threshold)
        ctx.parts = parts
        return None


def _parts(ctx: Context) -> list[Part]:
    """The best sentence for each part on its own (its support at least the threshold, holding the value
    asked for), with its direct answer. Later parts read earlier ones as context ("how did Yoon describe
    that step?")."""
    reader = ctx.reader
    by_sentence = {(s.sentence.doc_id, s.sentence.index): s for s in ctx.scored}
    sentences = [s.sentence for s in ctx.scored]
    found = []
    for question in reader.analyser.parts(ctx.question, ctx.history):
        ranked = [s for s in reader.scorer.score(question, sentences) if s.typed and s.support >= reader.threshold]
        evidence = by_sentence[(ranked[0].sentence.doc_id, ranked[0].sentence.index)] if ranked else None
        found.append(Part(question, evidence, direct(reader, question, evidence) if evidence else ""))
    return found
