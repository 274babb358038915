"""`make lab` serves JupyterLab with the widget extension: start it on 127.0.0.1, query it, stop it.

Runs the Makefile target itself (with a random free port and a token), so the command a reader types is
the one tested. ``-o .venv/.installed`` keeps make from reinstalling the environment inside a test.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str | None = None, timeout: float = 5.0) -> tuple[int, str]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, ""


def port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "jupyter").exists(), reason="no .venv/bin/jupyter: run `make venv`")
def test_make_lab_serves_jupyterlab_with_widgets(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    lab_args = f"--IdentityProvider.token={token} --ServerApp.open_browser=False"
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "lab", f"PORT={port}", f"LAB_ARGS={lab_args}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"make lab exited early:\n{(tmp_path / 'lab.log').read_text()[-3000:]}"
            try:
                status, body = get(f"{base}/api/status", token)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, f"JupyterLab did not answer within {START_TIMEOUT:.0f} s"
        assert "started" in json.loads(body)

        # The token is required, and the Lab page is served with it.
        assert get(f"{base}/api/status")[0] == 403
        code, page = get(f"{base}/lab?token={token}")
        assert code == 200 and "jupyter-config-data" in page
        # widgets work: the ipywidgets Lab extension is among the extensions the page loads
        assert "@jupyter-widgets/jupyterlab-manager" in page

        # the server runs from notebooks/, and the kernel is the pinned environment's python3
        code, listing = get(f"{base}/api/contents", token)
        assert code == 200
        assert "01-langevin.ipynb" in {item["name"] for item in json.loads(listing)["content"]}
        code, specs = get(f"{base}/api/kernelspecs", token)
        assert code == 200 and "python3" in json.loads(specs)["kernelspecs"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # our own process group: make and the jupyter server it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
    deadline = time.monotonic() + 10
    while port_is_open(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_is_open(port), "JupyterLab still listens after SIGTERM"
