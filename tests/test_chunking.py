from itertools import pairwise

from assistant.chunking import chunk_document
from assistant.corpus import load_corpus, parse_document
from tests.conftest import CORPUS


def words(text: str) -> int:
    return len(text.split())


def test_chunks_stay_in_one_paragraph_and_cover_every_sentence(bot):
    doc = load_corpus(CORPUS).documents[0]
    chunks = chunk_document(doc, bot.embeddings.count_tokens, max_tokens=96, overlap=1)
    covered = set()
    for c in chunks:
        sentences = doc.sentences[c.sentence_start : c.sentence_end]
        assert {s.paragraph for s in sentences} == {c.paragraph}
        assert doc.text[c.char_start : c.char_end] == c.text
        covered.update(range(c.sentence_start, c.sentence_end))
    assert covered == set(range(len(doc.sentences)))


def test_token_budget_and_overlap(tmp_path):
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(10))
    doc = parse_document("t", text, tmp_path / "t.txt")
    chunks = chunk_document(doc, words, max_tokens=21, overlap=1)
    assert all(words(c.text) <= 21 for c in chunks)
    # Each chunk starts with the last sentence of the one before it.
    for a, b in pairwise(chunks):
        assert b.sentence_start == a.sentence_end - 1
    assert chunks[-1].sentence_end == 10


def test_oversized_sentence_is_its_own_chunk(tmp_path):
    doc = parse_document("t", "Short one. " + "Word " * 50 + "end. Short two.", tmp_path / "t.txt")
    chunks = chunk_document(doc, words, max_tokens=10, overlap=0)
    assert [c.sentence_end - c.sentence_start for c in chunks] == [1, 1, 1]


def test_chunk_ids_are_stable_and_content_addressed(bot, tmp_path):
    doc = parse_document("t", "Alpha beta. Gamma delta.", tmp_path / "t.txt")
    first = chunk_document(doc, words, 96, 1)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in chunk_document(doc, words, 96, 1)]
    changed = parse_document("t", "Alpha beta. Gamma epsilon.", tmp_path / "t.txt")
    assert first[0].chunk_id != chunk_document(changed, words, 96, 1)[0].chunk_id
