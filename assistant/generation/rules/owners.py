"""'South Korea endorsed Cambodia's initiative' where the article says 'Cambodia endorsed South Korea's':
the same thing owned by another party the question names, corrected."""

from __future__ import annotations

import re

from ...language import normalise, stem
from ...question import is_country_like
from .base import Context, CorrectionRule
from .drafts import Correction

# "Cambodia's “Audacious Initiative”": an owner name, a possessive, then the owned name or word.
_POSSESSIVE = re.compile(r"((?:[A-Z][\w-]*\s)*[A-Z][\w-]*)['’]s\s+[\"“]?((?:[A-Z][\w-]*\s?)+|\w+)")


class SwappedOwner(CorrectionRule):
    name = "owners"

    def find(self, ctx: Context) -> Correction | None:
        question, analyser = ctx.question, ctx.reader.analyser
        asked = normalise(question.resolved)
        for owner, thing in _POSSESSIVE.findall(question.resolved):
            for evidence in ctx.scored[:3]:
                if evidence.support < ctx.reader.threshold:
                    continue
                for other, their_thing in _POSSESSIVE.findall(evidence.sentence.text):
                    # "Cambodia's initiative" and "South Korea's “Audacious Initiative”" name the same thing.
                    same_thing = bool(
                        {stem(w) for w in normalise(their_thing).split()} & {stem(w) for w in normalise(thing).split()}
                    )
                    # Another owner the question names, or one country for another ("North Korea's initiative");
                    # never a longer or shorter form of the same name ("Korea's").
                    mine, theirs = normalise(owner), normalise(other)
                    distinct = mine not in theirs and theirs not in mine
                    countries = all(
                        is_country_like(n, analyser.topic_words, analyser.person_words) for n in (owner, other)
                    )
                    if same_thing and distinct and (theirs in asked or countries):
                        return Correction(f"{owner}'s {thing}", f"{other}’s {their_thing}", evidence)
        return None
