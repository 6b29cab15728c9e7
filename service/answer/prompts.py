"""Prompt templates for LLM generators: loaded from files, validated when the generator is built, rendered to chat
messages. Passages are fenced in <passage> tags so text inside a document is data, not instructions."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta

from index.records import Hit

from .base import GeneratorConfigError, Turn

BUNDLED_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"

# file name -> (variables it must use, variables it may use); a variable outside both is a typo or a template
# written for another version, and either way would only fail at the first request
TEMPLATE_VARIABLES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "system.md": (frozenset({"refusal"}), frozenset()),
    "answer.md": (frozenset({"question", "passages", "refusal"}), frozenset()),
    "rewrite.md": (frozenset({"question", "history"}), frozenset()),
}
REFUSAL_FILE = "refusal.txt"

# a tag-like fence line inside a document must not close (or open) the fence around it
_FENCE_TAG = re.compile(r"<\s*(/?)\s*passage", re.IGNORECASE)


class PromptError(GeneratorConfigError):
    """A prompt template that is missing, unreadable or uses the wrong variables; the message names the file."""


@dataclass(frozen=True, slots=True)
class PromptSet:
    """The validated templates of one prompts folder."""

    directory: Path
    system: jinja2.Template
    answer: jinja2.Template
    rewrite: jinja2.Template
    refusal: str


def load_prompts(directory: Path | None = None) -> PromptSet:
    """Read and validate the templates in `directory` (default: the bundled prompts/); raises PromptError."""
    directory = Path(directory) if directory is not None else BUNDLED_PROMPTS
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
    templates: dict[str, jinja2.Template] = {}
    for name, (required, optional) in TEMPLATE_VARIABLES.items():
        source = _read(directory / name)
        try:
            used = meta.find_undeclared_variables(env.parse(source))
            templates[name] = env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise PromptError(f"{directory / name}:{exc.lineno}: template syntax error: {exc.message}") from exc
        missing, unknown = sorted(required - used), sorted(used - required - optional)
        if missing:
            raise PromptError(f"{directory / name}: the template must use the variable(s) {missing} "
                              f"(allowed: {sorted(required | optional)})")
        if unknown:
            raise PromptError(f"{directory / name}: unknown variable(s) {unknown} "
                              f"(allowed: {sorted(required | optional)})")
    refusal = _read(directory / REFUSAL_FILE).strip()
    if not refusal:
        raise PromptError(f"{directory / REFUSAL_FILE}: the refusal text is empty")
    # a trial render catches what parsing cannot ({{ passage.titel }}, a filter on the wrong type) at start-up
    sample = {"question": "示例问题？", "refusal": refusal, "history": [{"question": "示例？", "answer": "示例。[1]"}],
              "passages": [{"n": 1, "title": "示例", "date": "2020-01-01", "section": "一", "source": "a.txt",
                            "text": "示例段落。"}]}
    for name, template in templates.items():
        try:
            template.render(**{k: sample[k] for k in TEMPLATE_VARIABLES[name][0] | TEMPLATE_VARIABLES[name][1]})
        except jinja2.TemplateError as exc:
            raise PromptError(f"{directory / name}: the template fails on sample values: {exc}") from exc
    return PromptSet(directory, templates["system.md"], templates["answer.md"], templates["rewrite.md"], refusal)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"{path}: prompt template not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: cannot read prompt template ({exc})") from exc


def fence_text(text: str) -> str:
    """Neutralise anything in a passage that looks like the <passage> fence, so it cannot close the fence early."""
    return _FENCE_TAG.sub(lambda m: "＜" + m.group(1) + "passage", text)


def _attribute(value: str) -> str:
    """A value safe inside a double-quoted tag attribute on one line."""
    return fence_text(" ".join(value.split())).replace('"', "'").replace(">", "＞")


def passage_records(hits: Sequence[Hit]) -> list[dict[str, object]]:
    """The template view of the passages: number (1-based, as cited), title, date, section and fenced text."""
    return [
        {
            "n": n,
            "title": _attribute(h.document.title or h.document.source),
            "date": _attribute(h.document.date or ""),
            "section": _attribute(" / ".join(h.chunk.section)),
            "source": _attribute(h.document.source),
            "text": fence_text(h.chunk.text.strip()),
        }
        for n, h in enumerate(hits, 1)
    ]


def answer_messages(prompts: PromptSet, question: str, hits: Sequence[Hit]) -> list[dict[str, str]]:
    """Chat messages asking the LLM to answer `question` from `hits` (numbered 1..len(hits))."""
    return [
        {"role": "system", "content": prompts.system.render(refusal=prompts.refusal).strip()},
        {"role": "user", "content": prompts.answer.render(
            question=question.strip(), passages=passage_records(hits), refusal=prompts.refusal).strip()},
    ]


def rewrite_messages(prompts: PromptSet, question: str, history: Sequence[Turn]) -> list[dict[str, str]]:
    """Chat messages asking the LLM to turn a follow-up question into a standalone one."""
    turns = [{"question": t.question, "answer": t.answer} for t in history]
    return [{"role": "user", "content": prompts.rewrite.render(question=question.strip(), history=turns).strip()}]
