"""Screenshot pages of the built book in headless Chromium, served from 127.0.0.1 (what a reader sees).

Usage: ``python tools/screenshot_pages.py [--out DIR] [--size 1280,3000] book/01-langevin.html notebooks/01-langevin.html``
Writes one PNG per page into DIR (default ``_build/screenshots``) and prints the paths.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


class _Silent(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="+", help="paths relative to _build/html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "screenshots")
    parser.add_argument("--size", default="1280,3000", help="window size WIDTH,HEIGHT")
    args = parser.parse_args()
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if browser is None:
        raise SystemExit("no chromium found: install Debian's chromium package")
    html = ROOT / "_build" / "html"
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Silent, directory=str(html)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as profile:
            for page in args.pages:
                out = args.out / (page.replace("/", "__").removesuffix(".html") + ".png")
                url = f"http://127.0.0.1:{httpd.server_address[1]}/{page}"
                subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={args.size}",
                                "--virtual-time-budget=20000", f"--screenshot={out}", url],
                               capture_output=True, timeout=120, check=True)
                print(out)
    finally:
        httpd.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
