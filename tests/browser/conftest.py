"""Fixtures for the rendered-book tests: a headless Chromium and the built HTML served on 127.0.0.1.

Without a browser or a built book these tests skip and say why, except under CI (environment variable
``CI`` set to ``true`` or ``1``, as GitHub Actions and ``.ci/run`` do), where a missing piece is a failure.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from html import unescape
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))  # BOOK_HTML: test another build
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail under CI, where the browser and the build are part of the contract."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(reason)


def find_browser() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the build directory and records every request with its status code."""

    log: list[tuple[str, int]]

    def log_request(self, code="-", size="-"):  # noqa: D401 - record, do not print
        self.server.requests.append((self.path.split("?")[0], int(code) if str(code).isdigit() else 0))

    def log_message(self, format, *args):  # keep the test output clean
        pass


class BookServer:
    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.requests = []
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list[tuple[str, int]]:
        return self.httpd.requests

    def url(self, page: str) -> str:
        return f"http://127.0.0.1:{self.port}/{page}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class Browser:
    """Headless Chromium driven from the command line (``--dump-dom`` and ``--screenshot``)."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--disable-dev-shm-usage", "--hide-scrollbars"]

    def __init__(self, executable: str):
        self.executable = executable

    def _run(self, extra: list[str], url: str, timeout: float = 120) -> subprocess.CompletedProcess:
        # a fresh profile per call, so that several pages can load in parallel
        with tempfile.TemporaryDirectory(prefix="csm-chromium-") as profile:
            cmd = [self.executable, *self.FLAGS, f"--user-data-dir={profile}", *extra, url]
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def dom(self, url: str, budget_ms: int = 20000) -> str:
        """The DOM after scripts ran (MathJax typesetting, widget rendering)."""
        res = self._run(["--window-size=1280,4000", f"--virtual-time-budget={budget_ms}", "--dump-dom"], url)
        if res.returncode != 0 or "<html" not in res.stdout:
            raise RuntimeError(f"chromium --dump-dom failed (exit {res.returncode}): {res.stderr[-2000:]}")
        return res.stdout

    def screenshot(self, url: str, out: Path, size: str = "1280,3000", budget_ms: int = 20000) -> Path:
        res = self._run([f"--window-size={size}", f"--virtual-time-budget={budget_ms}", f"--screenshot={out}"], url)
        if res.returncode != 0 or not out.exists():
            raise RuntimeError(f"chromium --screenshot failed (exit {res.returncode}): {res.stderr[-2000:]}")
        return out


class _HarnessHandler(_QuietHandler):
    """Serves the build, and at ``/__harness__/<page>`` the harness page registered for that page."""

    def do_GET(self):  # noqa: N802 - http.server's name
        m = re.fullmatch(r"/__harness__/([0-9A-Za-z_./-]+\.html)", self.path.split("?")[0])
        if m is None:
            return super().do_GET()
        body = self.server.harnesses[m.group(1)].encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class OfflineBrowser(Browser):
    """Chromium that can resolve no host name but 127.0.0.1, so a page that needs the network fails visibly."""

    FLAGS = [*Browser.FLAGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def harness_page(src: str, script: str, width: int = 1280, height: int = 3000, delay_ms: int = 1000) -> str:
    """A harness page: ``src`` (a path of the build) in a same-origin iframe with id ``page`` of the given size, and
    ``script``, which defines ``run()``; it is called ``delay_ms`` after the page loaded and writes its JSON result
    into ``<pre id="result">``."""
    return (f'<!doctype html><html><body><pre id="result">pending</pre>\n'
            f'<iframe id="page" src="{src}" width="{width}" height="{height}"></iframe>\n<script>\n{script}\n'
            f"document.getElementById('page').addEventListener('load', () => setTimeout(run, {delay_ms}));\n"
            "</script></body></html>")


def run_harness(harness_html: str, page: str, executable: str) -> tuple[dict, list[tuple[str, int]]]:
    """Load ``harness_html`` (a page that loads a book page in a same-origin iframe, runs its checks there and
    writes JSON into ``<pre id="result">``) from a fresh local server; return that JSON and the server's request
    log (path, status)."""
    handler = functools.partial(_HarnessHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    httpd.harnesses = {page: harness_html}
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        dom = OfflineBrowser(executable).dom(f"http://127.0.0.1:{httpd.server_address[1]}/__harness__/{page}")
    finally:
        httpd.shutdown()
        httpd.server_close()
    m = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert m, f"{page}: the harness wrote no result"
    text = unescape(m.group(1))
    assert text != "pending", f"{page}: the page did not load in the harness"
    return json.loads(text), list(httpd.requests)


@pytest.fixture(scope="session")
def built_book() -> Path:
    if not (HTML / "index.html").exists():
        skip_or_fail(f"no built book at {HTML}: run `make book` first")
    return HTML


@pytest.fixture(scope="session")
def browser():
    exe = find_browser()
    if exe is None:
        skip_or_fail("no headless browser found (looked for $CHROMIUM, " + ", ".join(BROWSER_NAMES)
                     + "); on Debian: apt-get install chromium")
    return Browser(exe)


@pytest.fixture()
def book_server(built_book):
    with BookServer(built_book) as server:
        yield server
