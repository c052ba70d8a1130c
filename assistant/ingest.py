"""``assistant ingest``: add .txt/.md/.html/.pdf files to the library the index is built from.

Each accepted file becomes a normalised UTF-8 Markdown file in ``Settings.data_dir / "library"``, named
by the hash of its text, with a ``.meta.json`` sidecar (title, source path, format, when):

    library/3f2a9c0d41e8b7a6.md         # "# Title" then one paragraph per blank-line-separated block
    library/3f2a9c0d41e8b7a6.meta.json

Ingestion is idempotent: the same text (from the same or any other file) is stored once, and a second
``ingest`` of it reports a duplicate. ``corpus.load_corpus(corpus_dir, extra_dirs=library_dirs(settings))``
reads the library together with the corpus folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import MAX_FILE_BYTES, Corpus, load_corpus
from .settings import Settings

log = logging.getLogger(__name__)

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_SOURCE_BYTES = 100 * 1024 * 1024  # a PDF's bytes are mostly not text; its text must still fit MAX_FILE_BYTES
HASH_CHARS = 16
# HTML elements whose text is never article text.
_DROP = ["script", "style", "nav", "noscript", "template", "svg", "iframe", "form", "aside", "footer", "button"]
# HTML elements that each make one paragraph (or, for h2-h6, a Markdown sub-heading).
_BLOCKS = ["p", "li", "blockquote", "pre", "dd", "figcaption", "h2", "h3", "h4", "h5", "h6"]


class IngestError(Exception):
    """One file cannot be ingested; the message says why."""


@dataclass
class Extracted:
    title: str
    paragraphs: list[str]
    format: str


@dataclass
class IngestResult:
    added: list[tuple[Path, Path, str]] = field(default_factory=list)  # (source, library file, title)
    duplicates: list[tuple[Path, str]] = field(default_factory=list)  # (source, what it duplicates)
    unsupported: list[tuple[Path, str]] = field(default_factory=list)  # (source, reason)
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (source, reason)

    @property
    def changed(self) -> bool:
        return bool(self.added)


def library_dir(settings: Settings) -> Path:
    return settings.library_dir


def library_dirs(settings: Settings) -> list[Path]:
    """The extra folders ``load_corpus`` should read for these settings (``extra_dirs=``)."""
    return [library_dir(settings)]


def load_all(settings: Settings) -> Corpus:
    """The corpus folder plus the ingest library, as the index should see them."""
    return load_corpus(settings.corpus_dir, extra_dirs=library_dirs(settings))


# -- text clean-up ---------------------------------------------------------------------------------
def _clean_line(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "").replace("\u00a0", " ")
    text = "".join(ch if ch.isprintable() or ch == "\t" else " " for ch in text)
    return re.sub(r"[ \t]+", " ", text).strip()


def _join_lines(lines: list[str]) -> str:
    """One paragraph from wrapped lines, re-joining words hyphenated across a line break."""
    out = ""
    for line in (_clean_line(x) for x in lines):
        if not line:
            continue
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out


def paragraphs_from_text(text: str) -> list[str]:
    """Blank-line separated blocks; a text without blank lines is one paragraph a line (as the corpus
    loader reads .txt files)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    blocks = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text) else text.split("\n")
    return [p for p in (_join_lines(b.split("\n")) for b in blocks) if p]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        from bs4 import UnicodeDammit

        guess = UnicodeDammit(data, ["utf-8", "windows-1252", "latin-1"])
        if guess.unicode_markup is None:
            raise IngestError("cannot tell the text encoding") from None
        return guess.unicode_markup


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().title() or path.name


# -- extractors ------------------------------------------------------------------------------------
def extract_text(path: Path, data: bytes) -> Extracted:
    text = _decode(data)
    if path.suffix.lower() in (".md", ".markdown"):
        heading = re.search(r"^#\s+(.+)$", text, flags=re.M)
        title = _clean_line(heading.group(1)) if heading else _title_from_name(path)
        text = re.sub(r"^(#.*)$", r"\n\1\n", text.replace("\r\n", "\n"), flags=re.M)  # headings stand alone
        body = [p for p in paragraphs_from_text(text) if not p.startswith("#")]
        return Extracted(title, body, "markdown")
    return Extracted(_title_from_name(path), paragraphs_from_text(text), "text")


def extract_html(path: Path, data: bytes) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    title = ""
    for tag in (soup.title, soup.find("h1")):
        if tag is not None and tag.get_text(strip=True):
            title = _clean_line(tag.get_text(" ", strip=True))
            break
    for tag in soup.find_all(_DROP):
        tag.decompose()
    body = soup.body or soup
    paragraphs: list[str] = []
    for el in body.find_all(_BLOCKS):
        if el.find_parent(_BLOCKS):  # a <p> inside an <li> or <blockquote> is part of that block
            continue
        text = _clean_line(el.get_text(" ", strip=True))
        if not text:
            continue
        paragraphs.append(f"## {text}" if el.name[0] == "h" else text)
    if not [p for p in paragraphs if not p.startswith("#")]:
        # No paragraph markup at all (text straight in <div>s or <body>): one paragraph a line.
        for h1 in body.find_all("h1"):
            h1.decompose()
        paragraphs = paragraphs_from_text(body.get_text("\n"))
    return Extracted(title or _title_from_name(path), paragraphs, "html")


def extract_pdf(path: Path, data: bytes) -> Extracted:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("the PDF is password-protected")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise IngestError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    paragraphs = [p for page in pages for p in paragraphs_from_text_blocks(page)]
    if not paragraphs:
        raise IngestError("the PDF has no extractable text (a scanned image? run OCR first)")
    return Extracted(_clean_line(str(meta_title)) or _title_from_name(path), paragraphs, "pdf")


def paragraphs_from_text_blocks(page: str) -> list[str]:
    """A PDF page's paragraphs: blocks separated by blank lines, each block's wrapped lines re-joined.

    pypdf's plain extraction seldom yields blank lines, so inside a block a paragraph also ends at a line
    that closes a sentence and stops well short of the block's full line width (a paragraph's last line)."""
    page = page.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", page):
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        width = max((len(ln) for ln in lines), default=0)
        current: list[str] = []
        for line in lines:
            current.append(line)
            if width >= 40 and len(line) < 0.8 * width and re.search(r"[.!?:][\"'”’)\]]*$", line):
                paragraphs.append(_join_lines(current))
                current = []
        if current:
            paragraphs.append(_join_lines(current))
    return [p for p in paragraphs if p]


EXTRACTORS = {
    ".txt": extract_text,
    ".md": extract_text,
    ".markdown": extract_text,
    ".html": extract_html,
    ".htm": extract_html,
    ".pdf": extract_pdf,
}


def to_markdown(doc: Extracted) -> str:
    """The library file: the title as a ``#`` heading, then the paragraphs separated by blank lines.

    A body paragraph may not start with ``#`` (the loader would take it for a heading), unless it is a
    sub-heading the extractor made on purpose."""
    body = [p if p.startswith("## ") else p.lstrip("#").strip() for p in doc.paragraphs]
    return "\n\n".join([f"# {doc.title}", *[p for p in body if p]]) + "\n"


def content_hash(markdown: str) -> str:
    return hashlib.sha256(markdown.encode("utf-8")).hexdigest()


def _body_key(text: str) -> str:
    """Whitespace-insensitive key of a document's prose (headings dropped), to spot corpus duplicates."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    return hashlib.sha256(" ".join(" ".join(lines).split()).encode()).hexdigest()


def _expand(paths: Iterable[Path | str], result: IngestResult) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.endswith(".meta.json"))
            files += [p for p in inside if p.suffix.lower() in SUPPORTED]
            skipped = [p for p in inside if p.suffix.lower() not in SUPPORTED and not p.name.startswith(".")]
            result.unsupported += [(p, _unsupported(p)) for p in skipped]
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                files.append(path)
            else:
                result.unsupported.append((path, _unsupported(path)))
        else:
            result.failed.append((path, "no such file or folder"))
    return list(dict.fromkeys(files))


def _unsupported(path: Path) -> str:
    kind = f"'{path.suffix}' files" if path.suffix else "files without an extension"
    return f"{kind} are not supported (supported: {', '.join(SUPPORTED)})"


def ingest(paths: Iterable[Path | str], settings: Settings, progress: bool = False) -> IngestResult:
    """Convert ``paths`` (files or folders) into the library; see the module docstring."""
    result = IngestResult()
    files = _expand(paths, result)
    library = library_dir(settings)
    existing: dict[str, str] = {}  # content hash / body key -> what it is
    if library.is_dir():
        for md in library.glob("*.md"):
            existing[md.stem] = f"library/{md.stem}"
            with contextlib.suppress(OSError, UnicodeDecodeError):
                existing[_body_key(md.read_text(encoding="utf-8"))] = f"library/{md.stem}"
    try:
        for doc in load_corpus(settings.corpus_dir).documents:
            existing.setdefault(_body_key(doc.text), f"corpus document {doc.doc_id}")
    except Exception:  # no usable corpus folder: nothing to compare with
        pass

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [
        TextColumn("[bold]Ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
    ]
    with Progress(*columns, disable=not progress, transient=True) as bar:
        task = bar.add_task("", total=len(files))
        for path in files:
            bar.update(task, description=path.name)
            try:
                added = _ingest_one(path, library, existing)
            except IngestError as exc:
                result.failed.append((path, str(exc)))
                log.warning("not ingesting %s: %s", path, exc)
            else:
                if isinstance(added, str):
                    result.duplicates.append((path, added))
                else:
                    result.added.append((path, *added))
            bar.advance(task)
    return result


def _ingest_one(path: Path, library: Path, existing: dict[str, str]) -> tuple[Path, str] | str:
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise IngestError(f"larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    except PermissionError as exc:
        raise IngestError("not readable (permission denied)") from exc
    except OSError as exc:
        raise IngestError(f"unreadable ({exc.strerror or exc})") from exc
    doc = EXTRACTORS[path.suffix.lower()](path, data)
    if not [p for p in doc.paragraphs if not p.startswith("#")]:
        raise IngestError("no text found")
    markdown = to_markdown(doc)
    if len(markdown.encode("utf-8")) > MAX_FILE_BYTES:
        raise IngestError(f"its text is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    digest = content_hash(markdown)[:HASH_CHARS]
    body = _body_key(markdown)
    if digest in existing or body in existing:
        return existing.get(digest) or existing[body]
    library.mkdir(parents=True, exist_ok=True)
    target = library / f"{digest}.md"
    meta = {
        "title": doc.title,
        "source": str(path.resolve()),
        "format": doc.format,
        "sha256": content_hash(markdown),
        "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    # Sidecar first, text last and by rename: the loader never sees a half-written article.
    target.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial = library / f".{digest}.md.partial"
    partial.write_text(markdown, encoding="utf-8")
    partial.replace(target)
    existing[digest] = existing[body] = f"library/{digest}"
    return target, doc.title
