"""Reading JSON and JSON-lines files (reports, floors, question files, corpora) with errors naming file and line."""
from __future__ import annotations

import json
from pathlib import Path


def read_json_objects(path: Path, error: type[Exception]) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line of `path`; raises `error` naming the file, line and reason."""
    rows = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{no}: not JSON ({exc.msg})") from exc
        if not isinstance(raw, dict):
            raise error(f"{path}:{no}: expected a JSON object")
        rows.append((no, raw))
    return rows


def read_json_file(path: Path, error: type[Exception]) -> object:
    """The parsed content of a JSON file; raises `error` naming the file and the reason."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
