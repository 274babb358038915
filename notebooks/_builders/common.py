"""Tiny helpers shared by the chapter 2-4 notebook builders (nbformat cells)."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]


class Builder:
    """Collects markdown and code cells and writes an (unexecuted) notebook."""

    def __init__(self) -> None:
        self.cells = []

    def md(self, text: str) -> None:
        self.cells.append(new_markdown_cell(text.strip("\n")))

    def code(self, text: str, tags: list[str] | None = None) -> None:
        cell = new_code_cell(text.strip("\n"))
        if tags:
            cell.metadata["tags"] = tags
        self.cells.append(cell)

    def write(self, name: str) -> None:
        nb = new_notebook(cells=self.cells, metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        })
        out = ROOT / "notebooks" / name
        nbformat.write(nb, out)
        print(f"wrote {out.relative_to(ROOT)} ({len(self.cells)} cells)")
