"""The local transformers backend with a tiny randomly initialised Qwen2 model and a character tokenizer that the
test builds and saves itself: the real loading, chat-template and generation code runs, nothing is downloaded."""
from __future__ import annotations

import string
from pathlib import Path

import pytest

from service.answer.base import GeneratorConfigError
from service.answer.llm import LLMError
from service.answer.prompts import BUNDLED_PROMPTS
from service.answer.transformers_backend import TransformersBackend
from service.qa import answer_question, load_pipeline, stream_answer

SPEECHES = Path(__file__).resolve().parents[3] / "data" / "speeches"
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
MESSAGES = [{"role": "system", "content": "只根据资料回答。"}, {"role": "user", "content": "招商引资有哪些要求？"}]


def build_tiny_model(folder: Path, chat_template: str | None = CHAT_TEMPLATE) -> Path:
    """Save a 2-layer, 32-wide Qwen2ForCausalLM and a character-level tokenizer covering the corpus and prompts."""
    import torch
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    from ingest.pipeline import load_document

    text = "".join(load_document(p).text for p in sorted(SPEECHES.glob("*.txt")))
    text += "".join(p.read_text(encoding="utf-8") for p in BUNDLED_PROMPTS.iterdir() if p.suffix in (".md", ".txt"))
    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    vocab = {t: i for i, t in enumerate(specials + sorted(set(text + string.printable) - set(specials)))}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", eos_token="<|im_end|>",
                                        pad_token="<|im_end|>", additional_special_tokens=["<|im_start|>"])
    if chat_template:
        tokenizer.chat_template = chat_template
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         eos_token_id=vocab["<|im_end|>"], pad_token_id=vocab["<|im_end|>"], bos_token_id=None)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"))


def test_complete_and_stream_generate_from_the_local_folder(tiny_model):
    backend = TransformersBackend(tiny_model, device="cpu", max_new_tokens=12, temperature=0.0)
    text = backend.complete(MESSAGES)
    assert 0 < len(text) <= 12  # one character per token
    assert "".join(backend.stream(MESSAGES)) == text  # greedy: the streamed pieces are the same generation
    assert backend._model.device.type == "cpu"


def test_llm_generator_runs_the_local_model_and_grounding_rejects_noise(tiny_model, fake_index):
    settings = fake_index.model_copy(update={"generator": "transformers", "local_model_dir": tiny_model,
                                             "local_device": "cpu", "llm_max_tokens": 16, "llm_temperature": 0.0,
                                             "llm_rewrite": False})
    pipeline = load_pipeline(settings)
    answer = answer_question(pipeline, "招商引资有哪些要求？")
    # a random model writes noise: no sentence is supported, so the extractive answer stands in
    assert answer.fallback and "supported" in answer.fallback_reason and answer.answerable and answer.citations
    _hits, *pieces, final = list(stream_answer(pipeline, "招商引资有哪些要求？"))
    assert final.fallback and "".join(pieces).strip() == final.text


def test_bad_model_folders_fail_clearly(tmp_path, fake_index):
    with pytest.raises(GeneratorConfigError, match="no config.json"):
        TransformersBackend(tmp_path)
    folder = build_tiny_model(tmp_path / "no-template", chat_template=None)
    with pytest.raises(LLMError, match="no chat template"):
        TransformersBackend(folder, device="cpu").complete(MESSAGES)
    broken = build_tiny_model(tmp_path / "bad-template", chat_template="{{ raise_exception('no system role') }}")
    with pytest.raises(LLMError, match="chat template of bad-template failed"):
        list(TransformersBackend(broken, device="cpu").stream(MESSAGES))
