"""Follow-up questions become standalone questions before retrieval: with the LLM when one is configured, by rules
otherwise ("那考核怎么做？" after "招商引资有哪些要求？" → "招商引资考核怎么做？")."""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from ingest.normalize import contains_cjk

from .base import Turn
from .grounding import content_chars
from .llm import ChatBackend, LLMError
from .prompts import PromptSet, rewrite_messages

log = logging.getLogger("policyqa.rewrite")

# a follow-up opens with a connective or a word pointing back ("那考核呢", "这方面有什么要求", "其目标是什么")
_CONNECTIVE_ZH = re.compile(r"^(?:那么|那|还有|另外|此外|然后|再|那请问|请问)[，,、\s]*")
_POINTER_ZH = {
    "这方面": "{t}方面", "那方面": "{t}方面", "上述": "{t}", "以上": "{t}", "这些": "{t}", "那些": "{t}",
    "这个": "{t}", "那个": "{t}", "这项": "{t}", "该项": "{t}", "它们": "{t}", "它": "{t}", "其": "{t}的",
    "该": "{t}", "此": "{t}", "这": "{t}",
}
_POINTER_ZH_RE = re.compile("^(?:" + "|".join(sorted(map(re.escape, _POINTER_ZH), key=len, reverse=True)) + ")")
# where the question part of a Chinese question starts: what comes before it is the topic
_ASKING_ZH = re.compile(r"(?:有哪些|有什么|有何|是什么|是谁|是哪|是否|是多少|怎么|怎样|如何|多少|哪些|哪几|哪里|什么|为什么|吗|呢|[？?])")
_TOPIC_EDGE_ZH = re.compile(r"^(?:请问|关于|对于|对|在)|(?:的|是|有|要|在|，|,|、|\s)+$")
_CONNECTIVE_EN = re.compile(r"^(?:and|so|then|also|ok|okay)\b[\s,]*", re.I)
_POINTER_EN = re.compile(r"\b(?:it|its|this|that|these|those|they|them|their)\b", re.I)
_ABOUT_EN = re.compile(r"^(?:what|how)\s+about\b", re.I)
_TOPIC_EN = re.compile(r"\b(?:of|for|about|on|in|regarding)\s+(?:the\s+)?(.+?)[?.!]*$", re.I)


def topic_of(question: str) -> str:
    """The subject of a question: the words before its question part, up to the first 的 when there is one
    ("“四讲四比”主题活动领导小组的常务副组长是谁" → "“四讲四比”主题活动领导小组")."""
    question = question.strip()
    if not contains_cjk(question):
        m = _TOPIC_EN.search(question)
        return (m.group(1) if m else question).strip().rstrip("?.! ")
    head = _ASKING_ZH.split(question, maxsplit=1)[0]
    head = head.split("的", 1)[0] if len(head.split("的", 1)[0]) >= 2 else head
    for _ in range(3):  # edges nest ("对…的"): strip them until stable
        head = _TOPIC_EDGE_ZH.sub("", head)
    return head.strip()


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the conversation (a connective, a pointer word, or no subject of its own)."""
    q = question.strip()
    if contains_cjk(q):
        body = _CONNECTIVE_ZH.sub("", q)
        return body != q or bool(_POINTER_ZH_RE.match(body)) or len(content_chars(_ASKING_ZH.sub("", q))) <= 3
    return bool(_CONNECTIVE_EN.match(q) or _ABOUT_EN.match(q) or _POINTER_EN.search(q)) or len(q.split()) <= 3


def rule_rewrite(question: str, history: Sequence[Turn]) -> str:
    """Standalone version of `question` given earlier turns, by rules; unchanged when it is not a follow-up."""
    if not history or not question.strip():
        return question
    previous = history[0].question
    for turn in history[1:]:  # earlier follow-ups are resolved first, so the topic carries through
        previous = rule_rewrite(turn.question, [Turn(previous, "")]) if is_follow_up(turn.question) else turn.question
    if not is_follow_up(question):
        return question
    topic = topic_of(previous)
    if not topic or topic in question:
        return question
    q = question.strip()
    if contains_cjk(q):
        body = _CONNECTIVE_ZH.sub("", q)
        pointer = _POINTER_ZH_RE.match(body)
        if pointer:
            return _POINTER_ZH[pointer.group(0)].format(t=topic) + body[pointer.end():]
        overlap = next((k for k in range(min(len(topic), len(body)), 1, -1) if topic.endswith(body[:k])), 0)
        return topic + body[overlap:]  # "招商引资考核" + "考核呢" keeps one 考核
    body = _CONNECTIVE_EN.sub("", q)
    if _POINTER_EN.search(body):
        return _POINTER_EN.sub(topic, body, count=1)
    return f"{body.rstrip('?').rstrip()} regarding {topic}?"


def llm_rewrite(question: str, history: Sequence[Turn], backend: ChatBackend, prompts: PromptSet) -> str:
    """Standalone version of `question` written by the LLM; the rule-based rewrite when the LLM fails or rambles."""
    if not history or not question.strip():
        return question
    try:
        reply = backend.complete(rewrite_messages(prompts, question, history))
    except LLMError as exc:
        log.warning("follow-up rewrite by the LLM failed, using rules: %s", exc)
        return rule_rewrite(question, history)
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    candidate = re.sub(r"^(?:改写后的问题|问题|standalone question)[:：]\s*", "", lines[0] if lines else "", flags=re.I)
    candidate = candidate.strip("“”\"' ")
    if not candidate or len(candidate) > 3 * len(question) + 100 or content_chars(candidate) == content_chars(prompts.refusal):
        return rule_rewrite(question, history)
    return candidate
