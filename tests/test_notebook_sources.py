"""Every builder in tools/notebook_sources/ regenerates exactly the cells of the committed (executed) notebook.

So a lab can be edited in its builder and re-executed without losing or silently changing cells.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILDERS = sorted((ROOT / "tools" / "notebook_sources").glob("build_*.py"))


def _cells(path: Path) -> list[tuple[str, str, tuple]]:
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ())), c.metadata.get("mystnb")) for c in nb.cells]


def test_every_lab_has_a_builder():
    labs = {p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb")}
    built = {b.stem.removeprefix("build_").replace("_", "-") for b in BUILDERS}
    assert labs == built


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda p: p.stem)
def test_builder_reproduces_committed_cells(builder, tmp_path):
    env = dict(os.environ, NBBUILD_OUT=str(tmp_path))
    subprocess.run([sys.executable, str(builder)], check=True, env=env, cwd=tmp_path, capture_output=True, text=True)
    (built,) = tmp_path.glob("*.ipynb")
    committed = ROOT / "notebooks" / built.name
    assert _cells(built) == _cells(committed), f"{builder.name} no longer matches {committed.name}"
