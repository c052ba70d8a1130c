import json
from pathlib import Path

import pytest

from assistant.corpus import CorpusError, load_corpus, parse_document, split_sentences
from tests.conftest import CORPUS


def test_article_loads_with_paragraphs_and_exact_offsets():
    corpus = load_corpus(CORPUS)
    doc = corpus.document("korea-cambodia-summit")
    assert doc.paragraph_count == 11
    assert len(doc.sentences) == 19
    for s in doc.sentences:
        assert doc.text[s.start : s.end] == s.text
    trade = next(s for s in doc.sentences if "twentyfold" in s.text)
    assert trade.paragraph == 5 and trade.text.startswith("He noted that trade volume")


def test_sidecar_metadata_gives_title_aliases_and_synonyms():
    doc = load_corpus(CORPUS).documents[0]
    assert "strategic partnership" in doc.title
    assert doc.aliases["Phnom Penh"] == "Cambodia"
    assert doc.synonyms["commerce"] == "trade"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He met Mr. Kim in Seoul. They talked.", ["He met Mr. Kim in Seoul.", "They talked."]),
        ("The U.S. delegation left. Talks went on.", ["The U.S. delegation left.", "Talks went on."]),
        ("“It is done.” He left.", ["“It is done.”", "He left."]),
        ("Trade grew 20.5 percent in 2023. Good.", ["Trade grew 20.5 percent in 2023.", "Good."]),
    ],
)
def test_sentence_splitter_handles_abbreviations_quotes_and_decimals(text, expected):
    assert [text[a:b] for a, b in split_sentences(text)] == expected


def test_markdown_paragraphs_are_blank_line_blocks_and_heading_is_title(tmp_path):
    doc = parse_document("note", "# A Title\n\nFirst line\ncontinues here. Second.\n\nNew para.", tmp_path / "note.md")
    assert doc.title == "A Title"
    assert [s.paragraph for s in doc.sentences] == [1, 1, 2]


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus directory not found"):
        load_corpus(tmp_path / "nope")


def test_empty_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no usable"):
        load_corpus(tmp_path)


def test_bad_files_are_skipped_with_a_reason_naming_them(corpus_copy: Path):
    (corpus_copy / "latin1.txt").write_bytes("Caf\xe9 society met.".encode("latin-1"))
    (corpus_copy / "empty.md").write_text("   \n")
    (corpus_copy / "zz-copy.txt").write_text((corpus_copy / "korea-cambodia-summit.txt").read_text())
    (corpus_copy / "extra.md").write_text("A second article. It has two sentences.")
    corpus = load_corpus(corpus_copy)
    assert sorted(d.doc_id for d in corpus.documents) == ["extra", "korea-cambodia-summit"]
    reasons = " | ".join(corpus.skipped)
    assert "latin1.txt: not valid UTF-8" in reasons
    assert "empty.md: empty" in reasons
    assert "zz-copy.txt: duplicate of korea-cambodia-summit.txt" in reasons


def test_unreadable_file_is_skipped(corpus_copy: Path, monkeypatch):
    secret = corpus_copy / "secret.txt"
    secret.write_text("Hidden text here.")
    original = Path.read_bytes

    def read_bytes(self):
        if self.name == "secret.txt":  # root ignores chmod, so deny the read the way the OS would
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    corpus = load_corpus(corpus_copy)
    assert any(s.startswith("secret.txt: not readable") for s in corpus.skipped)
    assert [d.doc_id for d in corpus.documents] == ["korea-cambodia-summit"]


def test_oversized_file_is_skipped(corpus_copy: Path):
    (corpus_copy / "huge.txt").write_text("Word. " * 200_000)
    corpus = load_corpus(corpus_copy, max_file_bytes=1024 * 1024)
    assert any(s.startswith("huge.txt: larger than") for s in corpus.skipped)


def test_fingerprint_changes_with_content(corpus_copy: Path):
    before = load_corpus(corpus_copy).fingerprint
    (corpus_copy / "korea-cambodia-summit.txt").write_text("Changed text. Entirely.")
    assert load_corpus(corpus_copy).fingerprint != before


def test_broken_sidecar_is_ignored(corpus_copy: Path):
    (corpus_copy / "korea-cambodia-summit.meta.json").write_text("{not json")
    doc = load_corpus(corpus_copy).documents[0]
    assert doc.title == "Korea Cambodia Summit" and doc.aliases == {}
    json.loads((CORPUS / "korea-cambodia-summit.meta.json").read_text())  # the real one stays valid
