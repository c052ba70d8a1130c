"""A premise that reverses the evidence: 'Why did Cambodia reject the initiative?' where the article says it
'endorsed' it, 'Why did trade decline?' where it 'increased'. Corrected with the article's word."""

from __future__ import annotations

import re

from ...language import clauses, opposites, stem, tokens
from .base import Context, CorrectionRule
from .drafts import Correction


class Opposite(CorrectionRule):
    name = "opposites"

    def find(self, ctx: Context) -> Correction | None:
        asked = {stem(w): w for w in re.findall(r"[a-z]+", ctx.question.resolved.lower())}
        table = opposites()
        for evidence in ctx.scored[:3]:
            if evidence.support < ctx.reader.threshold:
                continue
            text = evidence.sentence.text
            said = {stem(m.group(0)): m for m in re.finditer(r"[a-z]+", text.lower())}
            found = []
            for word in [w for w in said if w in table and w not in asked]:
                contrary = next((c for c in asked if c in table[word] and c not in said), None)
                if contrary:
                    # Of several ("trade has increased …, exchanges have grown …"), the verb whose clause
                    # shares most with the question; ties in sentence order, so the choice is stable.
                    start = said[word].start()
                    clause = next(text[a:b] for a, b in clauses(text) if a <= start < b)
                    shared = len(set(ctx.question.own_terms) & set(tokens(clause)))
                    found.append(
                        (-shared, start, Correction(f"“{asked[contrary]}”", f"“{said[word].group(0)}”", evidence))
                    )
            if found:  # quoted: "it says “endorsed”, not “reject”" reads as words, not as a claim
                return min(found, key=lambda f: f[:2])[2]
        return None
