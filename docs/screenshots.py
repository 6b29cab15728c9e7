"""Take the screenshots in docs/ from a running `policyqa serve` (headless Chromium from the Debian package).

    policyqa ingest data/speeches && policyqa serve &      # the sample corpus
    .venv/bin/python docs/screenshots.py [--url http://127.0.0.1:8000] [--out docs]
"""
from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from pathlib import Path

QUESTION = "招商引资有哪些要求？"
CHROMIUM = "/usr/bin/chromium"
ANSWER_TIMEOUT_MS = 60_000


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="address of the running service")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="folder for the PNGs")
    parser.add_argument("--question", default=QUESTION, help="question asked in every screenshot")
    return parser.parse_args()


def check_ready(url: str) -> None:
    """Exit with a clear message unless the service answers /readyz."""
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=10) as response:
            if response.status == 200:
                return
    except (urllib.error.URLError, OSError) as exc:
        sys.exit(f"{url} is not ready ({exc}); run `policyqa ingest data/speeches && policyqa serve` first")
    sys.exit(f"{url}/readyz did not answer 200")


def answered(scope) -> None:
    """Wait for the last turn's answer and insist that it is a cited answer, not a refusal or an error."""
    from playwright.sync_api import expect

    turn = scope.locator(".turn").last
    expect(turn).to_have_attribute("data-state", "done", timeout=ANSWER_TIMEOUT_MS)
    if turn.get_attribute("data-answerable") != "true" or turn.locator("button.cite").count() == 0:
        sys.exit("the answer has no citations: is the sample corpus ingested?")


def ask(scope, question: str) -> None:
    """Type the question and send it."""
    scope.locator("#question").fill(question)
    scope.locator("#question").press("Enter")
    answered(scope)


def main() -> None:
    """Write chat-page.png, chat-citation.png, widget.png and chat-mobile.png."""
    from playwright.sync_api import expect, sync_playwright

    args = parse_args()
    url = args.url.rstrip("/")
    check_ready(url)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])

        desktop = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page = desktop.new_page()
        page.goto(url + "/")
        ask(page, args.question)
        page.screenshot(path=args.out / "chat-page.png")
        page.locator(".turn").last.locator(".answer-text button.cite").first.click()
        expect(page.locator("#reader")).to_have_attribute("data-state", "ready")
        page.wait_for_timeout(300)  # let the scroll to the highlight settle
        page.screenshot(path=args.out / "chat-citation.png")
        desktop.close()

        portal = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page = portal.new_page()
        page.goto(url + "/example/portal")
        page.locator("#policyqa-widget .pqa-button").click()
        ask(page.frame_locator("#policyqa-widget iframe"), args.question)
        page.screenshot(path=args.out / "widget.png")
        portal.close()

        phone = browser.new_context(viewport={"width": 375, "height": 780}, device_scale_factor=2, is_mobile=True,
                                    has_touch=True, locale="zh-CN")
        page = phone.new_page()
        page.goto(url + "/")
        ask(page, args.question)
        page.screenshot(path=args.out / "chat-mobile.png")
        phone.close()
        browser.close()
    for name in ("chat-page.png", "chat-citation.png", "widget.png", "chat-mobile.png"):
        print(args.out / name)


if __name__ == "__main__":
    main()
