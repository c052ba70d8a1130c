"""A person given another's title: 'Is Hun Manet the president?' where the article has 'Prime Minister Hun
Manet' (and the title in front, 'President Hun Manet', the same way). Corrected with the article's title."""

from __future__ import annotations

import re

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
