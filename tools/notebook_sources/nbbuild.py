"""Shared helper of the notebook builders in this folder: collect cells, write an unexecuted notebook.

Each ``build_*.py`` script lists a lab's cells; running it writes ``notebooks/<name>.ipynb`` without outputs, and
``make execute NB=notebooks/<name>.ipynb`` then stores the outputs (the committed artefact is the executed notebook).
Set ``NBBUILD_OUT=<dir>`` to write somewhere else (``tests/test_notebook_sources.py`` does, to check that every
builder reproduces the committed notebook's cells).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from colab_cell import ensure_install_cell  # noqa: E402

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class Builder:
    """Collects markdown and code cells and writes an (unexecuted) notebook with the Colab install cell."""

    def __init__(self) -> None:
        self.cells: list = []

    def md(self, text: str) -> None:
        self.cells.append(new_markdown_cell(text.strip("\n")))

    def code(self, text: str, tags: list[str] | None = None, alt: str | None = None) -> None:
        """A code cell; ``tags`` are cell tags (e.g. ``remove-input``), ``alt`` the alt text of its figure output."""
        cell = new_code_cell(text.strip("\n"))
        if tags:
            cell.metadata["tags"] = tags
        if alt:
            cell.metadata["mystnb"] = {"image": {"alt": alt}}
        self.cells.append(cell)

    def write(self, name: str) -> Path:
        nb = new_notebook(cells=self.cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
        ensure_install_cell(nb)
        out_dir = Path(os.environ.get("NBBUILD_OUT", ROOT / "notebooks"))
        out = out_dir / name
        nbformat.write(nb, out)
        print(f"wrote {out} ({len(nb.cells)} cells)")
        return out
