"""The page, static files, widget script, iframe page and example portal are served by the app itself."""
from __future__ import annotations

from service.api.routes.pages import EXAMPLES_DIR, STATIC_DIR
from tests.service.api_support import api_settings, client  # noqa: F401 - fixtures


def test_page_widget_embed_and_portal_are_served(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html") and "政策问答" in r.text
    r = client.get("/widget.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/javascript")
    assert r.text == (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    r = client.get("/embed", params={"title": "问答", "key": "k"})
    assert r.status_code == 200 and r.text == (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert r.headers["content-security-policy"].startswith("frame-ancestors 'self'")
    assert r.headers["cache-control"] == "no-cache"  # a changed frame-ancestors policy applies at the next load
    r = client.get("/example/portal")
    assert r.status_code == 200 and r.text == (EXAMPLES_DIR / "portal.html").read_text(encoding="utf-8")


def test_static_files_and_their_errors(client):
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file():
            assert client.get(f"/static/{path.name}").status_code == 200, path.name
    r = client.get("/static/missing.js")
    assert r.status_code == 404 and r.json()["error"] == "Not Found"
    assert client.get("/static/../settings.py").status_code == 404
