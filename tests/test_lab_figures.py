"""The chapters' figures and tables come from the labs' tagged outputs, stored once in the executed notebooks.

``convexscore.plotting.show(fig, name)`` tags a PNG output; ``tools/lab_figures.py`` (a Sphinx extension) writes
every tagged output to ``_build/lab-figures/`` when the book is built. These tests check the contract without a
build: every figure or table a chapter uses is output by exactly one lab, and no lab writes figure files.
"""
from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from convexscore import plotting  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lab_figures  # noqa: E402

USED = re.compile(r"\{(?:figure|include)\}\s+/_build/lab-figures/([\w-]+)\.(png|md)")


def tagged() -> dict[str, tuple[Path, str]]:
    found: dict[str, tuple[Path, str]] = {}
    for nb in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        for name, (suffix, _) in lab_figures.tagged_outputs(nb).items():
            assert name not in found, f"{name!r} is output by {found[name][0].name} and {nb.name}"
            found[name] = (nb, suffix)
    return found


def test_every_chapter_figure_is_output_by_a_lab():
    outputs = tagged()
    for chapter in sorted((ROOT / "book").glob("*.md")):
        for name, ext in USED.findall(chapter.read_text()):
            assert name in outputs, f"{chapter.name} shows {name}.{ext}, which no lab outputs with show(fig, {name!r})"
            assert outputs[name][1] == "." + ext, f"{chapter.name}: {name} is a {outputs[name][1]} output"


def test_no_figure_is_committed_twice():
    committed = [p for p in ROOT.glob("notebooks/*-figures/*") if p.is_file()] + list(ROOT.glob("book/figures/*"))
    assert not committed, f"figure files next to the notebooks' outputs: {committed}"
    for lab in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.md")):
        text = lab.read_text()
        assert "savefig(" not in text and "def save(" not in text, f"{lab.name} saves figures itself"
        assert "rcParams" not in text, f"{lab.name} sets its own style (use convexscore.plotting.apply_style)"


def test_collect_writes_each_tagged_output(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png = plotting.figure_png(fig)
    assert png == plotting.figure_png(fig), "the same figure must give the same bytes"
    plt.close(fig)
    cell = {"cell_type": "code", "source": "", "metadata": {}, "outputs": [
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "demo", "mime_prefix": ""}},
         "data": {"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"}},
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "tab", "mime_prefix": ""}},
         "data": {"text/markdown": "| a |\n|---|\n| 1 |", "text/plain": "| a |"}},
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "hidden",
                                                                    "mime_prefix": "application/papermill.record/"}},
         "data": {"application/papermill.record/text/plain": "3"}}]}
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "x.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                                               "nbformat_minor": 5}))
    origin = lab_figures.collect(tmp_path)
    assert set(origin) == {"demo", "tab"}
    assert (tmp_path / "_build" / "lab-figures" / "demo.png").read_bytes() == png
    assert (tmp_path / "_build" / "lab-figures" / "tab.md").read_text().startswith("| a |")


@pytest.mark.parametrize("name", ["", "a b", "x/y", "k:v"])
def test_bad_figure_names_are_refused(name):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="figure name"):
        plotting.show(fig, name)
    plt.close(fig)
