"""The ways to run the book agree with each other: Binder pins, the repository URL, CI and the README.

These are cheap file checks; they catch the drift that breaks launch buttons and CI silently
(a Binder pin that no longer matches requirements.txt, a notebook installing from a stale URL).
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def test_binder_pins_match_requirements():
    main, binder = pins(ROOT / "requirements.txt"), pins(ROOT / "binder" / "requirements.txt")
    assert binder, "binder/requirements.txt pins nothing"
    mismatched = {n: (v, main.get(n)) for n, v in binder.items() if main.get(n) != v}
    assert not mismatched, f"binder pins differ from requirements.txt (binder, main): {mismatched}"
    for needed in ("torch", "numpy", "scipy", "cvxpy", "matplotlib", "ipywidgets", "jupyterlab"):
        assert needed in binder, f"binder/requirements.txt lacks {needed}"
    assert binder["torch"].endswith("+cpu"), "Binder must install the CPU build of torch"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in (ROOT / "binder" / "requirements.txt").read_text()


def test_binder_runtime_and_postbuild():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    text = post.read_text()
    assert "set -e" in text, "postBuild must stop at the first error"
    assert "pip install" in text and " -e ." in text, "postBuild must install the convexscore package"


def test_repository_url_is_the_one_in_config():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    for nb in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        source = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
        for found in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", source):
            assert found == url, f"{nb.name} refers to {found}, but _config.yml says {url}"


def test_ci_workflow_mirrors_ci_run_and_readme():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job.get("steps", [])]
    assert any(".ci/run" in s for s in steps), "the GitHub workflow must run .ci/run, as local CI does"
    image = workflow["jobs"]["test"]["container"]["image"]
    assert image.startswith("python:3.11"), f"CI image {image} does not match runtime.txt's Python 3.11"
    readme = (ROOT / "README.md").read_text()
    first_code = re.search(r"```(?:sh|bash|console)?\n(.*?)```", readme, flags=re.S).group(1)
    assert "make book" in first_code and "make test" in first_code, "the README must show both commands first"


def test_every_lab_notebook_can_install_the_library_on_colab():
    """Colab has no convexscore: each lab's hidden first code cell installs it from the configured repository."""
    sys.path.insert(0, str(ROOT / "tools"))
    from colab_cell import REPO, SOURCE

    assert REPO == yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    labs = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert labs
    for nb in labs:
        cells = json.loads(nb.read_text())["cells"]
        first_code = next(c for c in cells if c["cell_type"] == "code")
        assert "".join(first_code["source"]) == SOURCE, f"{nb.name}: the first code cell must be the Colab install cell"
        assert "remove-cell" in first_code["metadata"].get("tags", []), f"{nb.name}: the install cell must be hidden"
