"""The quality gate: summary figures checked against the floors (and ceilings) kept in a checked-in JSON file.

File format, one figure a line so that raising a floor is a one-line change::

    {
      "hit@5":              {"min": 0.85},
      "false_refusal_rate": {"max": 0.10}
    }
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .jsonl import read_json_file


class FloorsFileError(ValueError):
    """A floors file that cannot be used; the message names the file and the figure."""


@dataclass(frozen=True, slots=True)
class FloorCheck:
    """One figure checked against its bound."""

    figure: str
    bound: str  # "min" or "max"
    limit: float
    value: float | None
    passed: bool

    @property
    def message(self) -> str:
        """One line a person can act on."""
        if self.value is None:
            return f"{self.figure}: not measured by this run (the floors file expects it; {self.bound} {self.limit})"
        sign = ">=" if self.bound == "min" else "<="
        verdict = "ok" if self.passed else "FAILED"
        return f"{self.figure} = {self.value:.3f}, must be {sign} {self.limit} ({verdict})"


def load_floors(path: Path) -> dict[str, dict[str, float]]:
    """Figure -> {"min": x} and/or {"max": y}; keys starting with "_" are comments."""
    raw = read_json_file(path, FloorsFileError)
    if not isinstance(raw, dict):
        raise FloorsFileError(f"{path}: expected a JSON object of figure -> {{\"min\": x}} or {{\"max\": y}}")
    floors: dict[str, dict[str, float]] = {}
    for figure, bounds in raw.items():
        if figure.startswith("_"):
            continue
        if not isinstance(bounds, dict) or not bounds or set(bounds) - {"min", "max"} or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in bounds.values()):
            raise FloorsFileError(f"{path}: figure {figure!r} needs {{\"min\": number}} and/or {{\"max\": number}}")
        floors[figure] = {k: float(v) for k, v in bounds.items()}
    if not floors:
        raise FloorsFileError(f"{path}: no floors in the file")
    return floors


def check_floors(summary: Mapping[str, object], floors: Mapping[str, Mapping[str, float]]) -> list[FloorCheck]:
    """Every bound of `floors` checked against `summary`; a figure the run did not measure fails."""
    checks = []
    for figure, bounds in floors.items():
        value = summary.get(figure)
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        for bound, limit in bounds.items():
            passed = number is not None and (number >= limit if bound == "min" else number <= limit)
            checks.append(FloorCheck(figure, bound, limit, number, passed))
    return checks
