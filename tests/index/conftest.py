"""Fixtures shared by the index tests: the tiny corpus, its parts, and ingest stand-ins for the store."""
from __future__ import annotations

import pytest

from index import store
from index.dense import DenseIndex
from index.encoders import FakeEncoder
from index.lexical import DEFAULT_TOKENIZER_MODE, LexicalIndex, harvest_terms, new_segmenter, tokenize
from tests.index import helpers


@pytest.fixture(scope="session")
def corpus():
    """(documents by id, chunks) of the four test speeches, chunked at 120 characters."""
    docs = helpers.corpus_documents()
    chunks = [c for d in docs for c in helpers.local_chunk(d, max_chars=120)]
    return {d.id: d for d in docs}, chunks


@pytest.fixture(scope="session")
def parts(corpus):
    """Everything a retriever needs over the test corpus, with the fake encoder."""
    documents, chunks = corpus
    segmenter = new_segmenter(harvest_terms(d.text for d in documents.values()))

    def tok(text):
        from ingest.normalize import normalize_text

        return tokenize(normalize_text(text), DEFAULT_TOKENIZER_MODE, segmenter=segmenter)

    lexical = LexicalIndex().build([tok(c.text) for c in chunks])
    encoder = FakeEncoder()
    dense = DenseIndex().build(encoder.embed_passages([c.text for c in chunks]))
    return dict(documents=documents, chunks=chunks, lexical=lexical, dense=dense, encoder=encoder, tokenize=tok)


@pytest.fixture()
def local_ingest(monkeypatch):
    """Route update_index's ingest calls to the local stand-ins; `calls` counts documents loaded."""
    calls = {"load": 0}

    def load(path, max_bytes):
        calls["load"] += 1
        return helpers.local_load_document(path, max_bytes)

    monkeypatch.setattr(store, "_find_files", helpers.local_find_files)
    monkeypatch.setattr(store, "_file_hash", helpers.local_file_hash)
    monkeypatch.setattr(store, "_load_document", load)
    monkeypatch.setattr(store, "_chunk_document", lambda doc, size, overlap: helpers.local_chunk(doc, size, overlap))
    return calls
