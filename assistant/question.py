"""What a question asks for: its content terms, the type of answer it expects, the values it presumes."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Any

from . import nlp
from .corpus import Corpus
from .language import (
    CALENDAR_WORDS,
    MAGNITUDES,
    STOPWORDS,
    WEEKDAYS,
    Quantity,
    Span,
    bare,
    capitalized_spans,
    clauses,
    has_month,
    matches,
    normalise,
    prefix,
    proper_words,
    quantities,
    stem,
    tokens,
    words,
)
from .lexicon import CorpusLexicon, Lexicon, world_currencies

# Expected answer types, checked in order; the first pattern that matches wins.
_LEAD = r"^\W*(?:(?:and|but|so|then|also|ok|okay)\W+)?"  # "And who organised it?" is still a who-question
_TYPES: list[tuple[str, re.Pattern[str]]] = [
    # Questions about the article itself ("What is this article about?", "Summarize it").
    # "Summarize what the premier's trip involved" asks about one thing: only a summary of the article (or of
    # nothing named) is an overview.
    (
        "overview",
        re.compile(
            r"\b(this|the) (article|story|text|piece|report)( \w+){0,2} about\W*$"
            r"|\bsummar(y|ise|ize)\b(?!\s+(?:of\s+)?(?:what|how|why|who|when|where|which)\b)(?!\s+of\s+(?!(?:it|this|that|the (?:article|story|text|piece|report|news))\b))"
            r"|\b(main|key) points\b|\btl;?dr\b|\bgist\b|\boverview\b"
        ),
    ),
    # "Who is Kim Tae-hyo?" asks what the article says about a person it names, not for another name.
    (
        "identity",
        re.compile(
            r"^\W*(?i:(?:and|but|so|then|also)\W+)?(?i:who (is|was|are|were)) (?!the\b|a\b|an\b)[A-Z][\w’'-]*(\s+[A-Z][\w’'-]*)*\s*\??$"
        ),
    ),
    (
        "money",
        re.compile(
            r"\b(how much (\w+ )?money|dollars?|usd|\$|budget|cost|costs|price|worth|funding|monetary value|value of the)\b"
        ),
    ),
    (
        "date",
        re.compile(
            r"\b(exact date|what date|which date|on what date|calendar date|date of|day and month|precise date|(what|which|in what|in which) month)\b"
        ),
    ),
    (
        "names",
        re.compile(
            r"\b(names? of|what (are|were) (the )?(documents|agreements|titles)( called)?|titles?|what is the name|called)\b"
        ),
    ),
    ("year", re.compile(r"\b(what|which) (calendar )?year\b|\bby when\b")),
    (
        "fold",
        re.compile(r"\bby what factor\b|\bhow many times\b|\bhow many-fold\b|\bmultipl(y|ied)\b|\b\w+-fold\b.*\?$"),
    ),
    # "Who … talked up how much the relationship has progressed?" asks for a person: the opening wh-word wins.
    (
        "number",
        re.compile(
            rf"^(?!{_LEAD}(?:who|whom)\b).*?(?:\bhow many\b|\bhow old\b|\bhow much\b|\bwhat (number|percentage|share|proportion|factor)\b|\bby (what|how much) (factor|multiple)\b|\bhow (large|big|fast)\b|\bnumber of\b|\bhow long\b)"
        ),
    ),
    # "Which Cambodian cabinet ministers …": up to two modifiers before the person noun; "the fields in
    # which the leaders …" is a relative clause, not a question about people.
    (
        "person",
        re.compile(
            _LEAD
            + r"(who|whom)\b|(?<!in )(?<!on )(?<!of )(?<!by )\bwhich ((?!the\b)\w+ ){0,2}(leaders?|officials?|presidents?|ministers?|persons?|people|heads?)\b|\bwhose\b"
        ),
    ),
    # "Which country …" names a party, not where something happened ("in which country" is a place).
    ("country", re.compile(r"(?<!\bin )\b(which|what) (country|nation)\b")),
    # "Where does Korea rank?" asks a rank, "Where did the details come from?" a source: neither is a place.
    (
        "place",
        re.compile(
            _LEAD
            + r"where\b(?!\s+(does|do|did)\s+[\w\s]{1,50}?\b(rank|stand|place|come from)\b)|\bin (what|which) (city|country|place|capital)\b|\bwhat (city|country|venue|location|capital)\b|\b(what|which) (province|district|town|venue|location)\b"
        ),
    ),
    (
        "company",
        re.compile(
            r"\b(which|what) (\w+ )?(compan(y|ies)|firms?|corporations?|businesses|enterprises|conglomerates|banks?)\b"
        ),
    ),
    ("day", re.compile(r"\b(what|which) day\b|\bday of the week\b|\bweekday\b")),
    (
        "statement",
        re.compile(
            r"\bwhat did (?P<speaker>.+?) (?P<verb>say|tell|state|declare|remark|announce|note|highlight|emphasi[sz]e|stress|praise|pledge|propose)\b"
            r"|\bhow did .+? (describe|characteri[sz]e|call)\b"
        ),
    ),
    ("frequency", re.compile(r"\bhow (often|frequently|regularly)\b")),
    ("time", re.compile(_LEAD + r"when\b|\bwhat time\b")),
    ("reason", re.compile(_LEAD + r"(why|how come)\b")),
]
_STATEMENT = dict(_TYPES)["statement"]
_PLAIN_SAY = frozenset({"say", "tell", "state", "declare", "remark"})
# Words that only name the kind of value asked for ("which day of the week"): a sentence holding such a
# value (Thursday) covers them, though it never uses the words themselves.
TYPE_WORDS: dict[str, frozenset[str]] = {
    "day": frozenset({"day", "week", "weekday"}),
    "date": frozenset({"date", "day", "month", "calendar"}),
    "year": frozenset({"year"}),
}
RELATIVE_YEAR = re.compile(r"\b(this|next|last) year\b", re.IGNORECASE)
_TIME_UNIT = re.compile(r"\bhow many (minutes|hours|days|weeks|months|years)\b", re.IGNORECASE)
# Verbs that report what someone said: a "what did X say" question needs X as their speaker.
_SPEECH_VERB = re.compile(
    r"\b(said|says|noted|emphasi[sz]ed|highlighted|announced|praised|stated|told|remarked|declared|stressed|called|described|detailed|outlined)\b",
    re.IGNORECASE,
)
_WH = re.compile(r"\b(what|which|who|whom|when|where|why|how)\b", re.IGNORECASE)
# A pronoun that points back at what the conversation was about ("When was that?", "Who organised it?").
_POINTS_BACK = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her|there|the same)\b", re.IGNORECASE
)
_FOLLOW_UP = re.compile(rf"^\W*(and|also|what about|how about|then|so|but)\b|{_POINTS_BACK.pattern}", re.IGNORECASE)
# A sentence an answer quotes: “…” [n] (the sentence may hold quotes of its own: “Audacious Initiative,”).
_QUOTED = re.compile(r"“(.+?)” \[\d+\]")


@dataclass(frozen=True)
class Question:
    text: str  # what the user typed (trimmed)
    resolved: str  # the text in the article's words: aliases ("Phnom Penh's stance" -> "Cambodia's stance") and synonyms resolved
    query: str  # what retrieval searches for: the resolved text, plus context carried over from the history
    raw_query: str  # ``query`` in the user's own words (aliases and synonyms unresolved)
    terms: tuple[str, ...]  # content tokens of ``query``
    own_terms: tuple[str, ...]  # content tokens of ``text`` alone
    answer_type: str
    names: tuple[Span, ...] = field(default=())  # capitalised spans of ``resolved``
    context_names: tuple[str, ...] = field(default=())  # names in the previous turn a follow-up leans on
    numbers: tuple[Quantity, ...] = field(default=())
    # (doc_id, paragraph) of each sentence the previous answer quoted, when this question points back at it
    # ("When was that?"): the paragraph shown as that answer's source may hold this one's answer.
    leans_on: tuple[tuple[str, int], ...] = field(default=())

    @property
    def is_follow_up(self) -> bool:
        return self.query != self.resolved

    @property
    def is_multi_part(self) -> bool:
        return is_multi_part(self.text)


def is_multi_part(text: str) -> bool:
    """ "When were relations reestablished, and how much has trade grown?" asks two things."""
    return len(parts(text)) >= 2


# "…, and how much …": a second wh-phrase joined by "and". "… on security and on the economy": one verb
# asked about two topics, each introduced by the same kind of preposition.
_SECOND_WH = re.compile(
    r",?\s+and\s+(?=(?:(?:by|in|on|at|for|to|from|with|of|since|until)\s+)?(?:what|which|who|whom|when|where|why|how)\b)",
    re.IGNORECASE,
)
_TWO_TOPICS = re.compile(
    r"^(?P<head>.+?\b)(?P<p1>on|about|regarding|in|for)\s+(?P<a>.+?)\s+and\s+(?P<p2>on|about|regarding|in|for)\s+(?P<b>[^,]+?)(?P<end>[?.!]*)$",
    re.IGNORECASE,
)


# "Where, and on which weekday, did they meet?": two wh-phrases sharing one clause.
_SHARED_CLAUSE = re.compile(r"^(?P<a>[^,]+?),\s*and\s+(?P<b>[^,]+?),\s*(?P<rest>.+)$", re.IGNORECASE)


# "Two quick ones: how many …, and where …?", "Quick question - who …": a lead-in of chat filler only
# (a lead-in with a name, "Yoon: what did he say?", carries the subject and stays).
_PREAMBLE = re.compile(r"^(?P<lead>[^:?!.]{1,40}?)\s*(?::|\s[-–—])\s+(?P<rest>.+)$")
_FILLER = frozenset(
    "hi hello hey ok okay so well right also and then quick question questions query one ones two three couple few "
    "more another last final follow follow-up thing things curious please thanks".split()
)


def without_preamble(text: str) -> str:
    """``text`` without a lead-in of filler words ("Two quick ones: …"), whose "two" is no premise."""
    found = _PREAMBLE.match(text)
    if (
        found
        and _WH.search(found["rest"])
        and all(w in _FILLER | STOPWORDS for w in re.findall(r"[a-z-]+", found["lead"].lower()))
    ):
        return found["rest"]
    return text


def parts(text: str) -> list[str]:
    """The separate questions inside ``text``, each a question of its own; ``[text]`` when it asks one thing."""
    shared = _SHARED_CLAUSE.match(text)
    if shared and _WH.search(shared["a"]) and _WH.search(shared["b"]):
        return [f"{shared['a']} {shared['rest']}", f"{shared['b']} {shared['rest']}"]
    pieces = [p.strip(" ,") for p in _SECOND_WH.split(text)]
    if len(pieces) >= 2 and all(_WH.search(p) for p in pieces):
        return [p if p.endswith("?") else p + "?" for p in pieces]
    two = _TWO_TOPICS.match(text)
    if two and _WH.search(two["head"]):
        end = two["end"] or "?"
        return [f"{two['head']}{two['p1']} {two['a']}{end}", f"{two['head']}{two['p2']} {two['b']}{end}"]
    return [text]


def answer_type(text: str) -> str:
    for name, pattern in _TYPES:
        if pattern.search(text if name == "identity" else text.lower()):  # identity needs the capitals
            return name
    return "other"


def message_text(content: object) -> str:
    """Plain text of a chat message's content: a string, or Gradio 6's list of {"type": "text"} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p.get("text", "") if isinstance(p, dict) else str(p) for p in content if isinstance(p, (dict, str))
        )
    return ""


def _needs_context(text: str) -> bool:
    return bool(_FOLLOW_UP.search(text)) or len(tokens(text)) <= 3


def _previous_question(history: list[dict[str, Any]], depth: int = 3) -> str:
    """The last user question, plus the ones before it while they were follow-ups themselves
    ("How many attended it?" → "And who organized it?" both lean on the forum question)."""
    found: list[str] = []
    for message in reversed(history or []):
        if isinstance(message, dict) and message.get("role") == "user":
            text = message_text(message.get("content")).strip()
            if text:
                found.append(text)
                if len(found) >= depth or not _needs_context(text):
                    break
    return " ".join(found)


def _previous_answer(history: list[dict[str, Any]]) -> str:
    """The text of the last assistant turn ("" when there is none)."""
    for message in reversed(history):
        if isinstance(message, dict) and message.get("role") == "assistant":
            return message_text(message.get("content"))
    return ""


def resolve_aliases(text: str, aliases: dict[str, str]) -> str:
    """Replace aliases used as shorthand for an actor; "in/at <alias>" names a place and stays literal,
    so "Why was the summit held in Phnom Penh?" keeps its (false) premise for the generator to correct."""
    for alias in sorted(aliases, key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w-])(?<!\bin )(?<!\bat ){re.escape(alias)}(?![\w-])")
        text = pattern.sub(aliases[alias], text)
    return text


def inflections(word: str) -> list[str]:
    """``word`` with its plural ("treaty" -> "treaties", "head of government" -> "heads of …") and, for a past
    form, its "-ing" form ("backed" -> "backing"), as far as the stemmer agrees they are the same word. A
    plural key is not made singular: "talks" (the summit) must not turn "talk" into a synonym."""
    if not word.isalpha() or word.endswith("s"):
        return [word]
    if word.endswith("ed"):
        forms = {word[:-2] + "ing", word[:-1] + "ing", word[:-3] + "ing"}
    elif word.endswith("y") and word[-2:-1] not in "aeiou":
        forms = {word[:-1] + "ies"}
    else:
        forms = {word + "s", word + "es"}
    return [word, *sorted(f for f in forms if stem(f) == stem(word))]


@functools.lru_cache(maxsize=16)
def _synonym_matcher(items: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    """The pattern matching any synonym phrase, and phrase -> replacement; built once per synonym list
    (every question is resolved through it)."""
    # "landmine clearance", "landmine-clearance" and "landmine  clearance" are one phrase.
    by_key = {re.sub(r"[\s-]+", " ", k.lower()): v for k, v in items}
    phrases = (r"[\s-]+".join(re.escape(w) for w in k.split(" ")) for k in sorted(by_key, key=len, reverse=True))
    return re.compile(r"(?<![\w-])(" + "|".join(phrases) + r")(?![\w-])", re.IGNORECASE), by_key


def expand_synonyms(synonyms: dict[str, str], keep: frozenset[str] = frozenset()) -> dict[str, str]:
    """``synonyms`` plus the plural or "-ing" form of each phrase's first or last word ("backed" ->
    "backing", "head of government" -> "heads of government"). A phrase listed in its own right keeps its
    entry, and a form the article itself uses (``keep``: its words) stays the article's word: "promised" ->
    "pledged" must not turn the article's "promising sectors" into "pledged sectors"."""
    expanded = dict(synonyms)
    for key, value in synonyms.items():
        words = key.lower().split(" ")
        ends = [(w, [w, *words[1:]]) for w in inflections(words[0])[1:]]
        ends += [(w, [*words[:-1], w]) for w in inflections(words[-1])[1:]] if len(words) > 1 else []
        for changed, variant in ends:
            if changed not in keep:
                expanded.setdefault(" ".join(variant), value)
    return expanded


def resolve_synonyms(text: str, synonyms: dict[str, str]) -> str:
    """Replace everyday words with the article's ("commerce" -> "trade"), whole words in any case; the
    longest phrase wins ("head of state" before "state")."""
    if not synonyms:
        return text
    pattern, by_key = _synonym_matcher(tuple(synonyms.items()))
    return pattern.sub(lambda m: by_key[re.sub(r"[\s-]+", " ", m.group(0).lower())], text)


def resolve(text: str, aliases: dict[str, str], synonyms: dict[str, str]) -> str:
    return resolve_synonyms(resolve_aliases(text, aliases), synonyms)


def analyse(
    text: str,
    history: list[dict[str, Any]] | None = None,
    proper: frozenset[str] = frozenset(),
    aliases: dict[str, str] | None = None,
    synonyms: dict[str, str] | None = None,
) -> Question:
    """Analyse ``text``; a short or pronoun-led follow-up borrows the previous user turn as context.

    The rewrite is deliberately simple and documented: when the question starts with a connective
    ("and", "what about") or leans on a pronoun, or has at most three content words, the previous user
    question is appended to the retrieval query so its subject and entities are searched too.
    """
    text = without_preamble(" ".join(text.split()))
    resolved = resolve(text, aliases or {}, synonyms or {})
    own = tokens(resolved)
    previous_raw = _previous_question(history or [])
    previous = resolve(previous_raw, aliases or {}, synonyms or {})
    query, raw_query = resolved, text
    carried: tuple[str, ...] = ()
    if previous and _needs_context(text):
        query, raw_query = f"{resolved} {previous}", f"{text} {previous_raw}"
        carried = tuple(s.text for s in capitalized_spans(previous, proper))
    kind = "other" if is_multi_part(text) else answer_type(resolved)  # each part has its own type
    return Question(
        text=text,
        resolved=resolved,
        query=query,
        raw_query=raw_query,
        terms=tuple(tokens(query)),
        own_terms=tuple(own),
        answer_type=kind,
        names=tuple(capitalized_spans(resolved, proper)),
        context_names=carried,
        numbers=tuple(quantities(resolved)),
    )


TITLE = re.compile(
    r"\b(President|Prime Minister|Minister|King|Queen|Chairman|Secretary|Ambassador|Governor|Mr|Ms|Mrs|Dr)\b"
)
# Words that mark a capitalised span as an organisation, programme or place rather than a person.
_NOT_PERSON = frozenset(
    "Initiative Office Forum Partnership Nations Peninsula Business Security Economic Regional Comprehensive "
    "Agreement Ministry Committee Council Assembly Bank Fund Group Union Association Organization Agency".split()
)


def is_person_like(name: str) -> bool:
    words = name.replace("’s", "").split()
    return bool(TITLE.search(name)) or (len(words) >= 2 and not _NOT_PERSON & set(words))


def is_country_like(name: str, topic_words: frozenset[str], person_words: frozenset[str]) -> bool:
    """Whether a name reads as one of the article's countries or a variant ("North Korean", "South
    Korea’s"): it shares a word stem with the topic and is neither a person nor an organisation."""
    words = {bare(w) for w in name.split()}
    if TITLE.search(name) or words & _NOT_PERSON or words & person_words:
        return False
    return any(w[:5] == t[:5] for w in words for t in topic_words)


def is_topical(name: str, topic_words: frozenset[str]) -> bool:
    """Whether a name is made only of the article's topic words ("South Korea's", "Cambodian")."""
    return all(bare(w) in topic_words for w in name.split())


@functools.lru_cache(maxsize=8)
def _topic_terms(topic_words: frozenset[str]) -> frozenset[str]:
    """The topic words as they appear among tokens (lower case); computed once per corpus, not per sentence."""
    return frozenset(w.lower() for w in topic_words)


def _about_subject(
    sentence: str, pos: int, question: Question, topic_words: frozenset[str], lead: bool = False
) -> bool:
    """Whether the value at ``pos`` belongs to what the question asks about: its clause (with the clause a
    "which …" clause hangs on) shares a word with the question. "In what year did the summit happen?" is
    not answered by "…, President Yoon highlighted … relations in 1997"."""
    spans = clauses(sentence)
    at = next((i for i, (a, b) in enumerate(spans) if a <= pos < b), len(spans) - 1)
    # ``lead``: the clause before counts too ("At the Business Forum, attended by 250 participants").
    first = at - 1 if at and (lead or re.match(r"\s*(which|that|who)\b", sentence[spans[at][0] :])) else at
    have = set(tokens(sentence[spans[first][0] : spans[at][1]]))
    topic = _topic_terms(topic_words)
    wanted = {t for t in question.own_terms if t not in TYPE_WORDS.get(question.answer_type, ()) and t not in topic}
    prefixes = {prefix(h) for h in have}
    return not wanted or any(matches(t, have, prefixes) for t in wanted)


def time_spots(sentence: str) -> list[int]:
    """Where ``sentence`` names a point in time, by the parse: a date entity holding a year, decade or century
    ("in 874", "the 1780s", "the 10th century", "1997"), or a bare number of up to four digits governed by a
    time preposition, which the small model often labels a cardinal ("in 874")."""
    parsed = nlp.parse(sentence)
    # A date with digits: "a decade" or "the past few decades" is a span of time, not a point in it.
    spots = [e.start for e in parsed.labelled(nlp.TIME) if re.search(r"\d", e.text)]
    for entity in parsed.labelled(frozenset({"CARDINAL"})):
        if (
            re.fullmatch(r"\d{3,4}", entity.text)
            and parsed.governing_preposition(entity.start) in nlp.TIME_PREPOSITIONS
        ):
            spots.append(entity.start)
    return spots


def agents(sentence: str, question: Question) -> list[str]:
    """Who does what the question asks in ``sentence``, by the parse: the subject or by-agent of the
    question's verb ("Who founded the town?" -> "the Norse chieftain Ketil" in "… was founded … by the Norse
    chieftain Ketil"), whatever label the entity model gives the name."""
    asked = {t.lemma.lower() for t in nlp.parse(question.text).tokens if t.pos == "VERB"}
    tokens_ = nlp.parse(sentence).tokens
    found = []
    for i, verb in enumerate(tokens_):
        if verb.pos != "VERB" or verb.lemma.lower() not in asked:
            continue
        for j, child in enumerate(tokens_):
            if child.head != i or j == i:
                continue
            if child.dep == "nsubj":
                found += [child.text] if _names_someone(tokens_, j) else []
            elif child.dep == "agent":
                found += [
                    g.text
                    for k, g in enumerate(tokens_)
                    if g.head == j and g.dep == "pobj" and _names_someone(tokens_, k)
                ]
    return found


def _names_someone(tokens_: tuple[nlp.Token, ...], at: int) -> bool:
    """Whether the noun at ``at`` is or carries a name ("Ketil", "the chieftain Ketil"), not a common noun
    alone ("250 participants")."""
    return tokens_[at].pos == "PROPN" or any(
        t.head == at and t.pos == "PROPN" and t.dep in ("compound", "appos", "flat")
        for k, t in enumerate(tokens_)
        if k != at
    )


def _given_names(sentence: str) -> list[str]:
    """Names a sentence gives something, by the parse: the complement of "named"/"called" and the names
    coordinated with it ("two vessels, named Aurla and Bennick")."""
    tokens_ = nlp.parse(sentence).tokens
    given = [
        i
        for i, t in enumerate(tokens_)
        if t.dep in ("oprd", "attr") and t.pos == "PROPN" and tokens_[t.head].lemma.lower() in ("name", "call", "dub")
    ]
    given += [i for i, t in enumerate(tokens_) if t.dep == "conj" and t.head in given]
    return [tokens_[i].text for i in given]


def _new_entities(sentence: str, labels: frozenset[str] | None, question: Question) -> list[nlp.Entity]:
    """Entities of ``labels`` (any label for None) in ``sentence`` that the question does not already name."""
    asked = normalise(question.text)
    found = nlp.parse(sentence).entities if labels is None else nlp.parse(sentence).labelled(labels)
    return [e for e in found if normalise(e.text) not in asked]


_DURATION = re.compile(r"\bhow long (?:did|does|do|will|would|is|was)\b.*\b(last|take|run|go on)\b", re.IGNORECASE)
_WHEN_WORDS = re.compile(rf"\b({CALENDAR_WORDS}|this year|next year|last year)\b", re.IGNORECASE)
# "How much official development assistance …" names what is measured, like "how many peacekeepers".
_HOW_MANY = re.compile(r"\bhow (?:many|much)\s+(.*)", re.IGNORECASE)


def _counted_words(question: Question) -> set[str]:
    """Stems of the noun phrase after "how many"/"how much": "North Korean workers", "people" (not
    "attended"); none for "how much has trade grown"."""
    found = _HOW_MANY.search(question.resolved)
    words: list[str] = []
    for word in re.findall(r"[A-Za-z][\w-]*", found.group(1)) if found else []:
        if word.lower() in STOPWORDS or word.lower().endswith("ed") or word.lower() in ("times", "fold"):
            break
        # "Korean-Cambodian families": each piece qualifies the counted noun, none is a further question word.
        words.extend(stem(piece) for piece in word.split("-") if piece)
    return set(words)


def _counts(sentence: str, q: Quantity, counted: set[str], question: Question, topic_words: frozenset[str]) -> bool:
    """Whether the number ``q`` counts what "how many …" asks about: the words after it name that thing
    ("six key documents" for "documents"), or, named differently ("250 participants" for "people"), its
    clause shares another word with the question ("attended"). "Two countries committed to … peacekeeping"
    does not count peacekeepers."""
    after = {prefix(stem(w)) for w in re.findall(r"[a-z][a-z-]*", sentence[q.end : q.end + 40].lower())[:3]}
    topic = _topic_terms(topic_words)
    # The topic's names only qualify what is counted: "Korean investment" is not counted by "150-fold, and
    # South Korea …".
    counted_prefixes = {prefix(c) for c in counted}
    if after & counted_prefixes - {prefix(t) for t in topic}:
        return True
    rest = tuple(t for t in question.own_terms if prefix(t) not in counted_prefixes and t not in topic)
    # With nothing but the counted thing and the topic to go on, only the noun check can vouch for it.
    return bool(rest) and _about_subject(sentence, q.start, replace(question, own_terms=rest), topic_words, lead=True)


@functools.lru_cache(maxsize=64)
def _currency(currencies: frozenset[str]) -> re.Pattern[str]:
    """Money named by a symbol, a common currency or one of ``currencies``, inflected as the text likes
    ("krone", "kroner")."""
    named = "|".join(re.escape(c) + r"\w*" for c in sorted(currencies))
    return re.compile(rf"[$€£¥₩]|\b(dollars?|usd|euros?|pounds? sterling|{named or 'dollars'})\b", re.IGNORECASE)


_MAGNITUDE = re.compile(rf"\s*({'|'.join(MAGNITUDES)})\b", re.IGNORECASE)


def money_span(sentence: str, q: Quantity, currencies: frozenset[str] = frozenset()) -> tuple[int, int] | None:
    """Where the amount of money that number ``q`` is part of starts and ends ("240 million kroner", "$5
    billion"), or None when ``q`` is no money. Right after a number any country's currency counts;
    ``currencies`` adds the document's own names for them."""
    money = _currency(currencies | world_currencies())
    magnitude = _MAGNITUDE.match(sentence, q.end)  # "240 million kroner": the currency follows the magnitude
    rest = magnitude.end() if magnitude else q.end
    unit = money.match(sentence, len(sentence) - len(sentence[rest:].lstrip()))  # past the space before it
    if unit:
        return q.start, unit.end()
    symbol = q.start > 0 and money.match(sentence, q.start - 1, q.start)
    return (q.start - 1, rest) if symbol else None


def acting_parties(
    sentence: str, names: list[Span], question: Question, topic_words: frozenset[str], person_words: frozenset[str]
) -> list[Span]:
    """Countries among ``names`` doing what the question asks about, e.g. "Cambodia" in "Cambodia endorsed
    South Korea's initiative" for "Who endorsed it?"."""
    topic = _topic_terms(topic_words)
    if not [t for t in question.own_terms if t not in topic and t not in TYPE_WORDS.get(question.answer_type, ())]:
        return []  # nothing but the topic to go on: any country would do, so none is the answer
    found = []
    for s in names:
        # A country named as a noun ("Cambodia", not the adjective "Cambodian"), followed closely by a
        # word of the question: "Cambodia endorsed", "South Korea has become the second-largest".
        if not is_country_like(s.text, topic_words, person_words) or re.search(r"(an|ese|ish)(’s)?$", s.text):
            continue
        after = {prefix(t) for t in tokens(" ".join(sentence[s.end :].split()[:4]))}
        if after & {prefix(t) for t in question.own_terms if t not in topic}:
            found.append(s)
    return found


def satisfies(
    answer_type: str,
    sentence: str,
    question: Question,
    topic_words: frozenset[str] = frozenset(),
    proper: frozenset[str] = frozenset(),
    person_words: frozenset[str] = frozenset(),
    currencies: frozenset[str] = frozenset(),
    leaned_on: bool = False,
) -> bool:
    """Whether ``sentence`` holds the kind of value the question asks for (a number for "how many" …).
    ``leaned_on``: the sentence is in a paragraph the question points back at (``Question.leans_on``), so a
    time it names belongs to what is asked ("When was that?"), whatever words its clause shares."""
    if answer_type in ("other", "reason", "overview", "identity"):
        return True
    asked = {n.text.lower() for n in question.names} | {n.lower() for n in question.context_names}
    nums = [q for q in quantities(sentence) if q.key not in {n.key for n in question.numbers}]
    new_names = [
        s
        for s in capitalized_spans(sentence, proper)
        if s.text.lower() not in asked and not any(s.text.lower() in a or a in s.text.lower() for a in asked)
    ]
    if answer_type == "money":
        return bool(
            _currency(currencies).search(sentence)
            or _new_entities(sentence, nlp.MONEY, question)
            or any(money_span(sentence, q, currencies) for q in quantities(sentence))
        )
    if answer_type == "date":
        return has_month(sentence)
    if answer_type == "names":
        # A title is a multi-word name that is not just the article's topic ("South Korea").
        specific = [s for s in new_names if len(s.text.split()) >= 2 and not is_topical(s.text, topic_words)]
        return bool(specific) or "“" in sentence or bool(_given_names(sentence))
    if answer_type == "year":
        spots = (
            [q.start for q in nums if q.unit == "year"]
            + [m.start() for m in RELATIVE_YEAR.finditer(sentence)]
            + time_spots(sentence)
        )
        return bool(spots) if leaned_on else any(_about_subject(sentence, pos, question, topic_words) for pos in spots)
    if answer_type == "fold":
        return any(q.unit == "fold" for q in nums)
    if answer_type == "number":
        # Ordinals answer "what rank" questions, not "how many".
        ranked = re.search(r"\b(rank|largest|biggest|place|position)\b", question.text, re.IGNORECASE)
        counted = [q for q in nums if q.unit != "ord" or ranked]
        # "How many days/years …" is answered by a count of that unit ("three days"), not any number ("a decade").
        unit = _TIME_UNIT.search(question.text)
        if unit:
            stem_ = unit.group(1).lower().rstrip("s")
            # "a decade" counts years.
            counted = [
                q
                for q in counted
                if re.match(rf"\s*{stem_}s?\b", sentence[q.end :], re.IGNORECASE)
                or (stem_ == "year" and q.surface.lower() == "decade")
            ]
        if _DURATION.search(question.resolved):
            # "How long did the summit last?" wants a span of time ("two days", "a two-day summit", "for a
            # decade"), not "the first visit … in a decade".
            counted = [
                q
                for q in counted
                if re.match(r"\s*-?(minute|hour|day|week|month|year)s?\b", sentence[q.end :], re.IGNORECASE)
                or (
                    q.surface.lower() == "decade"
                    and re.search(r"\b(for|over|lasted|took)\s+(a\s+)?$", sentence[: q.start])
                )
            ]
        if re.search(r"\b(percent(age)?|per cent|%)", question.text, re.IGNORECASE):
            counted = [q for q in counted if q.unit == "percent"]
        asked = _counted_words(question)
        if asked:
            counted = [q for q in counted if _counts(sentence, q, asked, question, topic_words)]
        return bool(counted)
    if answer_type == "country":
        # The asked-for party is one the question does not already name (topical names count here).
        return any(is_country_like(s.text, topic_words, person_words) for s in new_names)
    specific = [s for s in new_names if not is_topical(s.text, topic_words)]
    if answer_type == "person":
        # "Kim announced …": a lone surname counts when the article names that person in full elsewhere.
        # "Who endorsed it?" is answered by a country doing it: "Cambodia endorsed …".
        return (
            any(is_person_like(s.text) or s.text in person_words for s in specific)
            or bool(acting_parties(sentence, new_names, question, topic_words, person_words))
            or bool(_new_entities(sentence, nlp.PERSON, question))
            or bool(agents(sentence, question))
        )
    new_names = specific
    if answer_type == "place":
        # A place answer is named where something happened: "in Seoul", "at the Business Forum".
        asked_direction = nlp.DIRECTIONAL_PREPOSITIONS & set(words(question.text.lower()))
        where = nlp.LOCATIVE_PREPOSITIONS | asked_direction
        parsed = nlp.parse(sentence)
        # The label alone misleads on rare names ("on Strandgata" labelled a nationality): a name the
        # preposition governs is the place, whatever its label, unless it is a person or a time.
        not_places = nlp.PERSON | nlp.TIME | nlp.COUNT
        return any(re.search(r"\b(in|at)\s+(the\s+)?$", sentence[: s.start]) for s in new_names) or any(
            parsed.governing_preposition(e.start) in where and (e.label in nlp.PLACE or e.label not in not_places)
            for e in _new_entities(sentence, None, question)
        )
    if answer_type == "statement":
        # The speaker must be the one asked about: named in the sentence, or its pronoun subject.
        speakers = [n.text for n in question.names if is_person_like(n.text) or len(n.text.split()) == 1]
        said = _SPEECH_VERB.search(sentence)
        # "What did Kim announce?" is answered where Kim announces, not where he praises.
        verb = next((m["verb"] for m in _STATEMENT.finditer(question.resolved.lower()) if m["verb"]), None)
        if verb and verb not in _PLAIN_SAY:
            said = said if prefix(stem(verb)) in {prefix(t) for t in tokens(sentence)} else None
        speaker_named = not speakers or any(any(w in sentence for w in name.split()) for name in speakers)
        return bool(said) and (speaker_named or bool(re.match(r"^(He|She|They)\b", sentence)))
    if answer_type == "day":
        return bool(re.search(rf"\b({WEEKDAYS})\b", sentence, re.IGNORECASE)) or has_month(sentence)
    if answer_type == "frequency":
        return bool(
            re.search(
                r"\b(annual(ly)?|yearly|biennial|every|each (year|month|week)|weekly|monthly|regular(ly)?|twice|once a|times a)\b",
                sentence,
                re.IGNORECASE,
            )
        )
    if answer_type == "time":
        # A time that belongs to what is asked: "When will the trade agreement be signed?" is not answered by
        # "… and achieving carbon neutrality by 2050".
        spots = (
            [q.start for q in nums if q.unit == "year"]
            + [m.start() for m in _WHEN_WORDS.finditer(sentence)]
            + time_spots(sentence)
        )
        # "When is it due to start?" after "Where is the demining effort?": its subject was named before.
        about = replace(question, own_terms=question.terms) if question.is_follow_up else question
        return bool(spots) if leaned_on else any(_about_subject(sentence, pos, about, topic_words) for pos in spots)
    if answer_type == "company":
        # A firm's name the question does not already use ("Korea-Cambodia Business Forum" does not answer
        # "which companies took part in the business forum?"): not a person, country, office or programme.
        asked_words = {prefix(t) for t in question.own_terms}
        return any(
            not asked_words & {prefix(t) for t in tokens(s.text)}
            and not TITLE.search(s.text)
            and not set(s.text.replace("’s", "").split()) & (person_words | _NOT_PERSON - {"Bank", "Group"})
            and not is_country_like(s.text, topic_words, person_words)
            and not re.search(r"\b(in|at|on)\s+$", sentence[: s.start])  # a place or a day, not a firm
            for s in new_names
        )
    return True


# "since 97", "in '97": a two-digit number after a time preposition or an apostrophe, not counting anything
# ("in 50 years" is a count).
_SHORT_YEAR = re.compile(
    r"(?:(?P<lead>\b(?:since|in|from|until|before|after) )['’]?|(?<![\w’'])['’])(?P<yy>\d{2})"
    r"(?=\s*(?:[?!,;:)]|\.(?!\d)|$|\s(?:and|or|when|to|until|onwards?|on)\b))"
)


class QuestionAnalyser:
    """What the corpus knows about its own vocabulary, used to read questions against it: which words are
    names, which names are the topic, which aliases stand for what, and which names/numbers occur at all."""

    def __init__(self, corpus: Corpus) -> None:
        texts = [s.text for s in corpus.sentences]
        self.proper = proper_words(texts)
        spans_of = [[sp.text for sp in capitalized_spans(text, self.proper)] for text in texts]
        word_df: dict[str, int] = {}
        for spans in spans_of:
            for word in {bare(w) for sp in spans for w in sp.split()}:
                word_df[word] = word_df.get(word, 0) + 1
        # Capitalised words in many sentences are the article's topic (the two countries), not answers.
        self.topic_words = frozenset(w for w, n in word_df.items() if n >= 3)
        spans = [sp.removesuffix("’s") for sentence_spans in spans_of for sp in sentence_spans]
        # The name part of "Cambodian Prime Minister Hun Manet" (after the title), not the demonym before it.
        names = [TITLE.split(sp)[-1].split() for sp in spans if is_person_like(sp)]
        self.person_words = frozenset(
            w
            for name in names
            if not any(w.startswith(t) for w in name for t in self.topic_words)
            for w in name  # not "North Korean"
        )
        self.lexicon = CorpusLexicon(corpus)
        self._sentence_of = {s.text: s for s in corpus.sentences}  # to find the sentences an answer quoted
        self.text = normalise(" ".join(d.text for d in corpus.documents))
        self.words = frozenset(words(self.text))
        self.currencies = self.lexicon.everything.currencies
        # Every year the text names, of any era ("874", "the 1780s"), read from the parse.
        self.all_years = sorted(
            {int(m) for t in texts for s in time_spots(t) for m in re.findall(r"\d{3,4}", t[s : s + 12])[:1]}
        )
        self.number_keys = frozenset(q.key for d in corpus.documents for q in quantities(d.text))
        self.years = sorted({int(q.value) for d in corpus.documents for q in quantities(d.text) if q.unit == "year"})
        # The titles the article gives each person ("Hun" -> {"Prime Minister"}), to catch a swapped one.
        titles: dict[str, set[str]] = {}
        for sp in spans:
            for word in TITLE.split(sp)[-1].split() if TITLE.search(sp) and is_person_like(sp) else []:
                titles.setdefault(word, set()).update(TITLE.findall(sp))
        self.titles = {w: frozenset(t) for w, t in titles.items()}
        # Roles the text gives people by apposition, any title word ("Drost" -> {"commissioner"}), by the parse.
        self.roles: dict[str, frozenset[str]] = {}
        for text in texts:
            for role in nlp.roles(nlp.parse(text)):
                self.roles[role.name] = self.roles.get(role.name, frozenset()) | {role.lemma}

    def analyse(self, text: str, history: list[dict[str, Any]] | None = None) -> Question:
        # Read with the lexicon of the documents this question (and the turn it follows up) is about.
        lexicon = self.lexicon.for_question(" ".join([text, _previous_question(history or [])]))
        question = analyse(self.full_years(text), history, self.proper, lexicon.aliases, self._synonyms(lexicon))
        if not _POINTS_BACK.search(question.text):
            return question
        quoted = [self._sentence_of.get(q) for q in _QUOTED.findall(_previous_answer(history or []))]
        leans_on = dict.fromkeys((s.doc_id, s.paragraph) for s in quoted if s)
        return replace(question, leans_on=tuple(leans_on))

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one analyser per corpus, kept for its life
    def _synonyms(self, lexicon: Lexicon) -> dict[str, str]:
        return expand_synonyms(lexicon.synonyms, keep=self.words)

    def parts(self, question: Question, history: list[dict[str, Any]] | None = None) -> list[Question]:
        """Each part of a question that asks several things, analysed on its own; later parts read the
        earlier ones as context ("… and how did Yoon describe that step?"). Empty for a one-part question."""
        texts = parts(question.resolved)
        if len(texts) < 2:
            return []
        earlier, found = list(history or []), []
        for text in texts:
            found.append(self.analyse(text, earlier))
            earlier.append({"role": "user", "content": text})
        return found

    def full_years(self, text: str) -> str:
        """ "since 97" / "in '97" written out as the one article year it abbreviates ("since 1997"), so the
        short form is neither taken for a count nor corrected as a number the article never mentions."""

        def expand(m: re.Match[str]) -> str:
            found = [y for y in self.years if y % 100 == int(m["yy"])]
            return f"{m['lead'] or ''}{found[0]}" if len(found) == 1 else m.group(0)

        return _SHORT_YEAR.sub(expand, text)

    def _known_word(self, word: str) -> bool:
        # Demonyms and possessives count as known: "Korean" for "Korea", "Cambodian" for "Cambodia".
        return word in self.words or any(word[:cut] in self.words for cut in range(max(4, len(word) - 2), len(word)))

    def known_name(self, name: str) -> bool:
        """Whether the article mentions ``name`` (or each of its words, allowing demonym endings)."""
        norm = normalise(name).removesuffix("'s")
        return norm in self.text or all(self._known_word(w) for w in words(norm))

    def spans_known_year(self, text: str, quantity: Quantity) -> bool:
        """Whether ``quantity`` is a decade or century written as "the 1780s" / "the 1800s" that holds a year
        the corpus mentions: the question's period then agrees with the text's year."""
        if text[quantity.end : quantity.end + 1] != "s" or quantity.value % 10:
            return False
        width = 100 if quantity.value % 100 == 0 else 10
        return any(quantity.value <= year < quantity.value + width for year in self.all_years)

    def known_number(self, quantity: Quantity) -> bool:
        return quantity.key in self.number_keys

    def satisfies(self, answer_type: str, sentence: str, question: Question, leaned_on: bool = False) -> bool:
        return satisfies(
            answer_type,
            sentence,
            question,
            self.topic_words,
            self.proper,
            self.person_words,
            self.currencies,
            leaned_on,
        )
