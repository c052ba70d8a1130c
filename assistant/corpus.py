"""Load the articles in ``corpus/`` keeping paragraph numbers and character offsets of every sentence."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from .errors import CorpusError

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 20 * 1024 * 1024

# Tokens after which a period does not end a sentence.
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "gen",
    "gov",
    "sen",
    "rep",
    "lt",
    "col",
    "capt",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "no",
    "inc",
    "ltd",
    "co",
    "corp",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.n",
    "u.k",
    "e.u",
    "approx",
    "dept",
    "est",
}
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace, then a capital,
# digit or opening quote.
_BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*(\s+)(?=[\"“‘(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Sentence:
    doc_id: str
    paragraph: int  # 1-based paragraph number within its document
    index: int  # 0-based position among the document's sentences
    start: int  # character offsets into Document.text
    end: int
    text: str


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: Path
    title: str
    source: str
    text: str
    sentences: tuple[Sentence, ...]
    content_hash: str
    # Other names for things the text mentions ("Phnom Penh" -> "Cambodia"), from the sidecar metadata,
    # so a question using a capital as shorthand for its country is not taken for a false premise.
    aliases: dict[str, str] = field(default_factory=dict)
    # Everyday wording -> the article's own ("commerce" -> "trade"), like a search engine's synonym file:
    # questions are read in the article's words so a paraphrase still finds and matches its sentence.
    synonyms: dict[str, str] = field(default_factory=dict)

    @property
    def paragraph_count(self) -> int:
        return max((s.paragraph for s in self.sentences), default=0)

    def paragraph_text(self, number: int) -> str:
        return " ".join(s.text for s in self.sentences if s.paragraph == number)


@dataclass
class Corpus:
    documents: list[Document]
    skipped: list[str] = field(default_factory=list)  # human-readable reasons, one per skipped file
    _by_id: dict[str, Document] = field(default_factory=dict, repr=False)

    @property
    def several_documents(self) -> bool:
        """Whether a citation must name its document (with one, the paragraph says where)."""
        return len(self.documents) > 1

    @property
    def sentences(self) -> list[Sentence]:
        return [s for d in self.documents for s in d.sentences]

    def document(self, doc_id: str) -> Document:
        if len(self._by_id) != len(self.documents):
            self._by_id = {d.doc_id: d for d in self.documents}
        return self._by_id[doc_id]

    @property
    def aliases(self) -> dict[str, str]:
        return {k: v for d in self.documents for k, v in d.aliases.items()}

    @property
    def synonyms(self) -> dict[str, str]:
        return {k: v for d in self.documents for k, v in d.synonyms.items()}

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for doc in sorted(self.documents, key=lambda d: d.doc_id):
            digest.update(f"{doc.doc_id}\0{doc.content_hash}\0".encode())
        return digest.hexdigest()


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text`` (shifted by ``offset``), abbreviation-aware."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start(1)
        last_word = re.split(r"\s", text[start:end].rstrip(".!?\"'”’)]"))[-1].lower()
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
            continue
        spans.append((start, end))
        start = match.end(1)
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [(s + offset, e + offset) for s, e in spans if e > s]


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    # Blank-line separated blocks when the file has them (Markdown), else one paragraph a line.
    separator = r"\n\s*\n" if re.search(r"\n\s*\n", text) else r"\n"
    spans, pos = [], 0
    for match in re.finditer(separator, text + "\n\n" if separator == r"\n\s*\n" else text + "\n"):
        block = (pos, match.start())
        pos = match.end()
        chunk = text[block[0] : block[1]]
        if chunk.strip() and not chunk.lstrip().startswith("#"):
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((block[0] + lead, block[0] + len(chunk.rstrip())))
    return spans


def parse_document(
    doc_id: str,
    text: str,
    path: Path,
    title: str = "",
    source: str = "",
    aliases: dict[str, str] | None = None,
    synonyms: dict[str, str] | None = None,
) -> Document:
    """Split ``text`` into numbered paragraphs and offset-carrying sentences."""
    sentences: list[Sentence] = []
    for number, (p_start, p_end) in enumerate(_paragraph_spans(text), start=1):
        for start, end in split_sentences(text[p_start:p_end], offset=p_start):
            sentences.append(Sentence(doc_id, number, len(sentences), start, end, text[start:end]))
    heading = re.search(r"^#\s+(.+)$", text, flags=re.M)
    return Document(
        doc_id=doc_id,
        path=path,
        title=title or (heading.group(1).strip() if heading else doc_id.replace("-", " ").title()),
        source=source or path.name,
        text=text,
        sentences=tuple(sentences),
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        aliases=dict(aliases or {}),
        synonyms=dict(synonyms or {}),
    )


class _Metadata(TypedDict, total=False):
    """A document's ``.meta.json`` sidecar, as ``parse_document`` takes it."""

    title: str
    source: str
    aliases: dict[str, str]
    synonyms: dict[str, str]


def _read_metadata(path: Path) -> _Metadata:
    sidecar = path.with_suffix(".meta.json")
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable metadata %s: %s", sidecar, exc)
        return {}
    if not isinstance(data, dict):
        log.warning("ignoring metadata %s: not a JSON object", sidecar)
        return {}
    meta: _Metadata = {}
    if "title" in data:
        meta["title"] = str(data["title"])
    if "source" in data:
        meta["source"] = str(data["source"])
    if isinstance(data.get("aliases"), dict):
        meta["aliases"] = {str(k): str(v) for k, v in data["aliases"].items()}
    if isinstance(data.get("synonyms"), dict):
        meta["synonyms"] = {str(k): str(v) for k, v in data["synonyms"].items()}
    return meta


def _files(corpus_dir: Path, extra_dirs: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """(path, doc id) of every article: ``corpus_dir``'s files first, then each existing extra folder's,
    whose ids are prefixed with the folder's name (``library/3f2a…``)."""
    files: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    roots = [(corpus_dir, "")] + [(Path(d), f"{Path(d).name}/") for d in extra_dirs if Path(d).is_dir()]
    for root, prefix in roots:
        for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
            if path.resolve() not in seen:  # an extra folder inside the corpus folder is read once
                seen.add(path.resolve())
                files.append((path, prefix + path.relative_to(root).with_suffix("").as_posix()))
    return files


def load_corpus(
    corpus_dir: Path, max_file_bytes: int = MAX_FILE_BYTES, extra_dirs: Iterable[str | Path] = ()
) -> Corpus:
    """Load every .txt/.md file under ``corpus_dir`` and under each of ``extra_dirs`` that exists (the
    ingest library); unusable files are skipped with a named reason."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory not found: {corpus_dir} (set ASSISTANT_CORPUS_DIR)")
    documents: list[Document] = []
    skipped: list[str] = []
    seen: dict[str, str] = {}
    for path, doc_id in _files(corpus_dir, extra_dirs):
        reason = None
        text = ""  # read below; only used when no reason to skip was found
        try:
            size = path.stat().st_size
            if size > max_file_bytes:
                reason = f"larger than {max_file_bytes // (1024 * 1024)} MB ({size // (1024 * 1024)} MB)"
            else:
                data = path.read_bytes()
                if b"\0" in data:  # binary, or preallocated/sparse and never written: valid UTF-8, no article
                    reason = f"binary (NUL byte at {data.index(0)})"
                else:
                    text = data.decode("utf-8").replace("\r\n", "\n").lstrip("\ufeff")
        except PermissionError:
            reason = "not readable (permission denied)"
        except UnicodeDecodeError as exc:
            reason = f"not valid UTF-8 (byte {exc.start})"
        except OSError as exc:
            reason = f"unreadable ({exc.strerror or exc})"
        if reason is None and not text.strip():
            reason = "empty"
        if reason is None:
            doc = parse_document(doc_id, text, path, **_read_metadata(path))
            if doc.content_hash in seen:
                reason = f"duplicate of {seen[doc.content_hash]}"
            elif not doc.sentences:
                reason = "no sentences found"
            else:
                seen[doc.content_hash] = path.name
                documents.append(doc)
        if reason:
            skipped.append(f"{path.name}: {reason}")
            log.warning("skipping %s: %s", path, reason)
    if not documents:
        detail = f" (skipped: {'; '.join(skipped)})" if skipped else ""
        raise CorpusError(f"no usable .txt or .md articles in {corpus_dir}{detail}")
    return Corpus(documents, skipped)
