import pytest

from assistant.retrieval import BM25Retriever, DenseRetriever, HybridRetriever, SentenceWindowRetriever


def _paragraphs(docs):
    return [d.metadata["paragraph"] for d in docs]


@pytest.mark.parametrize("cls", [DenseRetriever, BM25Retriever])
def test_single_retrievers_rank_the_trade_paragraph_first(bot, cls):
    docs = cls(index=bot.index, k=5).invoke("How much has trade volume increased since 1997?")
    assert _paragraphs(docs)[0] == 5
    assert [d.metadata["rank"] for d in docs] == list(range(1, len(docs) + 1))
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)


def test_bm25_matches_number_forms_and_ignores_unknown_words(bot):
    bm25 = BM25Retriever(index=bot.index, k=3)
    assert _paragraphs(bm25.invoke("20-fold"))[0] == 5  # "twentyfold" in the text
    assert bm25.invoke("zzzz qqqq") == []


def test_hybrid_fuses_by_reciprocal_rank(bot):
    dense, bm25 = DenseRetriever(index=bot.index, k=5), BM25Retriever(index=bot.index, k=5)
    hybrid = HybridRetriever(retrievers=[dense, bm25], c=60, k=5)
    query = "demining project"
    fused = hybrid.invoke(query)
    expected = {}
    for r in (dense, bm25):
        for d in r.invoke(query):
            expected[d.id] = expected.get(d.id, 0) + 1 / (60 + d.metadata["rank"])
    assert [d.id for d in fused] == sorted(expected, key=expected.get, reverse=True)[:5]
    assert fused[0].metadata["score"] == pytest.approx(max(expected.values()))


def test_sentence_window_puts_the_short_fact_first_with_its_neighbours(bot):
    windows = SentenceWindowRetriever(base=bot.retriever, scorer=bot.scorer, k=3, window=1)
    docs = windows.invoke("How many multicultural families are linked to the two countries?")
    top = docs[0]
    assert "10,000 multicultural families" in top.page_content
    assert top.metadata["paragraph"] == 6
    # The window is the sentence plus its neighbour in the same paragraph.
    assert top.metadata["sentence_end"] - top.metadata["sentence_start"] == 2


def test_assistant_retrieve_returns_k_scored_passages(bot):
    docs = bot.retrieve("Who praised Cambodia for adhering to UN sanctions?", k=2)
    assert len(docs) == 2 and "Kim Tae-hyo" in docs[0].page_content
    assert all("score" in d.metadata for d in docs)


@pytest.mark.parametrize("overfetch", [1, 4])
def test_dense_returns_the_nearest_chunks_as_a_filtered_search_would(bot, overfetch):
    # The collection also holds sentence records; the retriever searches unfiltered and keeps the chunks,
    # widening the search when too few chunks come back (overfetch=1 forces that).
    query = "Which agreements were signed on defence cooperation?"
    k = bot.index.chunk_count - 1
    got = DenseRetriever(index=bot.index, k=k, overfetch=overfetch).invoke(query)
    filtered = bot.index.store.similarity_search_with_score(query, k=k, filter={"kind": "chunk"})
    assert [d.id for d in got] == [d.metadata["chunk_id"] for d, _ in filtered]
    assert [d.metadata["score"] for d in got] == pytest.approx([1 - s for _, s in filtered], abs=1e-6)


def test_dense_asks_for_more_chunks_than_exist(bot):
    docs = DenseRetriever(index=bot.index, k=bot.index.chunk_count + 5).invoke("trade")
    assert sorted(d.id for d in docs) == sorted(c.chunk_id for c in bot.index.chunks)


def test_sentence_dense_score_is_the_closer_of_the_users_and_the_resolved_wording(bot):
    # "talks" -> "summit": the resolved wording meets the article's words, the user's own keeps the phrasing
    # MiniLM knows; each sentence keeps whichever of the two is closer.
    q = bot.scorer.analyser.analyse("Once the talks ended, what kind of paper did both governments issue?")
    assert q.raw_query == q.text != q.query
    sentences = bot.index.corpus.sentences
    scored = {(s.sentence.doc_id, s.sentence.index): s.dense for s in bot.scorer.score(q, sentences)}
    dense = [scored[(s.doc_id, s.index)] for s in sentences]
    vectors = bot.index.sentence_vectors(sentences)
    resolved, raw = (vectors @ bot.embeddings.encode([w])[0] for w in (q.query, q.raw_query))
    assert all(d >= max(a, b) - 1e-5 for d, a, b in zip(dense, resolved, raw, strict=True))
    # Each wording is the closer one for some sentence, so dropping either would lower a score.
    assert (raw > resolved + 1e-3).any() and (resolved > raw + 1e-3).any()


def test_each_part_of_a_multi_part_question_finds_its_own_evidence(bot):
    # The whole question's nearest passages hold the investor ranking but not the families; the first part's
    # own search brings that sentence in, ranked after the whole question's passages.
    question = "Two quick ones: how many Korean-Cambodian families are there, and where does Korea rank as an investor in Cambodia?"
    docs = bot.retrieve(question)
    assert len(docs) > bot.settings.k and [d.metadata["rank"] for d in docs] == list(range(1, len(docs) + 1))
    assert not any("10,000" in d.page_content for d in docs[: bot.settings.k])
    assert any("10,000 multicultural families" in d.page_content for d in docs[bot.settings.k :])
    answer = bot.ask(question)
    assert answer.text.startswith("10,000 multicultural families.") and "second-largest investor" in answer.text
