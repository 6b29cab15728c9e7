"""Each indexed document records when its current content was ingested; unchanged documents keep that time."""
from __future__ import annotations

import shutil
from datetime import timedelta

from index.encoders import FakeEncoder
from index.store import PolicyIndex, update_index
from tests.index.helpers import DATA


def test_ingested_at_is_kept_for_unchanged_files_and_renewed_for_changed_ones(tmp_path, monkeypatch):
    from index import store

    speeches = tmp_path / "speeches"
    shutil.copytree(DATA, speeches)
    index_dir = tmp_path / "index"
    update_index(index_dir, [speeches / "nongye.txt", speeches / "sijiang.txt"], FakeEncoder())
    first = PolicyIndex.load(index_dir, FakeEncoder())
    times = {d.source: first.ingested_at(d.id) for d in first.documents.values()}
    assert all(t and t.endswith("+00:00") for t in times.values())

    class Later(store.datetime):  # a clock one hour ahead, so a renewed time is visibly different
        @classmethod
        def now(cls, tz=None):
            return super().now(tz) + timedelta(hours=1)

    monkeypatch.setattr(store, "datetime", Later)
    target = speeches / "nongye.txt"
    target.write_text(target.read_text(encoding="utf-8") + "新增一句。\n", encoding="utf-8")
    update_index(index_dir, [speeches], FakeEncoder())
    second = PolicyIndex.load(index_dir, FakeEncoder())
    after = {d.source: second.ingested_at(d.id) for d in second.documents.values()}
    assert after["sijiang.txt"] == times["sijiang.txt"]
    assert after["nongye.txt"] > times["nongye.txt"]
    assert after["zhaoshang.txt"] == after["nongye.txt"]  # added by this update
