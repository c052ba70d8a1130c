"""The answer every rule let through: a direct first sentence for numbers, years and names, then the best
evidence quoted — the top sentence, each part's own, further relevant ones and a sentence that goes on
about the answer's."""

from __future__ import annotations

import re

from ...corpus import Sentence
from ...language import matches, prefix
from ..base import Draft
from .base import OPEN_TYPES, Context
from .direct import direct
from .drafts import quote

# Questions answered by a description, never by a span: "Who is Kim Tae-hyo?" is not answered "South Korea.".
DESCRIBED = OPEN_TYPES | {"identity", "overview"}
EXTRA_FACTOR = 0.8  # a further sentence must score this share of the best one to be quoted too
EXTRA_FACTOR_MULTI = 0.6  # ... or this share when the question asks several things
# A sentence that goes on about the one before: "These agreements …", "He noted …", "Additionally, Kim …".
_CONTINUATION = re.compile(
    r"^(?:These|This|Those|Such|They|He|She|It|Additionally|Also|Moreover|Furthermore|In addition)\b"
)


def compose(ctx: Context) -> Draft:
    question, reader, top = ctx.question, ctx.reader, ctx.top
    answered = [p for p in ctx.parts if p.evidence]
    # Parts are scored alone, so a short one ("and how often?") can miss evidence the whole question
    # found: only a part left open beside answered ones is called out.
    unanswered = [p.question.text for p in ctx.parts if not p.evidence] if answered else []
    cited = [top]
    for part in answered:
        evidence = part.evidence  # set: ``answered`` holds only parts with evidence
        if evidence and evidence not in cited and len(cited) < reader.max_sentences:
            cited.append(evidence)
    covered = {t for c in cited for t in reader.scorer.terms(c.sentence)}
    own = set(question.own_terms)
    factor = EXTRA_FACTOR_MULTI if question.is_multi_part or " and " in question.text else EXTRA_FACTOR
    open_ended = question.answer_type in OPEN_TYPES  # a passage may quote a sentence's continuation too
    for candidate in ctx.scored:
        if len(cited) >= reader.max_sentences:
            break
        if candidate in cited or (candidate is ctx.best and top is not ctx.best):
            continue  # the general sentence a more specific one replaced
        if open_ended and _continues(candidate.sentence, top.sentence):
            # "… six key documents." → "These agreements focused on …": the next sentence goes on about what
            # the answer's sentence introduced, and is as relevant as it, whatever its own words score.
            cited.append(candidate)
            covered |= reader.scorer.terms(candidate.sentence)
            continue
        if candidate.support < max(reader.threshold, top.support * factor):
            continue
        have = reader.scorer.terms(candidate.sentence)
        have_prefixes, covered_prefixes = {prefix(h) for h in have}, {prefix(c) for c in covered}
        new_terms = {t for t in own if matches(t, have, have_prefixes)} - {
            t for t in own if matches(t, covered, covered_prefixes)
        }
        if new_terms:
            cited.append(candidate)
            covered |= have
    # A multi-part question gets a direct answer per part that asks for a number or a name (once each).
    directs = list(dict.fromkeys(p.direct for p in answered if p.direct)) or list(
        filter(None, [direct(reader, question, top) or _span(ctx)])
    )
    text = " ".join([*([ctx.caveat] if ctx.caveat else []), *directs, quote(cited)])
    if unanswered:  # say which part is left open rather than let the quotes seem to answer it
        text += " The article does not answer: " + " ".join(f"“{part}”" for part in unanswered)
    return Draft(
        text,
        [(c.sentence, c.support) for c in cited],
        "answer",
        top.support,
        reader=ctx.read.reading.probability if ctx.read else None,
        values=[d.removesuffix(".") for d in directs],
    )


def _span(ctx: Context) -> str:
    """The reader's answer span as a direct first sentence ("Marta Lind."), for a question asking for a value,
    when the reader read it in the sentence the answer rests on; an open question (why, what happened, who is
    someone) is answered by its quoted sentences. (Answering from the reader's own best sentence instead was
    measured and lost: it reads each sentence alone, so "He noted that trade volume has increased twentyfold" loses to a
    sentence that names the countries; main 0.98 → 0.85, paraphrase-dev 0.98 → 0.64.)"""
    if ctx.question.answer_type in DESCRIBED:
        return ""
    if ctx.read is None and ctx.readings:  # not read yet (the reader refuses nothing by default): read now
        ctx.read = ctx.readings[0]
    if ctx.read is None or ctx.read.evidence is not ctx.top:
        return ""
    span = ctx.read.reading.text.strip().rstrip(".,;:")
    if not span or span == ctx.read.evidence.sentence.text.strip().rstrip("."):
        return ""
    return f"{span[0].upper()}{span[1:]}."


def _continues(sentence: Sentence, previous: Sentence) -> bool:
    return (
        sentence.doc_id == previous.doc_id
        and sentence.index == previous.index + 1
        and sentence.paragraph == previous.paragraph
        and bool(_CONTINUATION.match(sentence.text))
    )
