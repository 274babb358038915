"""Every lab is a MyST Markdown notebook (what people edit) paired with its executed ``.ipynb`` (what nbval,
Binder and Colab use), and the two hold the same cells. The assignment masters (otter-grader's format, raw cells
included) are paired the same way.

After editing ``notebooks/NN-name.md``, ``make execute NB=notebooks/NN-name.ipynb`` re-runs it and stores the
outputs; this test fails until then.
"""
from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
MASTERS = sorted((ROOT / "notebooks" / "assignments").glob("a[0-9]-*.ipynb"))  # otter-grader masters


def _cells(nb) -> list[tuple]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ())), c.metadata.get("mystnb"))
            for c in nb.cells]


def test_labs_exist():
    assert len(LABS) == 12, [p.name for p in LABS]
    assert len(MASTERS) == 6, [p.name for p in MASTERS]


@pytest.mark.parametrize("lab", LABS + MASTERS, ids=lambda p: p.stem)
def test_lab_is_paired_with_its_markdown_twin(lab):
    md = lab.with_suffix(".md")
    assert md.exists(), f"{lab.name} has no MyST twin {md.name} (jupytext --set-formats ipynb,md:myst {lab.name})"
    executed = nbformat.read(lab, as_version=4)
    assert executed.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst", f"{lab.name} is not paired"
    text = jupytext.read(md)
    assert text.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst", f"{md.name} is not paired"
    assert _cells(text) == _cells(executed), (
        f"{md.name} and {lab.name} differ: run `make execute NB={lab.relative_to(ROOT)}` after editing the .md")


@pytest.mark.parametrize("lab", LABS + MASTERS, ids=lambda p: p.stem)
def test_every_code_cell_has_stored_outputs(lab):
    nb = nbformat.read(lab, as_version=4)
    unrun = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and c.source.strip() and c.get("execution_count") is None
             and "remove-cell" not in c.metadata.get("tags", ())]
    assert not unrun, f"{lab.name}: cells {unrun} were never executed (nbval would skip them)"
