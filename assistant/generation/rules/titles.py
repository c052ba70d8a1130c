"""A person given another's title: 'Is Hun Manet the president?' where the article has 'Prime Minister Hun
Manet' (and the title in front, 'President Hun Manet', the same way). Corrected with the article's title."""

from __future__ import annotations

import re

from ... import nlp
from ...question import TITLE
from .base import Context, CorrectionRule
from .drafts import Correction

# A title claimed right after a name: "Hun Manet, the president", "Yoon the Cambodian prime minister".
_TITLE_AFTER = re.compile(
    r"^\s*,?\s*(?i:(?:is|was|as|the|a|an|its|their|his|her)\s+)*(?:(?!Prime\b|President\b)[A-Z][\w’']*\s+)?"
    r"(?P<title>(?i:president|prime minister|minister|king|queen))\b"
)


class WrongTitle(CorrectionRule):
    name = "titles"

    def find(self, ctx: Context) -> Correction | None:
        return _wrong_role(ctx) or _wrong_title(ctx)


def _wrong_role(ctx: Context) -> Correction | None:
    """A role the question gives a person by apposition ("Helena Drost, the mayor of Harlin") that the
    documents give otherwise ("Helena Drost, the regional transport commissioner"), read by the parse."""
    for claimed in nlp.roles(nlp.parse(ctx.question.resolved)):
        given = ctx.reader.analyser.roles.get(claimed.name, frozenset())
        if not given or claimed.lemma in given:
            continue
        for evidence in ctx.scored[:5]:
            right = next((r for r in nlp.roles(nlp.parse(evidence.sentence.text)) if r.name == claimed.name), None)
            if right is not None:
                return Correction(claimed.phrase, f"{claimed.name}, the {right.phrase}", evidence)
    return None


def _wrong_title(ctx: Context) -> Correction | None:
    """A person given another's title from the list of formal titles (``question.TITLE``)."""
    text = ctx.question.resolved
    for span in ctx.question.names:
        words = TITLE.split(span.text)[-1].removesuffix("’s").removesuffix("'s").split()
        held = set().union(*(ctx.reader.analyser.titles.get(w, frozenset()) for w in words))
        if not held:
            continue  # not a person the article gives a title
        after = _TITLE_AFTER.match(text[span.end :])
        claimed = [*TITLE.findall(span.text), *([after["title"]] if after else [])]
        wrong = next((t for t in claimed if t.title() not in held), None)
        if not wrong:
            continue
        right = sorted(held)[0]
        for evidence in ctx.scored[:5]:
            found = re.search(rf"{right}\s+{re.escape(words[0])}(?:\s+[A-Z][\w-]*)*", evidence.sentence.text)
            if found:
                return Correction(wrong, found.group(0).removesuffix("’s"), evidence)
    return None
