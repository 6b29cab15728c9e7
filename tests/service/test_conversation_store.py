"""Conversations: turns kept per id, bounded by count (least recently used dropped), age and turn count."""
from __future__ import annotations

from service.answer.base import Turn
from service.conversations import ConversationStore


def test_turns_accumulate_and_are_capped():
    store = ConversationStore(max_conversations=10, ttl_s=100, max_turns=2)
    cid, history = store.history(None, now=0)
    assert history == [] and cid.startswith("c_")
    for i in range(3):
        store.append(cid, Turn(f"q{i}", f"a{i}"), now=i)
    assert store.history(cid, now=5) == (cid, [Turn("q1", "a1"), Turn("q2", "a2")])


def test_old_conversations_expire():
    store = ConversationStore(max_conversations=10, ttl_s=60, max_turns=5)
    store.append("c1", Turn("q", "a"), now=0)
    assert store.history("c1", now=59)[1] == [Turn("q", "a")]
    new_id, history = store.history("c1", now=200)
    assert new_id != "c1" and history == [] and len(store) == 0


def test_least_recently_used_conversations_go_first():
    store = ConversationStore(max_conversations=2, ttl_s=1000, max_turns=5)
    store.append("a", Turn("q", "a"), now=0)
    store.append("b", Turn("q", "b"), now=1)
    store.append("a", Turn("q2", "a2"), now=2)  # "a" is used again, so "b" is the oldest
    store.append("c", Turn("q", "c"), now=3)
    assert len(store) == 2
    assert store.history("b", now=4)[0] != "b"
    assert store.history("a", now=4)[0] == "a"
