"""How the rules word their decisions: quotes with [n] markers, refusals, corrections."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ... import nlp
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
    """ "What is the exact date of the summit?" -> "what the exact date of the summit is", "When was the
    lighthouse built?" -> "when the lighthouse was built" (or "")."""
    match = re.match(
        r"^(what|who|where|when|which|how many|how much)\s+(is|was|are|were)\s+(.+?)[?.!]*$",
        question.strip(),
        re.IGNORECASE,
    )
    if match:
        wh, copula, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
        cut = _subject_end(match.group(0), match.start(3), match.end(3))
        # The copula goes after the subject: "when the lighthouse was built", "when it is due to start",
        # "what the weather was like"; last when the rest is all subject: "what the exact date … is".
        subject, predicate = rest[: cut - match.start(3)].strip(), rest[cut - match.start(3) :].strip()
        return " ".join(filter(None, [wh, subject, copula, predicate]))
    # "What did Hun Manet say in his speech?" -> "what Hun Manet said in his speech"
    match = re.match(r"^what\s+did\s+(.+?)\s+(say|tell)\b(.*?)[?.!]*$", question.strip(), re.IGNORECASE)
    if match:
        return f"what {match.group(1)} {'said' if match.group(2).lower() == 'say' else 'told'}{match.group(3)}"
    return ""


def _subject_end(text: str, start: int, end: int) -> int:
    """Where the subject after the copula ends in ``text[start:end]``, by the parse: before the verb the copula
    is an auxiliary of ("was … built", "is … going to happen"), else after the copula's subject and its
    modifiers ("is it | due to start"); ``end`` when neither is found."""
    parsed = nlp.parse(text)
    copula = parsed.token_at(start - 2)  # the copula's last letter, before the space
    if copula is None:
        return end
    tokens = parsed.tokens
    if tokens[copula].dep in ("aux", "auxpass") and tokens[copula].head > copula:
        return tokens[tokens[copula].head].idx
    subject = next(
        (i for i, t in enumerate(tokens) if t.dep in ("nsubj", "nsubjpass") and t.head == copula and t.idx >= start),
        None,
    )
    if subject is None:
        return end
    span = [j for j in range(len(tokens)) if _within(tokens, j, subject)]
    # The small model often hangs the predicate participle on the subject ("the lighthouse | first built",
    # "… investment | expected to be completed"); with no other complement the copula needs, it is one.
    participle = next((j for j in span if tokens[j].dep == "acl" and tokens[j].pos == "VERB"), None)
    complemented = any(t.head == copula and t.dep in ("attr", "acomp", "oprd") for t in tokens)
    if participle is not None and not complemented:
        return min(tokens[j].idx for j in span if _within(tokens, j, participle))
    return max(tokens[j].idx + len(tokens[j].text) for j in span)


def _within(tokens: tuple[nlp.Token, ...], at: int, root: int) -> bool:
    """Whether token ``at`` is ``root`` or hangs from it."""
    seen = set()
    while at != root and at not in seen:
        seen.add(at)
        at = tokens[at].head
    return at == root
