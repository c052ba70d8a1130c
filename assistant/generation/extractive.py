"""The default, offline backend: answers by quoting the best-supported sentences of the article.

Decision order: (1) a value the question presumes but the article never mentions is either corrected
from an aligned value in the evidence ("Seoul, not Phnom Penh") or refused; (2) evidence that lacks the
kind of value asked for (a date, a dollar amount, names) or falls below the calibrated support threshold
is refused, pointing at what the article does say nearby; (3) otherwise the best sentences are quoted,
after a direct first sentence for numbers, years and names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from langchain_core.documents import Document

from .. import nlp
from ..corpus import Sentence
from ..language import (
    CALENDAR_NAME,
    STOPWORDS,
    Quantity,
    Span,
    capitalized_spans,
    clauses,
    matches,
    normalise,
    opposites,
    prefix,
    quantities,
    stem,
    tokens,
    words,
)
from ..question import RELATIVE_YEAR, TITLE, Question, acting_parties, is_country_like, is_person_like, is_topical
from ..scoring import ScoredSentence, SentenceScorer
from . import answerability
from .answerability import AnswerabilityModel
from .base import AnswerGenerator, Draft

NEARBY_FACTOR = 0.75  # evidence this close to the threshold is worth pointing at in a refusal
EXTRA_FACTOR = 0.8  # a further sentence must score this share of the best one to be quoted too
EXTRA_FACTOR_MULTI = 0.6  # ... or this share when the question asks several things
TYPED_FACTOR = 0.85  # the sentence holding the asked-for value must be nearly as relevant as the best one,
# ... and, when the best is not specific to the subject, still this share of it: "Who was the Cambodian leader
# who last visited a decade ago?" is not answered by Kim Tae-hyo's sentence at 0.58 of the decade sentence.
TYPED_FACTOR_LOOSE = 0.6
MIN_NAME_OVERLAP = 2  # a replacement name must share this much context (or words) with the wrong one
_PLACE_PREPOSITIONS = ("in", "at")
_TOP_RANK = re.compile(r"\b(top|largest|biggest|leading|number one)\s+(?:foreign\s+)?(?P<noun>[a-z]+)", re.IGNORECASE)
_ORDINAL_RANK = re.compile(r"\b(second|third|fourth|fifth)-(largest|biggest)\s+(?P<noun>[a-z]+)", re.IGNORECASE)
# "Who is the biggest investor?" asks for the top of a ranking; "Is Korea the biggest investor?" claims it.
_ASKS_TOP = re.compile(
    r"^\W*(?:who|what|which(?:\s+\w+)?)\s+(?:is|was|are|were|has been|ranks?)\s+(?:now\s+)?(?:the\s+)?(?:single\s+)?"
    r"(?:top|largest|biggest|leading|number one)\b",
    re.IGNORECASE,
)
# A title claimed right after a name: "Hun Manet, the president", "Yoon the Cambodian prime minister".
_TITLE_AFTER = re.compile(
    r"^\s*,?\s*(?i:(?:is|was|as|the|a|an|its|their|his|her)\s+)*(?:(?!Prime\b|President\b)[A-Z][\w’']*\s+)?"
    r"(?P<title>(?i:president|prime minister|minister|king|queen))\b"
)
# Another instance of something the article reports once: "the next summit", "the previous visit".
_OTHER_INSTANCE = re.compile(r"\b(next|previous|prior|another|future|upcoming)\s+([a-z]+)\b", re.IGNORECASE)
# Questions about more than one person: "Who met …?", "Which leaders …?".
_SEVERAL = re.compile(r"\b(met|meet|meeting|talked|leaders|officials|people|both|two|together|each other)\b", re.IGNORECASE)
# "When did they first establish relations?" is not answered by "since reestablishing relations in 1997".
_FIRST_TIME = re.compile(r"\b(first|originally|initially|ever)\b", re.IGNORECASE)
_DESCRIBE = re.compile(r"^\W*(?:what|how)\s+(?:is|was|were|are)\s+(?:the\s+)?(?P<thing>[a-z]+)\s+like\b", re.IGNORECASE)
OVERVIEW_SENTENCES = 3  # lede sentences quoted for "what is the article about?"
UNIT_MATCH = 0.5  # credit for a number of the same unit (year, n-fold) as the wrong one
ANCHOR_MAX_DF = 1  # ... or share a word with the question that no other sentence uses
SUBJECT_MAX_DF = 3  # ... or hold a fairly rare question word the best sentence lacks


# "Cambodia's “Audacious Initiative”": an owner name, a possessive, then the owned name or word.
_POSSESSIVE = re.compile(r"((?:[A-Z][\w-]*\s)*[A-Z][\w-]*)['’]s\s+[\"“]?((?:[A-Z][\w-]*\s?)+|\w+)")


@dataclass(frozen=True)
class Correction:
    wrong: str
    right: str
    evidence: ScoredSentence


def _overlap(wanted: set[str], found: set[str]) -> int:
    """Shared stems, allowing different endings of one word ("attendees"/"attended")."""
    return sum(1 for w in wanted if any(w == f or (len(w) >= 5 and len(f) >= 5 and w[:5] == f[:5]) for f in found))


def _context(text: str, start: int, end: int, width: int = 6) -> set[str]:
    """Content stems within ``width`` words either side of text[start:end]."""
    before = [w for w in words(text[:start].lower()) if w not in STOPWORDS and not quantities(w)][-width:]
    after = [w for w in words(text[end:].lower()) if w not in STOPWORDS and not quantities(w)][:width]
    return {stem(w) for w in before + after}


def _is_premise(text: str, q: Quantity) -> bool:
    """Whether a number in a question asserts something: not "one" (a pronoun), not a number that is
    part of the wh-phrase ("what three qualities"), not part of a compound ("net-zero")."""
    if q.surface.lower() == "one" or text[max(0, q.start - 1) : q.start] == "-":
        return False
    if re.search(r"[=<>+*/^]\s*$", text[: q.start]) or re.match(r"\s*[=<>+*/^]", text[q.end :]):
        return False  # part of a formula or pasted code ("' OR 1=1 --"), not a claim about the world
    return _word_before(text, q.start) not in ("what", "which")


# Questions whose answer is a passage, not a value: they may quote a sentence's continuation too.
_OPEN_TYPES = frozenset({"other", "statement", "reason"})
# A sentence that goes on about the one before: "These agreements …", "He noted …", "Additionally, Kim …".
_CONTINUATION = re.compile(r"^(?:These|This|Those|Such|They|He|She|It|Additionally|Also|Moreover|Furthermore|In addition)\b")


def _continues(sentence: Sentence, previous: Sentence) -> bool:
    return (
        sentence.doc_id == previous.doc_id
        and sentence.index == previous.index + 1
        and sentence.paragraph == previous.paragraph
        and bool(_CONTINUATION.match(sentence.text))
    )


def _word_before(text: str, pos: int) -> str:
    before = words(text[:pos].lower())
    return before[-1] if before else ""


def indirect(question: str) -> str:
    """ "What is the exact date of the summit?" -> "what the exact date of the summit is" (or "")."""
    match = re.match(
        r"^(what|who|where|when|which|how many|how much)\s+(is|was|are|were)\s+(.+?)[?.!]*$", question.strip(), re.IGNORECASE
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


def _surface(value: Span | Quantity) -> str:
    return value.surface if isinstance(value, Quantity) else value.text


class ExtractiveGenerator(AnswerGenerator):
    name = "extractive"

    def __init__(
        self, scorer: SentenceScorer, threshold: float, max_sentences: int = 3, answerability: AnswerabilityModel | None = None
    ) -> None:
        self.scorer = scorer
        self.analyser = scorer.analyser
        self.threshold = threshold
        self.max_sentences = max_sentences
        self.answerability = answerability

    # -- evidence -------------------------------------------------------------------------------
    def _sentences(self, context: list[Document]) -> list[Sentence]:
        corpus = self.scorer.index.corpus
        out: list[Sentence] = []
        for doc in context:
            meta = doc.metadata
            out.extend(corpus.document(meta["doc_id"]).sentences[meta["sentence_start"] : meta["sentence_end"]])
        return out

    def _unsupported(self, question: Question) -> list[Span | Quantity]:
        """Names and numbers the question presumes that appear nowhere in the article."""
        names = [n for n in question.names if not self.analyser.known_name(n.text)]
        numbers = [
            q
            for q in question.numbers
            if not self.analyser.known_number(q)
            and not self.analyser.spans_known_year(question.resolved, q)
            and not any(n.start <= q.start < n.end for n in names)  # "Second" in "the Second World War"
            and _is_premise(question.resolved, q)
        ]
        return [*names, *numbers]

    def _anchored(self, terms: tuple[str, ...], scored: ScoredSentence) -> bool:
        """Whether the sentence shares a rare (specific) word with ``terms``, e.g. "reestablished"."""
        have = self.scorer.terms(scored.sentence)
        return any(t in have and self.scorer.document_frequency(t) <= ANCHOR_MAX_DF for t in terms)

    def _covers_what_best_lacks(self, question: Question, best: ScoredSentence, other: ScoredSentence) -> bool:
        """Whether ``other`` has a word of the question that the best sentence lacks and few sentences use:
        "Who attended the summit?" — the forum sentence has "attended", the summit sentence has "summit"."""
        best_words = self.scorer.terms(best.sentence)
        have = self.scorer.terms(other.sentence)
        return any(
            t in have and t not in best_words and 0 < self.scorer.document_frequency(t) <= SUBJECT_MAX_DF for t in question.own_terms
        )

    def _candidates(self, wrong: Span | Quantity, text: str, place_slot: bool = False) -> list[tuple[str, int, int, float]]:
        """Values in ``text`` of the same shape as ``wrong``: (surface, start, end, shared-word bonus)."""
        if isinstance(wrong, Quantity):
            return [(q.surface, q.start, q.end, 0.0) for q in quantities(text) if q.unit == wrong.unit and q.key != wrong.key]
        wrong_words = {stem(w) for w in words(wrong.text.lower())}
        found = []
        calendar = bool(CALENDAR_NAME.match(wrong.text))
        for span in capitalized_spans(text, self.analyser.proper):
            if bool(CALENDAR_NAME.match(span.text)) != calendar:
                continue  # a wrong weekday is corrected by a weekday, a wrong name never by one
            if place_slot and _word_before(text, span.start) not in _PLACE_PREPOSITIONS:
                continue  # "held in Phnom Penh" is corrected by a place ("in Seoul"), not by "a Cambodian leader"
            parts = span.text.removesuffix("’s").split()
            shared = len(wrong_words & {stem(w) for w in words(span.text.lower())})
            if shared and len(parts) > len(wrong.text.split()):
                # "Cambodian Prime Minister Hun Manet" for "Hun Sen": keep the aligned name part.
                keep = " ".join(parts[-len(wrong.text.split()) :])
                start = text.index(keep, span.start)
                span = Span(keep, start, start + len(keep))
            # Two weekdays (or months) are the same slot by their shape alone, like two years.
            found.append((span.text.removesuffix("’s"), span.start, span.end, 2.0 * shared + (1.0 if calendar else 0.0)))
        return found

    def _speaker(self, question: Question, wrong: Span | Quantity, evidence: ScoredSentence) -> list[tuple[str, int, int, float]]:
        """For a wrong person and a sentence led by "He"/"She": the person the previous sentence names, placed
        at the pronoun ("He noted that trade…" after "President Yoon highlighted…"). When the question asks
        what the wrong person said, that speaker fills the same slot (one word's worth of credit)."""
        pronoun = re.match(r"(He|She)\b", evidence.sentence.text)
        if not pronoun or isinstance(wrong, Quantity) or not is_person_like(wrong.text) or evidence.sentence.index == 0:
            return []
        before = self.scorer.index.corpus.document(evidence.sentence.doc_id).sentences[evidence.sentence.index - 1]
        people = [sp for sp in capitalized_spans(before.text, self.analyser.proper) if is_person_like(sp.text)]
        if before.paragraph != evidence.sentence.paragraph or not people:
            return []
        return [(people[0].text.removesuffix("’s"), 0, pronoun.end(), 1.0 if question.answer_type == "statement" else 0.0)]

    def _correction(self, question: Question, wrong: Span | Quantity, scored: list[ScoredSentence]) -> Correction | None:
        """The same-shaped value in the evidence whose surroundings match the question's wording."""
        wanted = set(question.own_terms) | _context(question.resolved, wrong.start, wrong.end)
        best: tuple[float, Correction] | None = None
        for evidence in scored[:5]:
            text = evidence.sentence.text
            place_slot = isinstance(wrong, Span) and _word_before(question.resolved, wrong.start) in _PLACE_PREPOSITIONS
            for surface, start, end, bonus in self._candidates(wrong, text, place_slot) + self._speaker(question, wrong, evidence):
                if normalise(surface) in normalise(question.resolved):
                    continue
                if isinstance(wrong, Span) and not nlp.same_kind(
                    nlp.parse(question.resolved).label_at(wrong.start, wrong.end), nlp.parse(text).label_at(start, end)
                ):
                    continue  # "American" is not corrected by "Minnesota", nor "the Second World War" by "German"
                overlap = _overlap(wanted, _context(text, start, end)) + bonus
                if _word_before(question.resolved, wrong.start) == _word_before(text, start):
                    overlap += 1  # "held in Phnom Penh" / "summit in Seoul": the same slot
                if isinstance(wrong, Quantity):
                    # A year or an n-fold in the best evidence is the likely subject even without shared words.
                    overlap += UNIT_MATCH if wrong.unit else 0.0
                    if overlap <= 0:
                        continue
                elif overlap < MIN_NAME_OVERLAP:
                    continue
                value = overlap + evidence.support
                if best is None or value > best[0]:
                    best = (value, Correction(_surface(wrong), surface, evidence))
        return best[1] if best else None

    def _swapped_owner(self, question: Question, scored: list[ScoredSentence]) -> Correction | None:
        """ "South Korea endorsed Cambodia's initiative" when the article says "Cambodia endorsed South
        Korea's": the same thing owned by another party the question names."""
        asked = normalise(question.resolved)
        for owner, thing in _POSSESSIVE.findall(question.resolved):
            for evidence in scored[:3]:
                if evidence.support < self.threshold:
                    continue
                for other, their_thing in _POSSESSIVE.findall(evidence.sentence.text):
                    # "Cambodia's initiative" and "South Korea's “Audacious Initiative”" name the same thing.
                    same_thing = bool({stem(w) for w in normalise(their_thing).split()} & {stem(w) for w in normalise(thing).split()})
                    # Another owner the question names, or one country for another ("North Korea's initiative");
                    # never a longer or shorter form of the same name ("Korea's").
                    mine, theirs = normalise(owner), normalise(other)
                    distinct = mine not in theirs and theirs not in mine
                    countries = all(is_country_like(n, self.analyser.topic_words, self.analyser.person_words) for n in (owner, other))
                    if same_thing and distinct and (theirs in asked or countries):
                        return Correction(f"{owner}'s {thing}", f"{other}’s {their_thing}", evidence)
        return None

    def _wrong_rank_or_year(self, question: Question, scored: list[ScoredSentence]) -> Correction | None:
        """Premises no name or number check catches: "the top investor" where the article says
        "second-largest investor", "next year" where it says "this year" for the same thing."""
        asked = question.resolved
        claims = []
        top = _TOP_RANK.search(asked)
        if top and not re.search(r"\b(second|third|fourth|fifth)\b", asked, re.IGNORECASE):
            # The ranked thing is the same when named alike: "largest source of investment" / "investor".
            nouns = {prefix(t) for t in question.own_terms}
            claims.append((top, _ORDINAL_RANK, lambda e: stem(e["noun"]) == stem(top["noun"]) or prefix(stem(e["noun"])) in nouns))
        year = RELATIVE_YEAR.search(asked)
        if year and normalise(year.group(0)) not in self.analyser.text:
            claims.append((year, RELATIVE_YEAR, lambda e: True))
        for claim, pattern, same_thing in claims:
            for evidence in scored[:3]:
                found = pattern.search(evidence.sentence.text)
                if evidence.support >= self.threshold and found and same_thing(found):
                    return Correction(claim.group(0), found.group(0), evidence)
        return None

    def _wrong_title(self, question: Question, scored: list[ScoredSentence]) -> Correction | None:
        """A person given another's title: "Is Hun Manet the president?" where the article has "Prime
        Minister Hun Manet" (and the title in front, "President Hun Manet", the same way)."""
        text = question.resolved
        for span in question.names:
            words = TITLE.split(span.text)[-1].removesuffix("’s").removesuffix("'s").split()
            held = set().union(*(self.analyser.titles.get(w, frozenset()) for w in words))
            if not held:
                continue  # not a person the article gives a title
            after = _TITLE_AFTER.match(text[span.end :])
            claimed = [*TITLE.findall(span.text), *([after["title"]] if after else [])]
            wrong = next((t for t in claimed if t.title() not in held), None)
            if not wrong:
                continue
            right = sorted(held)[0]
            for evidence in scored[:5]:
                found = re.search(rf"{right}\s+{re.escape(words[0])}(?:\s+[A-Z][\w-]*)*", evidence.sentence.text)
                if found:
                    return Correction(wrong, found.group(0).removesuffix("’s"), evidence)
        return None

    def _opposite(self, question: Question, scored: list[ScoredSentence]) -> Correction | None:
        """A premise that reverses the evidence: "Why did Cambodia reject the initiative?" where the
        article says it "endorsed" it, "Why did trade decline?" where it "increased"."""
        asked = {stem(w): w for w in re.findall(r"[a-z]+", question.resolved.lower())}
        table = opposites()
        for evidence in scored[:3]:
            if evidence.support < self.threshold:
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
                    shared = len(set(question.own_terms) & set(tokens(clause)))
                    found.append((-shared, start, Correction(f"“{asked[contrary]}”", f"“{said[word].group(0)}”", evidence)))
            if found:  # quoted: "it says “endorsed”, not “reject”" reads as words, not as a claim
                return min(found, key=lambda f: f[:2])[2]
        return None

    def _other_instance(self, question: Question) -> str:
        """ "When will the next summit be held?": the article reports one summit, so a next (previous,
        another) one is not in it, however well "summit" matches. Returns the phrase, or ""."""
        for found in _OTHER_INSTANCE.finditer(question.resolved):
            modifier, noun = found.group(1).lower(), found.group(2).lower()
            if self.scorer.document_frequency(stem(noun)) and normalise(found.group(0)) not in self.analyser.text:
                return f"{modifier} {noun}" if modifier == "another" else f"{'an' if modifier[0] in 'aeiou' else 'a'} {modifier} {noun}"
        return ""

    def _only_repeated(self, question: Question, scored: list[ScoredSentence]) -> ScoredSentence | None:
        """For "when did X first happen?", evidence that has only X happening again ("reestablishing" for
        "establish"): the article dates the repeat, not the first time."""
        if question.answer_type not in ("time", "year", "date") or not _FIRST_TIME.search(question.resolved):
            return None
        for evidence in scored:
            have = self.scorer.terms(evidence.sentence)
            if evidence.support >= self.threshold * NEARBY_FACTOR and any(f"re{t}" in have and t not in have for t in question.own_terms):
                return evidence
        return None

    def _direct(self, question: Question, top: ScoredSentence) -> str:
        """A short first sentence naming the asked-for number, year or name, when one stands out.

        The sentence is cut into clauses and the value is taken from the clause closest in meaning to the
        question, so "How much has trade grown?" picks "twentyfold" (trade) over "150-fold" (exchanges)."""
        text = top.sentence.text
        parts = clauses(text)
        closeness = self.scorer.dense(question, [text[a:b] for a, b in parts])

        def clause_score(pos: int) -> float:
            return max((float(c) for (a, b), c in zip(parts, closeness) if a <= pos < b), default=0.0)

        asked = {normalise(n.text) for n in question.names} | {normalise(n) for n in question.context_names}
        if question.answer_type in ("number", "year", "fold", "time"):
            asked_keys = {q.key for q in question.numbers}
            wanted_unit = {"year": "year", "fold": "fold", "time": "year"}.get(question.answer_type)  # "when" → a year
            found = [
                q
                for q in quantities(text)
                if q.key not in asked_keys and q.unit != "ord" and (q.unit == wanted_unit if wanted_unit else q.unit != "year")
            ]
            counted = re.search(r"\bhow many ([a-z-]+)", question.resolved, re.IGNORECASE)
            if counted:
                # "How many agreements": a count, never a span of time like "a decade".
                found = [q for q in found if q.surface.lower() != "decade"]
            if not found:
                if question.answer_type != "time":
                    return ""
                relative = RELATIVE_YEAR.search(text)
                day = re.search(r"\bon (\w+day)\b", text)  # "a summit in Seoul on Thursday"
                return f"{relative.group(0).capitalize()}." if relative else f"On {day.group(1)}." if day else ""
            q = max(found, key=lambda x: clause_score(x.start))
            if q.surface.lower() == "decade":
                return "A decade."
            unit = ""
            tail = re.match(r"\s+((?:[a-z][a-z-]+\s?){1,2})", text[q.end :])
            if tail and question.answer_type == "number" and q.unit == "":
                words = []
                for w in tail.group(1).split():
                    if w in STOPWORDS:
                        break
                    words.append(w)
                unit = " " + " ".join(words) if words else ""
            return f"{q.surface[:1].upper()}{q.surface[1:]}{unit}."
        if question.answer_type in ("person", "place", "country"):
            titles = {t for n in question.names for t in TITLE.findall(n.text)}
            spans = []
            for s in capitalized_spans(text, self.analyser.proper):
                # "Cambodian Prime Minister Hun Manet" for "Who is the Cambodian Prime Minister?": the name
                # after the asked-for title is the answer, not a repeat of the question.
                titled = bool(titles & set(TITLE.findall(s.text)))
                name = TITLE.split(s.text)[-1].strip() if titled else s.text
                if name and not any(normalise(name) in a or a in normalise(name) for a in asked):
                    spans.append((Span(name, s.start, s.end), titled))
            topic, people = self.analyser.topic_words, self.analyser.person_words
            if question.answer_type == "country":
                # The two countries are the article's topic, and so the answer only to "which country".
                spans = [(s, titled) for s, titled in spans if is_country_like(s.text, topic, people)]
            named = [s for s, _ in spans if not CALENDAR_NAME.match(s.text)]
            spans = [(s, titled) for s, titled in spans if not CALENDAR_NAME.match(s.text) and (question.answer_type == "country" or not is_topical(s.text, topic))]
            if question.answer_type == "person":
                spans = [(s, titled) for s, titled in spans if titled or is_person_like(s.text) or s.text in self.analyser.person_words]
                if not spans:  # no person: the country doing what is asked ("Who endorsed it?" -> Cambodia)
                    spans = [(s, False) for s in acting_parties(text, named, question, topic, people)]
            if spans:
                # The holder of the title the question names comes first ("the Prime Minister" -> Hun Manet).
                best, titled = max(spans, key=lambda st: (st[1], clause_score(st[0].start)))
                # "Who met in Seoul?": a pair joined by "and" ("between X and Y") answers together when the
                # question asks about more than one ("met", "leaders") and names no title it wants.
                several = bool(_SEVERAL.search(question.resolved)) and not titled
                pair = [s for s, _ in spans if several and re.fullmatch(r"\s+and\s+", text[best.end : s.start])]
                return " and ".join(n.text.removesuffix("’s") for n in [best, *pair[:1]]) + "."
        return ""

    def _part_evidence(
        self, question: Question, scored: list[ScoredSentence], history: list[dict] | None
    ) -> list[tuple[Question, ScoredSentence | None]]:
        """For a question asking several things, the best sentence for each part on its own, so one
        sentence relevant to the whole ("cooperation in politics, security, economy…") does not crowd out
        the ones that answer each part. Later parts read earlier ones as context ("how did Yoon describe
        that step?")."""
        by_sentence = {(s.sentence.doc_id, s.sentence.index): s for s in scored}
        sentences = [s.sentence for s in scored]
        found = []
        for part in self.analyser.parts(question, history):
            ranked = [s for s in self.scorer.score(part, sentences) if s.typed and s.support >= self.threshold]
            found.append((part, by_sentence[(ranked[0].sentence.doc_id, ranked[0].sentence.index)] if ranked else None))
        return found

    # -- composing ------------------------------------------------------------------------------
    @staticmethod
    def _quote(cited: list[ScoredSentence]) -> str:
        return " ".join(f"“{c.sentence.text}” [{i}]" for i, c in enumerate(cited, 1))

    def _corrected(self, fix: Correction) -> Draft:
        text = f"That premise does not match the article: it says {fix.right.strip()}, not {fix.wrong.strip()}. {self._quote([fix.evidence])}"
        return Draft(text, [(fix.evidence.sentence, fix.evidence.support)], "correction", fix.evidence.support)

    @staticmethod
    def _does_not_say(question: Question) -> str:
        focus = indirect(question.text)
        return f"The article does not say {focus}." if focus else "The article does not say."

    def _refusal(self, question: Question, what: str, scored: list[ScoredSentence]) -> Draft:
        nearby = [s for s in scored[:1] if s.support >= self.threshold * NEARBY_FACTOR]
        text = what
        if nearby:
            text += f" The closest it comes: {self._quote(nearby)}"
        return Draft(text, [(s.sentence, s.support) for s in nearby], "refusal", scored[0].support if scored else 0.0)

    def _overview(self) -> Draft:
        """ "What is this article about?": the article's own lede, quoted: the first sentence of each of the
        first paragraphs (of each document, when there are several)."""
        documents = self.scorer.index.corpus.documents
        if len(documents) == 1:
            firsts = {}
            for s in documents[0].sentences:
                firsts.setdefault(s.paragraph, s)
            lede = list(firsts.values())[:OVERVIEW_SENTENCES]
            intro = f"The article “{documents[0].title}” reports:"
        else:
            lede = [d.sentences[0] for d in documents[:OVERVIEW_SENTENCES] if d.sentences]
            intro = f"The {len(documents)} documents open with:"
        # Quoted as the article's own summary rather than scored against the question: full support.
        cited = [(s, 1.0) for s in lede]
        quotes = " ".join(f"“{s.text}” [{i}]" for i, (s, _) in enumerate(cited, 1))
        return Draft(f"{intro} {quotes}", cited, "answer", 1.0)

    def generate(self, question: Question, context: list[Document], history: list[dict]) -> Draft:
        if question.answer_type == "overview":
            return self._overview()
        scored = self.scorer.score(question, self._sentences(context))
        if not scored:
            return Draft("The article does not say anything about that.", [], "refusal", 0.0)
        by_support = sorted(scored, key=lambda s: s.support, reverse=True)  # what refusals point at
        unsupported = self._unsupported(question)
        if unsupported:
            for wrong in unsupported:
                fix = self._correction(question, wrong, scored)
                if fix and fix.evidence.support >= self.threshold * NEARBY_FACTOR:
                    return self._corrected(fix)
            names = ", ".join(_surface(w) for w in unsupported)
            parsed = nlp.parse(question.resolved)
            # A time (a weekday, a month) is a claim the article can contradict, never mere circumstance.
            if not all(isinstance(w, Span) and not CALENDAR_NAME.match(w.text) and parsed.is_adjunct(w.start) for w in unsupported):
                return self._refusal(question, f"The article does not mention {names}.", scored)
            # "… during the Second World War": a circumstance the article words otherwise. What it does say
            # about the rest is answered, with the unmatched words named.
            caveat = f"The article does not mention {names}; what it says:"
        else:
            caveat = ""

        about = _DESCRIBE.match(question.resolved)
        if about and not self.analyser.known_name(about["thing"]):
            # "What was the weather like?": the article cannot describe what it never mentions.
            return self._refusal(question, f"The article does not mention the {about['thing']}.", scored[:0])

        swap = (
            self._swapped_owner(question, scored)
            or self._wrong_rank_or_year(question, scored)
            or self._opposite(question, scored)
            or self._wrong_title(question, scored)
        )
        if swap and _ASKS_TOP.match(question.resolved) and _ORDINAL_RANK.search(swap.right):
            # Nothing was claimed, so nothing to correct: the article just never names who ranks first.
            return self._refusal(question, self._does_not_say(question), [swap.evidence])
        if swap:
            return self._corrected(swap)
        redone = self._only_repeated(question, scored)
        if redone:
            return self._refusal(question, self._does_not_say(question), [redone])
        other = self._other_instance(question)
        if other:
            return self._refusal(question, f"The article does not mention {other}.", by_support)

        best = by_support[0]
        # When the most relevant sentence is *the* one about the subject (it alone shares a word with the
        # question) yet lacks the asked-for value, a weaker sentence that has some value is not the answer.
        # The subject may come from an earlier turn ("who organised it?"); the value must answer this turn.
        best_is_specific = self._anchored(question.terms, best)
        typed = [
            s
            for s in scored
            if s.typed
            and (
                s.support >= best.support * TYPED_FACTOR
                or self._anchored(question.own_terms, s)
                or (not best_is_specific and s.support >= best.support * TYPED_FACTOR_LOOSE)
                or self._covers_what_best_lacks(question, best, s)
            )
        ]
        if not typed or typed[0].support < self.threshold:
            return self._refusal(question, self._does_not_say(question), by_support)

        top = typed[0]
        cited = [top]
        part_evidence = self._part_evidence(question, scored, history)
        answered_parts = [(part, best) for part, best in part_evidence if best]
        # Parts are scored alone, so a short one ("and how often?") can miss evidence the whole question
        # found: only a part left open beside answered ones is called out.
        unanswered = [part.text for part, best in part_evidence if not best] if answered_parts else []
        if (
            part_evidence
            and not answered_parts
            and all(part.answer_type not in ("other", "reason") for part, _ in part_evidence)
            and not any(self.analyser.satisfies(part.answer_type, top.sentence.text, part) for part, _ in part_evidence)
        ):
            # Every part asks for a value (a place, a frequency) and neither the parts' own evidence nor
            # the sentence matching the whole question holds one: quoting it would only seem to answer.
            asked = " ".join(f"“{part.text}”" for part, _ in part_evidence)
            return self._refusal(question, f"The article does not answer: {asked}", by_support)
        part_directs = [(part, self._direct(part, best)) for part, best in answered_parts]
        counts = {direct for part, direct in part_directs if part.answer_type == "number" and direct}
        if len(counts) == 1 and sum(part.answer_type == "number" for part, _ in part_directs) >= 2:
            # "How many came from Korea and how many from Cambodia?" answered twice by "250 participants":
            # one figure for several counts is a total, not the breakdown asked for.
            return self._refusal(
                question,
                f"The article gives one figure for all of that, not one for each part: {counts.pop()}",
                by_support,
            )
        for _, best_of_part in answered_parts:
            if best_of_part not in cited and len(cited) < self.max_sentences:
                cited.append(best_of_part)
        covered = {t for c in cited for t in self.scorer.terms(c.sentence)}
        own = set(question.own_terms)
        factor = EXTRA_FACTOR_MULTI if question.is_multi_part or " and " in question.text else EXTRA_FACTOR
        open_ended = question.answer_type in _OPEN_TYPES
        for candidate in scored:
            if len(cited) >= self.max_sentences:
                break
            if candidate in cited:
                continue
            if open_ended and _continues(candidate.sentence, top.sentence):
                # "… six key documents." → "These agreements focused on …": the next sentence goes on about what
                # the answer's sentence introduced, and is as relevant as it, whatever its own words score.
                cited.append(candidate)
                covered |= self.scorer.terms(candidate.sentence)
                continue
            if candidate.support < max(self.threshold, top.support * factor):
                continue
            have = self.scorer.terms(candidate.sentence)
            have_prefixes, covered_prefixes = {prefix(h) for h in have}, {prefix(c) for c in covered}
            new_terms = {t for t in own if matches(t, have, have_prefixes)} - {t for t in own if matches(t, covered, covered_prefixes)}
            if new_terms:
                cited.append(candidate)
                covered |= have
        # A multi-part question gets a direct answer per part that asks for a number or a name.
        directs = dict.fromkeys(filter(None, (direct for _, direct in part_directs)))  # once each
        direct = " ".join(directs) or self._direct(question, top)
        text = " ".join(filter(None, [caveat, direct, self._quote(cited)]))
        if unanswered:  # say which part is left open rather than let the quotes seem to answer it
            text += " The article does not answer: " + " ".join(f"“{part}”" for part in unanswered)
        seen = answerability.features(question, scored, top, self.scorer)
        chance = self.answerability.probability(seen) if self.answerability and self.answerability.judges(question) else None
        if chance is not None and self.answerability and chance < self.answerability.threshold:
            refusal = self._refusal(question, self._does_not_say(question), [top])
            refusal.features, refusal.answerability = seen, chance
            return refusal
        return Draft(text, [(c.sentence, c.support) for c in cited], "answer", top.support, features=seen, answerability=chance)

    def stream_text(self, text: str) -> Iterator[str]:
        """A sentence at a time: the direct answer, then each quoted sentence with its marker."""
        for piece in re.findall(r".*?(?:\]\s+|\.\s+(?=“)|$)", text, flags=re.S):
            if piece:
                yield piece
