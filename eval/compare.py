"""What changed between two eval runs: each summary figure with its delta, and the questions that got better or
worse (compared by id)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .jsonl import read_json_file
from .report import FIGURES

# tolerance below which a figure or a per-question score counts as unchanged (float noise, not a change)
EPSILON = 1e-9
# latency moves with machine load; a change smaller than this share is not called better or worse
LATENCY_NOISE = 0.10


class ReportFileError(ValueError):
    """A file that is not a `policyqa eval` JSON report; the message names it and says why."""


def load_report(path: Path) -> dict:
    """A JSON report written by `policyqa eval`."""
    payload = read_json_file(path, ReportFileError)
    if not isinstance(payload, dict) or not isinstance(payload.get("summary"), dict) \
            or not isinstance(payload.get("results"), list):
        raise ReportFileError(f"{path}: not an eval report (needs 'summary' and 'results'; "
                              "write one with `policyqa eval QUESTIONS.jsonl --out FILE.json`)")
    return payload


def _verdict(name: str, old, new) -> str:
    if not isinstance(old, (int, float)) or not isinstance(new, (int, float)):
        return "new" if old is None and new is not None else ("gone" if new is None and old is not None else "")
    better = FIGURES.get(name, ("", ""))[1]
    delta = new - old
    if abs(delta) <= EPSILON or not better:
        return "same" if abs(delta) <= EPSILON else ""
    if name.startswith("latency") and abs(delta) <= LATENCY_NOISE * max(abs(old), EPSILON):
        return "same (noise)"
    return "better" if (delta > 0) == (better == "higher") else "worse"


def question_scores(row: Mapping) -> dict[str, float]:
    """Per-question scores compared between runs, all higher-is-better, only those that apply to the row."""
    s = row["scores"]
    scores = {"right decision": 1.0 if bool(s.get("answered")) == bool(s.get("answerable")) else 0.0}
    if s.get("answerable") and s.get("has_evidence"):
        rank = s.get("evidence_rank")
        scores["evidence reciprocal rank"] = 1.0 / rank if rank else 0.0
        scores["evidence cited"] = 1.0 if s.get("cited_evidence") else 0.0
    points = (s.get("key_points_found") or []) + (s.get("key_points_missed") or [])
    if s.get("answerable") and points:
        scores["key points"] = len(s.get("key_points_found") or []) / len(points)
    for key in ("reference_char_f1", "reference_rouge_l"):
        if s.get(key) is not None:
            scores[key] = float(s[key])
    judge = s.get("judge") or {}
    for aspect in ("faithfulness", "correctness"):
        if judge.get(aspect) is not None:
            scores[f"judge {aspect}"] = float(judge[aspect])
    return scores


def _describe(name: str, old: float, new: float, old_row: Mapping, new_row: Mapping) -> str:
    if name == "evidence reciprocal rank":
        return f"evidence rank {old_row['scores'].get('evidence_rank') or 'none'} → " \
               f"{new_row['scores'].get('evidence_rank') or 'none'}"
    if name == "right decision":
        said = {True: "answered", False: "refused"}
        return f"{said[bool(old_row['scores'].get('answered'))]} → {said[bool(new_row['scores'].get('answered'))]}"
    if name == "key points":
        def count(row):
            s = row["scores"]
            return f"{len(s.get('key_points_found') or [])}/{len(s.get('key_points_found') or []) + len(s.get('key_points_missed') or [])}"
        return f"key points {count(old_row)} → {count(new_row)}"
    if name == "evidence cited":
        return "evidence " + ("cited → not cited" if old > new else "not cited → cited")
    return f"{name} {old:.3f} → {new:.3f}"


def compare_reports(old: Mapping, new: Mapping, old_path: str = "old", new_path: str = "new") -> dict:
    """Figures with deltas and verdicts, and questions sorted into better / worse / mixed by their scores."""
    names = list(dict.fromkeys([*old["summary"], *new["summary"]]))
    figures = []
    for name in names:
        a, b = old["summary"].get(name), new["summary"].get(name)
        numeric = isinstance(a, (int, float)) and isinstance(b, (int, float))
        figures.append({"name": name, "old": a, "new": b, "delta": (b - a) if numeric else None,
                        "verdict": _verdict(name, a, b)})
    old_rows = {r["id"]: r for r in old["results"]}
    new_rows = {r["id"]: r for r in new["results"]}
    buckets: dict[str, list] = {"better": [], "worse": [], "mixed": [], "unchanged": [],
                                "only_old": [i for i in old_rows if i not in new_rows],
                                "only_new": [i for i in new_rows if i not in old_rows]}
    for qid, new_row in new_rows.items():
        old_row = old_rows.get(qid)
        if old_row is None:
            continue
        a, b = question_scores(old_row), question_scores(new_row)
        ups, downs = [], []
        for name in [n for n in b if n in a]:
            if b[name] > a[name] + EPSILON:
                ups.append(_describe(name, a[name], b[name], old_row, new_row))
            elif b[name] < a[name] - EPSILON:
                downs.append(_describe(name, a[name], b[name], old_row, new_row))
        entry = {"id": qid, "question": new_row.get("question", ""), "changes": downs + ups,
                 "failures_old": old_row["scores"].get("failures", []),
                 "failures_new": new_row["scores"].get("failures", [])}
        kind = "mixed" if ups and downs else "better" if ups else "worse" if downs else "unchanged"
        buckets[kind].append(entry if kind != "unchanged" else qid)
    return {
        "old": {"path": old_path, "config": _config_line(old.get("config", {}))},
        "new": {"path": new_path, "config": _config_line(new.get("config", {}))},
        "figures": figures,
        "questions": buckets,
    }


def _config_line(config: Mapping) -> str:
    keys = ("leg", "top_k", "chunk_size", "generator", "encoder")
    return ", ".join(f"{k}={config[k]}" for k in keys if k in config)
