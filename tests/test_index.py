import pytest

from assistant import IndexUnavailable, Settings
from assistant import index as index_module
from assistant.corpus import load_corpus
from assistant.index import open_index


@pytest.fixture
def settings(tmp_path, corpus_copy) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy)


def _collections(ix) -> list[str]:
    return sorted(c.name for c in ix.store._client.list_collections())


def test_build_then_reuse(bot, settings):
    corpus = load_corpus(settings.corpus_dir)
    first = open_index(corpus, bot.embeddings, settings)
    assert first.built and first.store._collection.count() == first.chunk_count + len(corpus.sentences)
    again = open_index(corpus, bot.embeddings, settings)
    assert not again.built and again.collection_name == first.collection_name


def test_changed_corpus_builds_a_new_collection_and_drops_the_old(bot, settings):
    first = open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings)
    (settings.corpus_dir / "extra.md").write_text("The delegation also visited Busan. It toured the port.")
    second = open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings)
    assert second.built and second.collection_name != first.collection_name
    assert _collections(second) == [second.collection_name]


def test_crash_mid_build_leaves_the_previous_index_in_use(bot, settings, monkeypatch):
    first = open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings)
    # Long enough to need several batches of new vectors (the unchanged records' vectors are copied).
    (settings.corpus_dir / "extra.md").write_text(
        " ".join(f"A new article arrives with fact number {n}." for n in range(12))
    )
    calls = {"n": 0}
    real_encode = bot.embeddings.encode

    def failing_encode(texts, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real_encode(texts, **kw)

    monkeypatch.setattr(index_module, "BATCH", 8)
    monkeypatch.setattr(bot.embeddings, "encode", failing_encode)
    with pytest.raises(Exception, match="power cut"):
        open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings)
    monkeypatch.undo()
    # No half-built collection is left behind, and the old complete one is still there and reusable.
    assert _collections(first) == [first.collection_name]
    (settings.corpus_dir / "extra.md").unlink()
    assert not open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings).built


def test_corrupted_index_directory_is_moved_aside_and_rebuilt(bot, settings):
    corpus = load_corpus(settings.corpus_dir)
    open_index(corpus, bot.embeddings, settings)
    index_module._forget_clients()
    for f in settings.index_dir.rglob("*.sqlite3"):
        f.write_bytes(b"this is not a database" * 100)
    rebuilt = open_index(corpus, bot.embeddings, settings)
    assert rebuilt.built and any("moved to" in n for n in rebuilt.notes)
    assert list(settings.data_dir.glob("chroma.corrupt-*")), "the damaged store is kept for inspection"
    assert rebuilt.store.similarity_search("trade", k=1)


def test_unreachable_chroma_server_fails_fast_with_a_clear_message(bot, settings):
    server = settings.with_overrides(chroma_mode="server", chroma_port=9, chroma_timeout=1.0)
    with pytest.raises(IndexUnavailable, match=r"cannot reach the Chroma server at http://127.0.0.1:9"):
        open_index(load_corpus(settings.corpus_dir), bot.embeddings, server)


def test_data_dir_that_is_a_file_is_a_clear_error(bot, tmp_path, corpus_copy):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(IndexUnavailable, match="cannot use the data directory"):
        open_index(load_corpus(corpus_copy), bot.embeddings, Settings(data_dir=blocker, corpus_dir=corpus_copy))


def test_sentence_vectors_come_from_the_store(bot):
    sentences = bot.corpus.sentences[:3]
    vectors = bot.index.sentence_vectors(sentences)
    direct = bot.embeddings.encode([s.text for s in sentences])
    assert vectors.shape == (3, 384)
    assert abs(float((vectors * direct).sum(axis=1).min()) - 1.0) < 1e-3


def test_adding_a_file_embeds_only_its_records(bot, settings, monkeypatch):
    first = open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings)
    (settings.corpus_dir / "extra.md").write_text("# Busan\n\nThe delegation also visited Busan. It toured the port.\n")
    encoded: list[str] = []
    real_encode = bot.embeddings.encode

    def counting_encode(texts, **kw):
        encoded.extend(texts)
        return real_encode(texts, **kw)

    monkeypatch.setattr(bot.embeddings, "encode", counting_encode)
    corpus = load_corpus(settings.corpus_dir)
    second = open_index(corpus, bot.embeddings, settings)
    extra = corpus.document("extra")
    new_texts = [s.text for s in extra.sentences] + [c.text for c in second.chunks if c.doc_id == "extra"]
    assert second.built and sorted(encoded) == sorted(new_texts) and len(encoded) == 3
    assert second.stats.encoded == 3 and second.stats.reused == first.stats.records
    assert second.stats.reused_from == [first.collection_name]
    assert second.store._collection.count() == first.stats.records + 3
    # Copied vectors are the stored ones, and the old collection is gone after the switch.
    old = [s for s in corpus.sentences if s.doc_id != "extra"][:3]
    direct = real_encode([s.text for s in old])
    assert abs(float((second.sentence_vectors(old) * direct).sum(axis=1).min()) - 1.0) < 1e-3
    assert _collections(second) == [second.collection_name]


def test_rebuild_embeds_everything_again(bot, settings, monkeypatch):
    first = open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings)
    encoded: list[str] = []
    real_encode = bot.embeddings.encode
    monkeypatch.setattr(
        bot.embeddings, "encode", lambda texts, **kw: (encoded.extend(texts), real_encode(texts, **kw))[1]
    )
    again = open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings, rebuild=True)
    assert again.built and again.stats.reused == 0 and len(encoded) == first.stats.records
    assert _collections(again) == [again.collection_name]


def test_leftover_temporary_collections_are_dropped_by_the_next_build(bot, settings):
    first = open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings)
    client = first.store._client
    client.create_collection(f"{settings.index_prefix}-0123456789abcdef-tmp-deadbeef")  # a killed build's
    (settings.corpus_dir / "extra.md").write_text("The delegation also visited Busan. It toured the port.")
    second = open_index(load_corpus(settings.corpus_dir), bot.embeddings, settings)
    assert _collections(second) == [second.collection_name]


def test_bm25_index_is_saved_once_and_loaded_by_the_next_open(bot, settings):
    corpus = load_corpus(settings.corpus_dir)
    first = open_index(corpus, bot.embeddings, settings)
    query = [["trade", "#20fold"]]
    expected = first.bm25.retrieve(query, k=3, show_progress=False, n_threads=0)
    saved = list((settings.data_dir / "bm25").iterdir())
    assert [p.name for p in saved] == [f"{first.collection_name}-{index_module._lexical_version()}"]
    written = {f.name: f.stat().st_mtime_ns for f in saved[0].iterdir()}
    again = open_index(corpus, bot.embeddings, settings)
    got = again.bm25.retrieve(query, k=3, show_progress=False, n_threads=0)
    assert got[0].tolist() == expected[0].tolist() and got[1].tolist() == expected[1].tolist()
    assert {f.name: f.stat().st_mtime_ns for f in saved[0].iterdir()} == written  # loaded, not written again


def test_bm25_copies_of_other_collections_are_replaced(bot, settings):
    corpus = load_corpus(settings.corpus_dir)
    stale = settings.data_dir / "bm25" / f"{settings.index_prefix}-0123456789abcdef-000000000000"
    stale.mkdir(parents=True)
    (stale / "params.index.json").write_text("{}")
    index = open_index(corpus, bot.embeddings, settings)
    assert index.bm25.scores["num_docs"] == index.chunk_count
    assert [p.name for p in (settings.data_dir / "bm25").iterdir()] == [
        f"{index.collection_name}-{index_module._lexical_version()}"
    ]


def test_damaged_bm25_copy_is_rebuilt(bot, settings):
    corpus = load_corpus(settings.corpus_dir)
    first = open_index(corpus, bot.embeddings, settings)
    num_docs = first.bm25.scores["num_docs"]
    path = settings.data_dir / "bm25" / f"{first.collection_name}-{index_module._lexical_version()}"
    for f in path.iterdir():
        f.write_bytes(b"garbage")
    again = open_index(corpus, bot.embeddings, settings)
    assert again.bm25.scores["num_docs"] == num_docs


def test_batched_token_counts_chunk_like_one_call_per_sentence(bot):
    from assistant.chunking import chunk_document
    from assistant.index import chunk_corpus

    one_by_one = [c for d in bot.corpus.documents for c in chunk_document(d, bot.embeddings.count_tokens, 96, 1)]
    assert chunk_corpus(bot.corpus, bot.embeddings, Settings(chunk_tokens=96, chunk_overlap=1)) == one_by_one
    texts = [s.text for s in bot.corpus.sentences]
    assert bot.embeddings.count_tokens_many(texts) == [bot.embeddings.count_tokens(t) for t in texts]


def test_query_cache_overflow_keeps_every_vector_asked_for():
    import numpy as np

    from assistant.embeddings import MiniLMEmbeddings

    small = MiniLMEmbeddings(cache_size=3)
    first = small.encode(["trade grew twentyfold", "Seoul summit"])
    # One cached text plus three new ones overflow the cache: it is emptied, yet every vector comes back.
    again = small.encode(["trade grew twentyfold", "demining", "peacekeeping", "scholarships"])
    assert again.shape == (4, 384) and np.allclose(again[0], first[0], atol=1e-6)
