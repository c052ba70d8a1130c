"""The grounding guard: an LLM's answer keeps only the sentences the article itself supports.

Each sentence of the model's answer is checked against the article sentences of the passages it cites
(its ``[n]`` markers; all passages when it cites none; when its own markers fail, small models being
careless citers, against all retrieved passages, and the sentence is then cited to what supports it).
A sentence survives only if

(a) its MiniLM cosine similarity to its best cited article sentence reaches ``threshold`` (it says
    something those sentences say). Long article sentences are also compared 12-word window by window,
    since a claim usually restates one clause; a short fragment such as "In 1997." is also read
    together with the question, since alone it resembles nothing; a negated premise ("…, not Phnom
    Penh") is left out of the comparison,
(b) every number (``quantities``: "1997", "twentyfold", "second-largest") and every capitalised name
    in it also occurs in a cited sentence at least ``VALUE_SIMILARITY`` similar to it (so "thirtyfold" or
    "Hun Sen" cannot ride on a similar
    sentence; an acronym matches the initials of a cited phrase, "FTA" = "free trade agreement"), and
(c) at least ``coverage`` of its content words (stemmed) occur in the cited text or the question, and
    at most ``max_novel`` do not: cosine similarity alone lets on-topic inventions through ("South
    Korea is Cambodia's largest trading partner" scores 0.75 against the article; "… where he was a
    keynote speaker at the Business Forum" rides on a long true sentence), new vocabulary gives them away.

A value the *question* presumed may be repeated only right after a negation ("250 participants, not
120"), so a model can correct a false premise without repeating it as a claim.

The guard itself is pure: ``check`` returns a ``Verdict`` (kept sentences with their evidence, dropped
sentences with reasons, whether the model declined); ``LLMGenerator`` turns that into a ``Draft`` or
falls back to the extractive backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from ..corpus import Sentence
from ..language import capitalized_spans, normalise, quantities, tokens
from ..scoring import SentenceScorer

# Calibrated on the eval suites' reference answers (supported) against invented on-topic answers the
# article does not support; ``evals/llm_report.py --calibrate`` reprints the table.
DEFAULT_THRESHOLD = 0.6
DEFAULT_COVERAGE = 0.8
DEFAULT_MAX_NOVEL = 1
# A value counts only in a cited sentence at least this similar to the claim: against many sentences (all
# passages, when its own marker failed) a changed number ("25 to 28 metres" for "15 to 18") would otherwise
# find its twin in an unrelated sentence (the scripted fabricator's three leaks before this bar). Below the
# claim threshold, so a claim joining two sentences can take a value from the second.
VALUE_SIMILARITY = 0.45
SHORT_CLAIM_WORDS = 8  # claims this short are also compared as "question + claim"
WINDOW_WORDS, WINDOW_STRIDE = 12, 4  # article sentences are also compared clause-sized, window by window

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
# Markers written after the sentence's full stop ("… twentyfold. [1]") belong to that sentence.
_MARKER_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+)")
_LEADING_MARKERS = re.compile(r"(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])*")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
_REFUSAL = re.compile(
    r"\b(does not|doesn't|do not|don't|did not|didn't|cannot|can't|could not)\s+(say|mention|state|specify|provide|give|include|"
    r"contain|tell|answer|describe|know|find)\b|\bnot (mentioned|stated|specified|provided|given|said)\b|\bno (information|mention)\b",
    re.IGNORECASE,
)
# A refusal is a sentence that *starts* by declining; "The article recommends X, but does not say Y"
# makes a claim first and is checked like any other sentence.
_REFUSAL_START = re.compile(
    r"^(?:(?:the|this) (?:article|passages?|text|context)|it|i|we|they|there)\b[^.,;]{0,40}?\b(?:does not|doesn't|do not|don't|did not|"
    r"didn't|cannot|can't|could not|is no|are no|has no|have no)\b",
    re.IGNORECASE,
)
# A sentence ending on a preposition or article ("… was held in.") lost its answer: it says nothing.
_DANGLING = re.compile(r"\b(in|at|on|of|by|to|from|for|with|the|a|an|and|is|was|are|were)\W*$", re.IGNORECASE)
# A negation reaches over up to three words: "not reestablished in 2005", "did not mostly go to Canada".
_NEGATED = r"(?:\bnot|n't|\brather than|\binstead of|\bnever)\s+(?:[\w’'-]+\s+){0,3}?"
# A premise denied before a semicolon or colon: "It was not; …", "It was the other way around: …".
_DENIAL = re.compile(r"^[^;:]*(?:\bnot\b|n't\b|\bother way around\b|\bpremise\b)[^;:]*[;:]\s*(?=\S)", re.IGNORECASE)
_CORRECTION_CUE = re.compile(
    r"\b(actually|in fact|premise|incorrect|mistaken)\b|,\s*not\b|\bnot\b[^.]*\bbut\b", re.IGNORECASE
)
_LEADING_LABEL = re.compile(r"^\s*(?:(?:the )?answer(?: is)?|assistant|response|correction)\s*:\s*", re.IGNORECASE)
_TITLE_WORDS = frozenset({"the", "a", "an"})


@dataclass(frozen=True)
class Claim:
    """One sentence of the model's answer, without its markers."""

    text: str
    markers: tuple[int, ...]  # 1-based passage numbers it cites that exist


@dataclass(frozen=True)
class Kept:
    claim: Claim
    similarity: float
    evidence: tuple[Sentence, ...]  # the article sentences that support it, best first
    recited: bool = False  # its own [n] did not support it, another retrieved passage did
    corrects: bool = False  # it flags a false premise ("… in Seoul, not Phnom Penh", "in fact …")


@dataclass(frozen=True)
class Dropped:
    claim: Claim
    reason: str  # "similarity 0.31 < 0.60" / "number '30' not in cited text" / "word coverage 0.70, new words …"


@dataclass(frozen=True)
class Assessment:
    """One claim measured against its cited passages (``GroundingGuard.assess``)."""

    claim: Claim
    refusal: bool  # "the article does not say …": claims nothing, measured only for smuggled values
    similarity: float  # best cosine to a cited sentence or window of one
    missing: tuple[str, ...]  # numbers/names absent from the cited text
    coverage: float  # share of content words found in the cited text or the question
    # Cited sentences that may vouch for its values, most similar first: at least ``VALUE_SIMILARITY`` similar
    # to it (the best one always), or holding a number the question states.
    sources: tuple[Sentence, ...]
    recited: bool = False  # failed against its own [n] passages, measured against all of them instead
    repeated: bool = False  # the same sentence came earlier in the answer
    novel: tuple[str, ...] = ()  # content words (stemmed) found in neither the cited text nor the question


@dataclass
class Verdict:
    kept: list[Kept] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    refusal: str | None = None  # the model's own "the article does not say …" sentence, if it declined
    opens_with_correction: bool = False  # the answer starts "Correction: …"

    @property
    def corrects_premise(self) -> bool:
        """The model flagged a false premise, by its opening label or in a sentence the guard kept."""
        return self.opens_with_correction or any(k.corrects for k in self.kept)


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", text)).strip()


def clean_answer(text: str) -> str:
    """The model's text without markdown emphasis, bullets, a leading "Answer:" label or stray whitespace."""
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+", "", text)
    text = _LEADING_LABEL.sub("", text.strip())
    return " ".join(text.split())


def settled(text: str) -> str:
    """The part of a still-growing answer whose sentences are complete: up to the last sentence end that a
    new sentence has begun after. Markers right after a full stop ("… twentyfold. [1]") belong to the
    sentence before (``split_claims`` moves them back), so they are kept with it, and text of markers alone
    (a "[1" still arriving) begins nothing."""
    cut = 0
    for m in _SENTENCE_END.finditer(text):
        markers = _LEADING_MARKERS.match(text, m.end())
        assert markers is not None  # the pattern also matches the empty string
        if re.search(r"[A-Za-z]", _MARKER.sub("", text[markers.end() :])):
            cut = markers.end()
    return text[:cut]


def split_claims(text: str, n_passages: int) -> list[Claim]:
    """Sentences of ``text`` with the passage numbers each cites (out-of-range numbers are ignored)."""
    text = _MARKER_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", clean_answer(text))
    claims = []
    for raw in _SENTENCE_END.split(text):
        raw = raw.strip()
        if not raw:
            continue
        numbers = [int(n) for group in _MARKER.findall(raw) for n in re.split(r"\s*[,;]\s*", group)]
        markers = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= n_passages))
        body = strip_markers(raw)
        if re.search(r"[A-Za-z0-9]", body):
            claims.append(Claim(body, markers))
    return claims


def _plain(text: str) -> str:
    """Lower-cased words without possessive 's and punctuation, space-separated (for whole-word matching)."""
    text = re.sub(r"'s\b", "", normalise(text))
    return " ".join(re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text))


def _name_key(text: str) -> str:
    words = _plain(text).split()
    while words and words[0] in _TITLE_WORDS:
        words = words[1:]
    return " ".join(words)


def _acronym_found(acronym: str, plain_text: str) -> bool:
    """ "FTA" in "… a free trade agreement …": consecutive words whose initials spell the acronym."""
    letters = acronym.lower()
    words = re.split(r"[\s-]+", plain_text)
    return any(
        "".join(w[:1] for w in words[i : i + len(letters)]) == letters for i in range(len(words) - len(letters) + 1)
    )


class GroundingGuard:
    def __init__(
        self,
        scorer: SentenceScorer,
        threshold: float = DEFAULT_THRESHOLD,
        coverage: float = DEFAULT_COVERAGE,
        max_novel: int = DEFAULT_MAX_NOVEL,
        recite: bool = True,
    ) -> None:
        self.scorer = scorer
        self.threshold = threshold
        self.coverage = coverage
        self.max_novel = max_novel
        self.recite = recite
        self.aliases = scorer.analyser.lexicon.everything.aliases

    # -- evidence -------------------------------------------------------------------------------
    def passage_sentences(self, doc: Document) -> list[Sentence]:
        meta = doc.metadata
        sentences = self.scorer.index.corpus.document(meta["doc_id"]).sentences
        return list(sentences[meta["sentence_start"] : meta["sentence_end"]])

    def unsupported_values(self, claim: str, evidence_text: str, question_text: str = "") -> list[str]:
        """Numbers and names in ``claim`` that ``evidence_text`` lacks (question values excused when negated)."""
        have_numbers = {q.key for q in quantities(evidence_text)}
        have_text = f" {_plain(evidence_text)} "
        asked_numbers = {q.key for q in quantities(question_text)}
        asked_text = f" {_plain(question_text)} "
        missing = []
        for q in quantities(claim):
            if q.key in have_numbers:
                continue
            if q.key in asked_numbers and self._negated(claim, q.start):
                continue
            missing.append(f"number {q.surface!r}")
        for span in capitalized_spans(claim, self.scorer.analyser.proper):
            key = _name_key(span.text)
            if not key or f" {key} " in have_text:
                continue
            if " " not in key and key.endswith("n") and f" {key[:-1]} " in have_text:
                continue  # a demonym of a cited place: "Korean" for "Korea", "Cambodian" for "Cambodia"
            if re.fullmatch(r"[A-Z]{2,6}", span.text) and (
                _acronym_found(span.text, have_text) or f" {_plain(self.aliases.get(span.text, '-'))} " in have_text
            ):
                continue  # "FTA" for "free trade agreement", "PM" for "Prime Minister" (place aliases do not count)
            if f" {key} " in asked_text and self._negated(claim, span.start):
                continue
            missing.append(f"name {span.text!r}")
        return missing

    def word_coverage(self, claim: str, evidence_text: str, question_text: str = "") -> tuple[float, tuple[str, ...]]:
        """Share of the claim's content words (stemmed; numbers excluded) found in the evidence or the
        question, and the words found in neither. An acronym alias counts when its expansion is cited."""
        words = [t for t in tokens(claim) if not t.startswith("#")]
        if not words:
            return 1.0, ()
        plain = f" {_plain(evidence_text)} "
        have = set(tokens(evidence_text)) | set(tokens(question_text))
        have |= {
            k.lower() for k, v in self.aliases.items() if re.fullmatch(r"[A-Z]{2,6}", k) and f" {_plain(v)} " in plain
        }
        novel = tuple(dict.fromkeys(w for w in words if w not in have))
        return sum(w in have for w in words) / len(words), novel

    @staticmethod
    def _negated(claim: str, start: int) -> bool:
        return bool(re.search(rf"{_NEGATED}$", claim[:start], re.IGNORECASE))

    # -- the check -------------------------------------------------------------------------------
    def _windows(self, sentence: Sentence) -> list[str]:
        """The sentence and its overlapping word windows: a claim often restates one clause of a long
        sentence, and comparing it with the whole sentence dilutes the match."""
        words = sentence.text.split()
        if len(words) <= WINDOW_WORDS:
            return [sentence.text]
        starts = range(0, len(words) - WINDOW_WORDS + WINDOW_STRIDE, WINDOW_STRIDE)
        return [sentence.text, *(" ".join(words[i : i + WINDOW_WORDS]) for i in starts)]

    def _without_negated_premise(self, claim: str, question_text: str) -> str:
        """ "Held in Seoul, not Phnom Penh" → "Held in Seoul", "It was not; the summit was held in Seoul" → "the
        summit was held in Seoul": the denied premise says nothing to compare."""
        claim = _DENIAL.sub("", claim)
        values = [q.surface for q in quantities(question_text)] + [
            s.text for s in capitalized_spans(question_text, self.scorer.analyser.proper)
        ]
        for value in sorted(values, key=len, reverse=True):
            claim = re.sub(rf"[,;]?\s*(?:and\s+|but\s+)?{_NEGATED}{re.escape(value)}\b", "", claim, flags=re.IGNORECASE)
        return claim.strip()

    def assess(self, answer: str, context: list[Document], question_text: str = "") -> list[Assessment]:
        """Every claim of ``answer`` measured against what it cites, before any threshold applies."""
        passages = [self.passage_sentences(doc) for doc in context]
        claims = split_claims(answer, len(passages))
        if not claims or not passages:
            return []
        encode = self.scorer.embeddings.encode
        compared = [self._without_negated_premise(c.text, question_text) or c.text for c in claims]
        claim_vectors = encode(compared)
        short = [i for i, text in enumerate(compared) if len(text.split()) <= SHORT_CLAIM_WORDS and question_text]
        in_context = dict(zip(short, encode([f"{question_text} {compared[i]}" for i in short]), strict=True))
        asked = {q.key for q in quantities(question_text)}
        all_sentences = list({(s.doc_id, s.index): s for p in passages for s in p}.values())
        windows = {(s.doc_id, s.index): encode(self._windows(s)) for s in all_sentences}
        out = []
        seen: set[str] = set()
        for i, claim in enumerate(claims):
            if normalise(claim.text) in seen:  # small models loop: a repeated sentence adds nothing
                out.append(Assessment(claim, False, 0.0, (), 0.0, (), repeated=True))
                continue
            seen.add(normalise(claim.text))
            if _REFUSAL.search(claim.text) and _REFUSAL_START.search(claim.text):
                # A refusal may restate the question ("… does not say what Hun Manet said"), nothing more.
                missing = self.unsupported_values(
                    claim.text, " ".join([*(s.text for s in all_sentences), question_text])
                )
                out.append(Assessment(claim, True, 0.0, tuple(missing), 1.0, ()))
                continue

            # This iteration's ``i`` and ``claim`` are bound explicitly (``measure`` is only called below).
            def measure(
                cited: list[Sentence], recited: bool = False, *, i: int = i, claim: Claim = claim
            ) -> Assessment:
                cited = list({(s.doc_id, s.index): s for s in cited}.values())
                probes = [claim_vectors[i]] + ([in_context[i]] if i in in_context else [])
                sims = np.array([max(float((windows[(s.doc_id, s.index)] @ p).max()) for p in probes) for s in cited])
                cited_text = " ".join(s.text for s in cited)
                coverage, novel = self.word_coverage(compared[i], cited_text, question_text)
                order = np.argsort(-sims)
                # A number the question itself states ("since 1997") may come from any cited sentence: the
                # user's own value, not the model's invention.
                sources = tuple(
                    cited[int(j)]
                    for n, j in enumerate(order)
                    if n == 0 or sims[j] >= VALUE_SIMILARITY or asked & {q.key for q in quantities(cited[int(j)].text)}
                )
                return Assessment(
                    claim,
                    False,
                    float(sims.max()),
                    tuple(self.unsupported_values(claim.text, " ".join(s.text for s in sources), question_text)),
                    coverage,
                    sources,
                    recited,
                    novel=novel,
                )

            assessment = measure([s for n in (claim.markers or range(1, len(passages) + 1)) for s in passages[n - 1]])
            if claim.markers and self.recite and not self._passes(assessment):
                # Small models cite the wrong passage; what counts is that the retrieved article says it.
                anywhere = measure(all_sentences, recited=True)
                assessment = anywhere if self._passes(anywhere) else assessment
            out.append(assessment)
        return out

    def _passes(self, a: Assessment) -> bool:
        return (
            a.similarity >= self.threshold
            and not a.missing
            and a.coverage >= self.coverage
            and len(a.novel) <= self.max_novel
        )

    def _evidence(self, a: Assessment, question_text: str) -> tuple[Sentence, ...]:
        """The best-matching cited sentence, plus any other cited sentence needed for a value it lacks."""
        evidence = [a.sources[0]]
        for sentence in a.sources[1:]:
            lacking = len(self.unsupported_values(a.claim.text, " ".join(s.text for s in evidence), question_text))
            if not lacking:
                break
            if (
                len(
                    self.unsupported_values(
                        a.claim.text, " ".join(s.text for s in [*evidence, sentence]), question_text
                    )
                )
                < lacking
            ):
                evidence.append(sentence)
        return tuple(evidence)

    def check(self, answer: str, context: list[Document], question_text: str = "") -> Verdict:
        verdict = Verdict(opens_with_correction=bool(re.match(r"\W*correction\b", answer, re.IGNORECASE)))
        assessments = self.assess(answer, context, question_text)
        for n, a in enumerate(assessments, 1):
            cut_off = (
                n == len(assessments)
                and len(a.claim.text.split()) >= 8
                and not re.search(r"[.!?][\"”’)]*$", a.claim.text)
            )
            if a.refusal:
                if verdict.refusal is None and not verdict.kept:
                    # A refusal claims nothing about the article; keep its wording unless it smuggles in a value.
                    verdict.refusal = a.claim.text if not a.missing else "The article does not say."
                else:
                    verdict.dropped.append(Dropped(a.claim, "refusal after an answer"))
            elif a.repeated:
                verdict.dropped.append(Dropped(a.claim, "repeated sentence"))
            elif cut_off or _DANGLING.search(a.claim.text):  # cut off by max_tokens, or lost its answer
                verdict.dropped.append(Dropped(a.claim, "unfinished sentence"))
            elif a.similarity < self.threshold:
                verdict.dropped.append(Dropped(a.claim, f"similarity {a.similarity:.2f} < {self.threshold:.2f}"))
            elif a.missing:
                verdict.dropped.append(Dropped(a.claim, f"{', '.join(a.missing)} not in cited text"))
            elif a.coverage < self.coverage or len(a.novel) > self.max_novel:
                verdict.dropped.append(
                    Dropped(a.claim, f"word coverage {a.coverage:.2f}, new words {', '.join(a.novel)}")
                )
            else:
                cue = bool(_CORRECTION_CUE.search(a.claim.text) or _DENIAL.search(a.claim.text))
                verdict.kept.append(Kept(a.claim, a.similarity, self._evidence(a, question_text), a.recited, cue))
        return verdict
