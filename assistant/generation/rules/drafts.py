"""How the rules word their decisions: quotes with [n] markers, refusals, corrections."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...question import Question
from ...scoring import ScoredSentence
from ..base import Draft

NEARBY_FACTOR = 0.75  # evidence this close to the threshold is worth pointing at in a refusal


@dataclass(frozen=True)
class Correction:
    wrong: str
    right: str
    evidence: ScoredSentence


def quote(cited: list[ScoredSentence]) -> str:
    return " ".join(f"“{c.sentence.text}” [{i}]" for i, c in enumerate(cited, 1))


def corrected(fix: Correction) -> Draft:
    wrong, right = fix.wrong.strip(), fix.right.strip()
    text = f"That premise does not match the article: it says {right}, not {wrong}. {quote([fix.evidence])}"
    return Draft(
        text,
        [(fix.evidence.sentence, fix.evidence.support)],
        "correction",
        fix.evidence.support,
        values=[right],
        correction=(wrong, right),
    )


def refusal(what: str, scored: list[ScoredSentence], threshold: float) -> Draft:
    """``what`` the article lacks, and the best of ``scored`` when it comes close to answering."""
    nearby = [s for s in scored[:1] if s.support >= threshold * NEARBY_FACTOR]
    text = what
    if nearby:
        text += f" The closest it comes: {quote(nearby)}"
    return Draft(text, [(s.sentence, s.support) for s in nearby], "refusal", scored[0].support if scored else 0.0)


def does_not_say(question: Question) -> str:
    focus = indirect(question.text)
    return f"The article does not say {focus}." if focus else "The article does not say."


def indirect(question: str) -> str:
    """ "What is the exact date of the summit?" -> "what the exact date of the summit is" (or "")."""
    match = re.match(
        r"^(what|who|where|when|which|how many|how much)\s+(is|was|are|were)\s+(.+?)[?.!]*$",
        question.strip(),
        re.IGNORECASE,
    )
    if match:
        wh, copula, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
        # The copula goes before the predicate: "when relations were established", "when it is due to start",
        # "where the effort is going to happen"; after a plain subject: "what the exact date of the summit is".
        predicate = re.match(r"^(.+?)\s+((?:\w+ing|due|set|expected|scheduled|likely|about)\s+to\b.*|\w+ed)$", rest)
        if predicate:
            return f"{wh} {predicate.group(1)} {copula} {predicate.group(2)}"
        return f"{wh} {rest} {copula}"
    # "What did Hun Manet say in his speech?" -> "what Hun Manet said in his speech"
    match = re.match(r"^what\s+did\s+(.+?)\s+(say|tell)\b(.*?)[?.!]*$", question.strip(), re.IGNORECASE)
    if match:
        return f"what {match.group(1)} {'said' if match.group(2).lower() == 'say' else 'told'}{match.group(3)}"
    return ""
