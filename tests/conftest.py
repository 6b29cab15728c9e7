"""Shared fixtures: no test may reach the network; loopback stays allowed for live-server tests."""
from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

_real_connect = socket.socket.connect


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS: refuse


def _guarded_connect(self, address):
    if self.family == socket.AF_UNIX or _is_loopback(address):
        return _real_connect(self, address)
    raise RuntimeError(f"tests must not touch the network (tried to connect to {address!r})")


@pytest.fixture(autouse=True)
def _block_network(monkeypatch):
    """Refuse every outgoing connection that is not loopback or a Unix socket."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


SPEECHES = Path(__file__).resolve().parents[1] / "data" / "speeches"


@pytest.fixture(scope="session")
def fake_speeches_index(tmp_path_factory) -> Path:
    """Directory of an index over the sample speeches built with the deterministic fake encoder (shared by the
    test folders; treat it as read-only)."""
    from index.encoders import load_encoder
    from index.store import update_index

    index_dir = tmp_path_factory.mktemp("fake-index")
    report = update_index(index_dir, [SPEECHES], load_encoder("fake"))
    assert not report.failed and len(report.indexed) == 5
    return index_dir
