"""Follow-up questions become standalone questions: by rules, or by the LLM when one is configured."""
from __future__ import annotations

import pytest

from service.answer.base import Turn
from service.answer.rewrite import is_follow_up, rule_rewrite, topic_of
from service.qa import answer_question, load_pipeline

from .llm_server import Reply

ASKED = [Turn("招商引资有哪些要求？", "要做实招商引资工作计划和主题活动。[1]")]


@pytest.mark.parametrize(("question", "standalone"), [
    ("那考核怎么做？", "招商引资考核怎么做？"),
    ("它的目标是什么？", "招商引资的目标是什么？"),
    ("其考核办法是什么？", "招商引资的考核办法是什么？"),
    ("这方面由谁负责？", "招商引资方面由谁负责？"),
    ("上述要求怎么落实？", "招商引资要求怎么落实？"),
    ("那么考核呢？", "招商引资考核呢？"),
    ("“四讲四比”主题活动领导小组的常务副组长是谁？", "“四讲四比”主题活动领导小组的常务副组长是谁？"),
    ("项目从哪里来？", "项目从哪里来？"),
])
def test_rule_rewrite_keeps_the_topic(question, standalone):
    assert rule_rewrite(question, ASKED) == standalone


def test_rule_rewrite_follows_a_chain_and_english_follow_ups():
    chain = ASKED + [Turn("那考核怎么做？", "")]
    assert rule_rewrite("那么由谁负责？", chain) == "招商引资考核由谁负责？"
    english = [Turn("What are the requirements for attracting investment?", "")]
    assert rule_rewrite("How is it assessed?", english) == "How is attracting investment assessed?"
    assert rule_rewrite("What about assessment?", ASKED) == "What about assessment regarding 招商引资?"
    assert rule_rewrite("那考核怎么做？", []) == "那考核怎么做？"


def test_topic_and_follow_up_detection():
    assert topic_of("“四讲四比”主题活动领导小组的常务副组长是谁？") == "“四讲四比”主题活动领导小组"
    assert topic_of("对工业推进情况坚持怎样的调度和考核节奏？") == "工业推进情况坚持"
    assert is_follow_up("那考核怎么做？") and is_follow_up("考核呢？") and is_follow_up("And what about it?")
    assert not is_follow_up("帮扶企业要提高温度，具体从哪几个方面帮？")


def test_extractive_pipeline_rewrites_before_retrieval(fake_index):
    pipeline = load_pipeline(fake_index)
    answer = answer_question(pipeline, "那考核怎么做？", history=ASKED)
    assert answer.question == "那考核怎么做？" and answer.rewritten_question == "招商引资考核怎么做？"
    assert "招商" in " ".join(h.chunk.text for h in answer.retrieved[:3])
    assert "rewrite" in answer.timings_ms
    assert answer_question(pipeline, "招商引资有哪些要求？").rewritten_question is None


def test_llm_rewrite_is_used_and_rules_stand_in_when_it_fails(llm_settings, scripted_llm):
    llm, _ = scripted_llm
    pipeline = load_pipeline(llm_settings)
    llm.queue(Reply("text", "改写后的问题：招商引资工作的考核怎么做？\n"))
    answer = answer_question(pipeline, "那考核怎么做？", history=ASKED)
    assert answer.rewritten_question == "招商引资工作的考核怎么做？"
    rewrite_prompt = llm.requests[0]["messages"][0]["content"]
    assert "第1轮问题：招商引资有哪些要求？" in rewrite_prompt and rewrite_prompt.rstrip().endswith("改写后的问题：")
    llm.queue(Reply("fail"))
    assert answer_question(pipeline, "那考核怎么做？", history=ASKED).rewritten_question == "招商引资考核怎么做？"
    off = load_pipeline(llm_settings.model_copy(update={"llm_rewrite": False}))
    before = len(llm.requests)
    assert answer_question(off, "那考核怎么做？", history=ASKED).rewritten_question == "招商引资考核怎么做？"
    assert len(llm.requests) == before + 1  # only the answer was asked of the LLM
