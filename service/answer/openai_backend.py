"""Chat backend for any OpenAI-compatible server (vLLM, Ollama, Xinference, LM Studio, internal gateways) through
the official `openai` client: its retries back off exponentially on connection errors, 408, 409, 429 and 5xx."""
from __future__ import annotations

from collections.abc import Iterator

import openai

from .llm import LLMError, Messages


class OpenAIBackend:
    """One OpenAI-compatible endpoint and model; every failure surfaces as LLMError naming the endpoint."""

    name = "openai"

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 60.0,
                 max_retries: int = 2, max_tokens: int = 768, temperature: float = 0.1, top_p: float = 0.9) -> None:
        self.base_url = base_url
        self.model = model
        self.timeout = timeout
        # local servers ignore the key, but the client refuses to start without one
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "no-key", timeout=timeout,
                                     max_retries=max_retries)
        self._sampling = {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p}

    def complete(self, messages: Messages) -> str:
        """The full reply (one request)."""
        try:
            reply = self._client.chat.completions.create(model=self.model, messages=messages, **self._sampling)
            choices = getattr(reply, "choices", None)
            if not choices:
                raise LLMError(f"malformed reply from {self.base_url}: no choices")
            text = choices[0].message.content if choices[0].message is not None else None
        except openai.OpenAIError as exc:
            raise LLMError(self._describe(exc)) from exc
        except (ValueError, TypeError, AttributeError) as exc:  # a body that is not the chat-completion shape
            raise LLMError(f"malformed reply from {self.base_url}: {exc}") from exc
        if not isinstance(text, str) or not text.strip():
            raise LLMError(f"empty reply from {self.base_url}")
        return text

    def stream(self, messages: Messages) -> Iterator[str]:
        """The reply in pieces as the server streams it (server-sent events)."""
        got_text = False
        try:
            events = self._client.chat.completions.create(model=self.model, messages=messages, stream=True,
                                                          **self._sampling)
            for event in events:
                choices = getattr(event, "choices", None)
                if not choices:
                    continue  # usage-only and keep-alive events carry no text
                delta = getattr(choices[0], "delta", None)
                piece = getattr(delta, "content", None) if delta is not None else None
                if isinstance(piece, str) and piece:
                    got_text = True
                    yield piece
        except openai.OpenAIError as exc:
            raise LLMError(self._describe(exc)) from exc
        except (ValueError, TypeError, AttributeError) as exc:
            raise LLMError(f"malformed stream from {self.base_url}: {exc}") from exc
        if not got_text:
            raise LLMError(f"empty reply from {self.base_url}")

    def _describe(self, exc: openai.OpenAIError) -> str:
        """A one-line reason naming the endpoint, for the answer's fallback_reason and the log."""
        if isinstance(exc, openai.APITimeoutError):
            return f"{self.base_url} did not answer within {self.timeout:g} s"
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot reach {self.base_url} ({exc.__cause__ or exc})"
        if isinstance(exc, openai.APIStatusError):
            return f"{self.base_url} answered HTTP {exc.status_code}: {str(exc.message)[:200]}"
        return f"malformed reply from {self.base_url}: {str(exc)[:200]}"
