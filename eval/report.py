"""Human-readable eval reports rendered from the JSON report: Markdown and a self-contained HTML page (inline CSS,
inline SVG chart, no external assets), plus the Markdown of `eval-retrieval` and of `eval --compare`."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from .run import FAILURE_CAUSES

TEMPLATES = Path(__file__).parent / "templates"

# figure -> (one-line meaning, which direction is better)
FIGURES: dict[str, tuple[str, str]] = {
    "questions": ("questions in the file", ""),
    "answerable": ("questions the corpus can answer", ""),
    "unanswerable": ("questions the corpus cannot answer (the right reply is a refusal)", ""),
    "hit@1": ("share of answerable questions whose first retrieved passage contains the evidence", "higher"),
    "hit@3": ("share of answerable questions with an evidence passage among the first 3 retrieved", "higher"),
    "hit@5": ("share of answerable questions with an evidence passage among the first 5 retrieved", "higher"),
    "mrr": ("mean of 1 / rank of the first evidence passage (0 when it was not retrieved)", "higher"),
    "citation_support": ("share of answerable questions whose cited passages contain the evidence", "higher"),
    "key_point_coverage": ("average share of the expected key points that the answer states", "higher"),
    "refusal_accuracy": ("share of unanswerable questions that were correctly refused", "higher"),
    "false_refusal_rate": ("share of answerable questions that were wrongly refused", "lower"),
    "latency_p50_ms": ("median time to answer one question, retrieval and generation (ms)", "lower"),
    "latency_p95_ms": ("95th-percentile time to answer one question (ms)", "lower"),
    "reference_char_f1": ("character-level F1 of the answer against the reference answer", "higher"),
    "reference_rouge_l": ("ROUGE-L (longest common character subsequence) against the reference answer", "higher"),
    "judge_faithfulness": ("LLM judge: how far the answer is supported by the passages it cites (0-1)", "higher"),
    "judge_correctness": ("LLM judge: how far the answer agrees with the reference answer (0-1)", "higher"),
    "grounded_ratio": ("share of the LLM answer's sentences that a cited passage supports", "higher"),
    "fallback_rate": ("share of answers where the LLM failed and the extractive answer was used", "lower"),
}
RETRIEVAL_FIGURES: dict[str, str] = {
    "ndcg@10": "normalised discounted cumulative gain of the top 10 (graded relevance, log2 discount)",
    "recall@1": "share of a query's relevant passages found at rank 1, averaged over queries",
    "recall@5": "share of a query's relevant passages found in the top 5",
    "recall@10": "share of a query's relevant passages found in the top 10",
    "recall@100": "share of a query's relevant passages found in the top 100",
    "hit@1": "share of queries with a relevant passage at rank 1",
    "hit@5": "share of queries with any relevant passage in the top 5",
    "hit@10": "share of queries with any relevant passage in the top 10",
    "hit@100": "share of queries with any relevant passage in the top 100",
    "mrr@10": "mean reciprocal rank of the first relevant passage within the top 10",
    "latency_p50_ms": "median search time of one query, top 100 (ms)",
    "latency_p95_ms": "95th-percentile search time of one query (ms)",
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_cell(value: object) -> str:
    """Text made safe for one Markdown table cell: Markdown and HTML specials escaped, newlines as spaces."""
    text = "" if value is None else str(value)
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split())).replace("&", "&amp;")


def fmt(value: object, digits: int = 3) -> str:
    """A figure for people: n/a for None, floats rounded, integers as they are."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.{digits}f}"
    return str(value)


def fmt_delta(value: float | None) -> str:
    """A signed difference, n/a for None."""
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:+d}"
    return f"{value:+.1f}" if abs(value) >= 100 else f"{value:+.3f}"


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a misspelt field fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_cell, fmt=fmt, delta=fmt_delta)
    return env


def render(template: str, **context) -> str:
    """Render one of eval/templates/ (HTML autoescaped; Markdown cells go through the `md` filter)."""
    return _environment().get_template(template).render(**context)


# ----------------------------------------------------------------------------------------------- answer-quality report


def recall_curve(rows: Sequence[Mapping], depth: int | None = None) -> list[tuple[int, float]]:
    """(k, share of answerable questions with evidence whose evidence passage is within the first k retrieved)
    for k = 1 .. `depth` (the run's top-k), at most the number of passages retrieved per question."""
    ranks = [r["scores"].get("evidence_rank") for r in rows
             if r["scores"].get("answerable") and r["scores"].get("has_evidence")]
    # the extractive answerer appends section continuations after the retrieved passages: those are not ranks
    retrieved = max([len(r.get("retrieved") or []) for r in rows] + [1])
    depth = min(depth, retrieved) if depth else retrieved
    if not ranks:
        return []
    return [(k, sum(1 for rk in ranks if rk is not None and rk <= k) / len(ranks)) for k in range(1, depth + 1)]


def curve_geometry(points: Sequence[tuple[int, float]], width: int = 520, height: int = 260) -> dict:
    """Pixel positions for the inline SVG line chart of `recall_curve` (y axis 0..1)."""
    left, right, top, bottom = 48, 16, 24, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(points), 2)

    def x(i: int) -> float:
        return round(left + plot_w * i / (n - 1), 1)

    def y(v: float) -> float:
        return round(top + plot_h * (1 - v), 1)

    marks = [{"k": k, "value": v, "x": x(i), "y": y(v)} for i, (k, v) in enumerate(points)]
    return {
        "width": width, "height": height, "left": left, "top": top, "bottom": height - bottom,
        "right": width - right, "marks": marks,
        "polyline": " ".join(f"{m['x']},{m['y']}" for m in marks),
        "grid": [{"value": v, "y": y(v)} for v in (0.0, 0.25, 0.5, 0.75, 1.0)],
    }


def failure_groups(rows: Sequence[Mapping]) -> list[dict]:
    """Rows grouped by failure cause, in FAILURE_CAUSES order; causes without questions are kept (count 0)."""
    return [
        {"cause": cause, "label": label, "rows": [r for r in rows if cause in (r["scores"].get("failures") or [])]}
        for cause, label in FAILURE_CAUSES.items()
    ]


LLM_FIGURES = ("grounded_ratio", "fallback_rate")


def _summary_rows(summary: Mapping) -> list[dict]:
    # a run without any LLM answer has nothing to say about grounding or fallbacks: leave those rows out
    llm_run = summary.get("grounded_ratio") is not None or bool(summary.get("fallback_rate"))
    return [
        {"name": name, "value": value, "meaning": FIGURES.get(name, ("", ""))[0],
         "better": FIGURES.get(name, ("", ""))[1]}
        for name, value in summary.items()
        if llm_run or name not in LLM_FIGURES
    ]


def _question_rows(rows: Sequence[Mapping]) -> list[dict]:
    out = []
    for r in rows:
        s = r["scores"]
        out.append({
            "id": r["id"], "question": r.get("question", ""), "answer": r.get("answer", ""),
            "answerable": s.get("answerable"), "answered": s.get("answered"),
            "evidence_rank": s.get("evidence_rank"), "has_evidence": s.get("has_evidence"),
            "found": s.get("key_points_found") or [], "missed": s.get("key_points_missed") or [],
            "citations": [{"n": c.get("n"), "source": c.get("source"), "section": c.get("section"),
                           "title": c.get("title")} for c in r.get("citations") or []],
            "latency_ms": s.get("latency_ms"), "tags": s.get("tags") or [],
            "char_f1": s.get("reference_char_f1"), "rouge_l": s.get("reference_rouge_l"),
            "judge": s.get("judge"), "failures": s.get("failures") or [],
            # issue 4's LLM generators add these to the answer object; extractive answers have neither
            "grounded_ratio": r.get("grounded_ratio"), "fallback": r.get("fallback"),
            "fallback_reason": r.get("fallback_reason"),
        })
    return out


def report_context(payload: Mapping, title: str) -> dict:
    """Everything the answer-quality templates show, derived from the JSON report."""
    rows = payload.get("results", [])
    questions = _question_rows(rows)
    top_k = payload.get("config", {}).get("top_k")
    points = recall_curve(rows, top_k if isinstance(top_k, int) else None)
    return {
        "title": title,
        "config": payload.get("config", {}),
        "summary": _summary_rows(payload.get("summary", {})),
        "by_tag": payload.get("by_tag", {}),
        "tag_figures": [f for f in ("questions", "hit@5", "mrr", "citation_support", "key_point_coverage",
                                    "refusal_accuracy", "false_refusal_rate", "reference_char_f1",
                                    "reference_rouge_l")
                        if any(f in s for s in payload.get("by_tag", {}).values())],
        "questions": questions,
        "failures": failure_groups(rows),
        "causes": FAILURE_CAUSES,
        "curve": points,
        "chart": curve_geometry(points) if points else None,
        "show_reference": any(q["char_f1"] is not None for q in questions),
        "show_judge": any(q["judge"] for q in questions),
        "show_llm": any(q["grounded_ratio"] is not None or q["fallback"] for q in questions),
    }


def write_reports(json_path: Path, payload: Mapping | None = None) -> tuple[Path, Path]:
    """Write `<name>.md` and `<name>.html` beside the JSON report (read from disk when `payload` is None)."""
    if payload is None:
        payload = json.loads(json_path.read_text(encoding="utf-8"))
    title = f"PolicyQA eval: {Path(str(payload.get('config', {}).get('questions', json_path.stem))).name}"
    context = report_context(payload, title)
    md_path, html_path = json_path.with_suffix(".md"), json_path.with_suffix(".html")
    md_path.write_text(render("report.md", **context), encoding="utf-8")
    html_path.write_text(render("report.html", **context), encoding="utf-8")
    return md_path, html_path


# ----------------------------------------------------------------------------------------------- retrieval + compare


def write_retrieval_report(json_path: Path, figures: Mapping[str, Mapping[str, float]], config: Mapping) -> Path:
    """Write the `eval-retrieval` figures as JSON and as a Markdown table beside it; returns the Markdown path."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"config": config, "figures": figures}, ensure_ascii=False, indent=2),
                         encoding="utf-8")
    columns = [c for c in RETRIEVAL_FIGURES if any(c in f for f in figures.values())]
    md_path = json_path.with_suffix(".md")
    md_path.write_text(render("retrieval.md", config=config, figures=figures, columns=columns,
                              meanings=RETRIEVAL_FIGURES), encoding="utf-8")
    return md_path


def write_comparison(json_path: Path, comparison: Mapping) -> Path:
    """Write a comparison (eval/compare.py) as JSON and Markdown beside it; returns the Markdown path."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(comparison, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path = json_path.with_suffix(".md")
    md_path.write_text(render("compare.md", c=comparison), encoding="utf-8")
    return md_path
