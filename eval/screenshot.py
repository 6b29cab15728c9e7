"""Screenshot of an HTML eval report in headless Chromium (for docs/eval-report.png).

    python -m eval.screenshot var/eval/dev.html docs/eval-report.png
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path


def find_chromium() -> str:
    """Path of a Chromium/Chrome executable, or an error saying what to install."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError("no chromium on PATH (Debian: apt-get install chromium)")


def screenshot(html: Path, png: Path, width: int = 1440, height: int = 2000, browser: str | None = None,
               timeout: float = 120.0) -> Path:
    """Open `html` in headless Chromium (a throwaway profile, no network needed: the report is self-contained)
    and save a `width` x `height` screenshot of its top to `png`."""
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="policyqa-chromium-") as profile:
        command = [
            browser or find_chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}", "--force-device-scale-factor=1",
            f"--window-size={width},{height}", f"--screenshot={png.resolve()}", html.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return png


def main(argv: list[str] | None = None) -> None:
    """Command line: HTML report in, PNG out."""
    parser = argparse.ArgumentParser(prog="python -m eval.screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=2000)
    parser.add_argument("--browser", default=None, help="Chromium executable (default: found on PATH)")
    args = parser.parse_args(argv)
    print(screenshot(args.html, args.png, args.width, args.height, args.browser))


if __name__ == "__main__":
    main()
