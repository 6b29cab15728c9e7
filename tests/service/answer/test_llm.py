"""The LLM generator end to end on the sample speeches (fake encoder) with the scripted server standing in."""
from __future__ import annotations

import re

import pytest

from service.answer.base import Answer
from service.answer.extractive import split_sentences
from service.answer.grounding import UNSUPPORTED_MARK
from service.qa import answer_question, load_pipeline, stream_answer

from .llm_server import Reply

QUESTION = "帮扶企业要提高温度，具体从哪几个方面帮？"


def _assert_grounded(answer: Answer) -> None:
    """Every citation is a retrieved passage, every marker has a citation, every cited claim is in its passage."""
    retrieved = {h.chunk.id for h in answer.retrieved}
    numbers = {c.n for c in answer.citations}
    assert answer.citations and all(c.hit.chunk.id in retrieved for c in answer.citations)
    assert numbers == set(range(1, len(numbers) + 1))
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == numbers


def test_answer_cites_only_retrieved_passages(llm_settings):
    answer = answer_question(load_pipeline(llm_settings), QUESTION)
    assert answer.answerable and answer.generator == "openai" and not answer.fallback
    assert answer.grounded_ratio == 1.0
    _assert_grounded(answer)
    for c in answer.citations:  # the quote is made of the cited passage's sentences
        rest = c.quote
        for start, end in split_sentences(c.hit.chunk.text):
            rest = rest.replace(c.hit.chunk.text[start:end], "")
        assert c.quote and rest == ""


def test_stream_shows_the_checked_sentences_and_ends_with_the_answer(llm_settings, scripted_llm):
    llm, _ = scripted_llm
    pipeline = load_pipeline(llm_settings)
    passage = pipeline.retriever.search(QUESTION, top_k=5)[0].chunk.text
    supported = passage.split("。")[1] + "。"
    llm.queue(Reply("text", f"{supported}[1]全市今年要新建三个千亿产业园区。[1]{supported}[9]"))
    hits, *items = list(stream_answer(pipeline, QUESTION))
    final = items[-1]
    pieces = items[:-1]
    assert isinstance(hits, list) and isinstance(final, Answer) and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == final.text == f"{supported}[1]{supported}[1]"  # invented sentence never shown
    assert "千亿" not in "".join(pieces)
    assert final.grounded_ratio == pytest.approx(2 / 3) and len(final.citations) == 1
    assert llm.requests[-1]["stream"] is True


def test_unsupported_sentences_are_marked_when_configured(llm_settings, scripted_llm):
    llm, _ = scripted_llm
    pipeline = load_pipeline(llm_settings.model_copy(update={"grounding_unsupported": "mark"}))
    passage = pipeline.retriever.search(QUESTION, top_k=5)[0].chunk.text
    supported = passage.split("。")[1] + "。"
    llm.queue(Reply("text", f"{supported}[1]全市今年要新建三个千亿产业园区。"))
    answer = answer_question(pipeline, QUESTION)
    assert answer.text == f"{supported}[1]全市今年要新建三个千亿产业园区。{UNSUPPORTED_MARK}"
    assert answer.grounded_ratio == 0.5


@pytest.mark.parametrize("reply", [Reply("fail"), Reply("badjson"), Reply("nochoices"), Reply("slow", delay=3.0),
                                   Reply("text", "今年天气很好，适合出游。[1]")])
@pytest.mark.parametrize("streaming", [False, True])
def test_failing_or_unsupported_llm_falls_back_to_the_extractive_answer(llm_settings, scripted_llm, reply, streaming):
    llm, _ = scripted_llm
    llm.queue(reply)
    pipeline = load_pipeline(llm_settings.model_copy(update={"llm_timeout": 0.5}))
    if streaming:
        _hits, *pieces, answer = list(stream_answer(pipeline, QUESTION))
        assert "".join(pieces).strip()
    else:
        answer = answer_question(pipeline, QUESTION)
    assert answer.fallback and answer.fallback_reason and answer.generator == "extractive"
    assert answer.answerable and answer.text.strip() and answer.grounded_ratio is None
    assert any("摘录式回答" in note for note in answer.notes)
    _assert_grounded(answer)


def test_weak_evidence_is_refused_without_asking_the_llm(llm_settings, scripted_llm):
    llm, _ = scripted_llm
    answer = answer_question(load_pipeline(llm_settings), "火星移民计划的预算是多少？")
    assert not answer.answerable and not answer.citations and llm.requests == []
    assert answer.text == "资料库中的讲话和文件没有回答这个问题。"


def test_llm_refusal_is_an_unanswerable_answer(llm_settings, scripted_llm):
    llm, _ = scripted_llm
    llm.queue(Reply("text", "资料库中的讲话和文件没有回答这个问题。"))
    answer = answer_question(load_pipeline(llm_settings), QUESTION)
    assert not answer.answerable and not answer.citations and not answer.fallback
    assert answer.text == "资料库中的讲话和文件没有回答这个问题。"


def test_extractive_stays_the_default(fake_index):
    from service.answer.extractive import ExtractiveGenerator
    from service.settings import Settings

    assert Settings.model_fields["generator"].default == "extractive"
    assert isinstance(load_pipeline(fake_index).generator, ExtractiveGenerator)


def test_a_bad_backend_setting_fails_at_build_time(fake_index):
    from service.answer.base import GeneratorConfigError

    with pytest.raises(GeneratorConfigError, match="POLICYQA_LLM_BASE_URL"):
        load_pipeline(fake_index.model_copy(update={"generator": "openai"}))
    with pytest.raises(GeneratorConfigError, match="POLICYQA_LOCAL_MODEL_DIR"):
        load_pipeline(fake_index.model_copy(update={"generator": "transformers"}))


@pytest.mark.parametrize("streaming", [False, True])
def test_a_reasoning_block_is_not_part_of_the_answer(llm_settings, scripted_llm, streaming):
    llm, _ = scripted_llm
    pipeline = load_pipeline(llm_settings)
    passage = pipeline.retriever.search(QUESTION, top_k=5)[0].chunk.text
    supported = passage.split("。")[1] + "。"
    llm.queue(Reply("text", f"<think>用户问帮扶企业。我猜要发补贴。</think>\n{supported}[1]"))
    if streaming:
        _hits, *pieces, answer = list(stream_answer(pipeline, QUESTION))
        assert "".join(pieces) == answer.text
    else:
        answer = answer_question(pipeline, QUESTION)
    assert answer.text == f"{supported}[1]" and answer.grounded_ratio == 1.0


def test_streamed_llm_refusal_is_shown_once_at_the_end(llm_settings, scripted_llm):
    llm, _ = scripted_llm
    llm.queue(Reply("text", "资料库中的讲话和文件没有回答这个问题。"))
    _hits, *pieces, answer = list(stream_answer(load_pipeline(llm_settings), QUESTION))
    assert pieces == [answer.text] and not answer.answerable and not answer.fallback
