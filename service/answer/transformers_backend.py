"""Chat backend for a causal LM in a local folder (Qwen2.5-Instruct, DeepSeek distills, ...) through transformers:
the tokenizer's chat template builds the prompt, generation streams through TextIteratorStreamer; CPU or GPU."""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

from .base import GeneratorConfigError
from .llm import LLMError, Messages


class TransformersBackend:
    """A local model, loaded on first use (weights are heavy) and kept; one generation at a time."""

    name = "transformers"

    def __init__(self, model_dir: Path, *, device: str = "auto", dtype: str = "auto", max_new_tokens: int = 768,
                 temperature: float = 0.1, top_p: float = 0.9, repetition_penalty: float = 1.05,
                 timeout: float = 60.0) -> None:
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file():
            raise GeneratorConfigError(f"POLICYQA_LOCAL_MODEL_DIR={model_dir}: no config.json there "
                                       "(expected a transformers model folder)")
        self.model_dir = model_dir
        self.device = device
        self.dtype = dtype
        self.timeout = timeout
        self._generation = {"max_new_tokens": max_new_tokens, "repetition_penalty": repetition_penalty,
                            "do_sample": temperature > 0}
        if temperature > 0:
            self._generation.update(temperature=temperature, top_p=top_p)
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self._generating = threading.Lock()  # requests from several API workers take turns on one model

    def _load(self):
        """Tokenizer and model, loaded once, from local files only."""
        with self._lock:
            if self._model is None:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                try:
                    tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
                    if not tokenizer.chat_template:
                        raise LLMError(f"{self.model_dir}: the tokenizer has no chat template")
                    device = self.device if self.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
                    dtype = "auto" if self.dtype == "auto" else getattr(torch, self.dtype)
                    model = AutoModelForCausalLM.from_pretrained(self.model_dir, local_files_only=True, dtype=dtype)
                    self._model, self._tokenizer = model.to(device).eval(), tokenizer
                except (OSError, ValueError, RuntimeError) as exc:
                    if isinstance(exc, LLMError):
                        raise
                    raise LLMError(f"cannot load the model in {self.model_dir}: {exc}") from exc
        return self._model, self._tokenizer

    def _inputs(self, messages: Messages) -> dict:
        model, tokenizer = self._load()
        try:
            inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                   return_dict=True, return_tensors="pt")
        except Exception as exc:  # a model folder's own chat template can fail in any way: that is an LLM failure
            raise LLMError(f"the chat template of {self.model_dir.name} failed: {exc}") from exc
        return {k: v.to(model.device) for k, v in inputs.items()}

    def _settings(self, tokenizer) -> dict:
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        return {**self._generation, "pad_token_id": pad}

    def complete(self, messages: Messages) -> str:
        """The full reply, generated in one call."""
        import torch

        model, tokenizer = self._load()
        inputs = self._inputs(messages)
        try:
            with self._generating, torch.inference_mode():
                output = model.generate(**inputs, **self._settings(tokenizer))
        except (RuntimeError, ValueError) as exc:
            raise LLMError(f"generation failed: {exc}") from exc
        text = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        if not text.strip():
            raise LLMError(f"{self.model_dir.name} generated no text")
        return text

    def stream(self, messages: Messages) -> Iterator[str]:
        """The reply in pieces, as generation (in a worker thread) produces them."""
        import torch
        from transformers import TextIteratorStreamer

        model, tokenizer = self._load()
        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.timeout)
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                with self._generating, torch.inference_mode():
                    model.generate(**inputs, **self._settings(tokenizer), streamer=streamer)
            except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=generate, daemon=True)
        worker.start()
        got_text = False
        try:
            for piece in streamer:
                if piece:
                    got_text = True
                    yield piece
        except queue.Empty as exc:
            raise LLMError(f"no token from {self.model_dir.name} within {self.timeout:g} s") from exc
        worker.join()
        if failure:
            raise LLMError(f"generation failed: {failure[0]}")
        if not got_text:
            raise LLMError(f"{self.model_dir.name} generated no text")
