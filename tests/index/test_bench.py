"""Smoke test of the benchmark script on a handful of made-up articles."""
from __future__ import annotations

import gzip
import json

import pytest

from tests.index.helpers import DATA


def test_bench_runs_end_to_end_with_the_fake_encoder(tmp_path, capsys):
    pytest.importorskip("ingest.chunk")
    from index import bench

    path = tmp_path / "news.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i, f in enumerate(sorted(DATA.glob("*.txt"))):
            fh.write(json.dumps({"id": f"n{i}", "date": "2023-01-0%d 10:00:00" % (i + 1), "text": f.read_text("utf-8")},
                                ensure_ascii=False) + "\n")
    figures = bench.main(["--n", "3", "--path", str(path), "--queries", "3", "--ann-dim", "96",
                          "--json", str(tmp_path / "f.json")])
    assert figures["n_articles"] == 3 and figures["chunks"] > 3 and figures["queries"] == 3
    assert set(figures["ann"]) == {"64", "96 (projected)"}
    assert figures["bm25_hit@10"] > 0 and figures["disk_mb"]["total"] > 0
    assert "HNSW efSearch" in capsys.readouterr().out
    assert set(figures["ann"]["64"]["hnsw"]) == {"64", "128", "256"}
    assert json.loads((tmp_path / "f.json").read_text())["chunks"] == figures["chunks"]
