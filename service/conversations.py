"""Conversations kept server-side: their earlier turns feed follow-up questions; bounded in count and age."""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from .answer.base import Turn


@dataclass
class Conversation:
    """The recent turns of one conversation and when it was last used."""

    id: str
    turns: deque[Turn]
    updated: float = field(default_factory=time.monotonic)


class ConversationStore:
    """In-memory conversations: at most `max_conversations` (least recently used dropped first), each forgotten
    after `ttl_s` seconds without use, each keeping its last `max_turns` turns."""

    def __init__(self, max_conversations: int, ttl_s: float, max_turns: int):
        self.max_conversations = max_conversations
        self.ttl_s = ttl_s
        self.max_turns = max_turns
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def _expire(self, now: float) -> None:
        while self._items:
            oldest = next(iter(self._items.values()))
            if now - oldest.updated <= self.ttl_s:
                break
            self._items.popitem(last=False)

    def history(self, conversation_id: str | None, now: float | None = None) -> tuple[str, list[Turn]]:
        """The id to use and the earlier turns: a known, live id keeps its turns; an unknown or expired one
        starts a new conversation under a fresh id (the caller returns that id to the client)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._expire(now)
            conversation = self._items.get(conversation_id) if conversation_id else None
            if conversation is None:
                return "c_" + secrets.token_urlsafe(12), []
            return conversation.id, list(conversation.turns)

    def append(self, conversation_id: str, turn: Turn, now: float | None = None) -> None:
        """Record a finished turn (creating the conversation if needed) and enforce the bounds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            conversation = self._items.pop(conversation_id, None) or Conversation(
                conversation_id, deque(maxlen=self.max_turns))
            if self.max_turns:
                conversation.turns.append(turn)
            conversation.updated = now
            self._items[conversation_id] = conversation
            self._expire(now)
            while len(self._items) > self.max_conversations:
                self._items.popitem(last=False)
