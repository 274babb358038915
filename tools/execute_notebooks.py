"""Execute notebooks in place with the pinned environment and store their outputs (what nbval compares).

Usage: ``python tools/execute_notebooks.py notebooks/01-langevin.ipynb [...]`` (``make execute NB=...``); a lab's
MyST text twin ``notebooks/NN-name.md`` may be named instead of its ``.ipynb``.

A lab's source is its MyST Markdown notebook ``notebooks/NN-name.md`` (paired with the ``.ipynb`` by jupytext,
see the ``jupytext`` entry of its metadata). The cells are read from the ``.md``, executed, and written to the
``.ipynb`` with their outputs; cell ids are kept and no execution timestamps are stored, so that re-running an
unchanged lab on the same machine reproduces the committed file byte for byte. The ``.md`` is not rewritten.
Records each notebook's wall time in ``notebooks/runtimes.json`` for the Reproducibility page.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from nbclient import NotebookClient

from colab_cell import ensure_install_cell
from kernelspec import pinned_kernel

ROOT = Path(__file__).resolve().parents[1]
RUNTIMES = ROOT / "notebooks" / "runtimes.json"
TEXT_FORMAT = "md:myst"


def text_twin(path: Path) -> Path | None:
    """The paired MyST notebook of ``path`` (an ``.ipynb``), or None for unpaired notebooks (the assignments)."""
    md = path.with_suffix(".md")
    return md if md.exists() else None


def load_sources(path: Path) -> nbformat.NotebookNode:
    """The notebook to execute: the ``.md``'s cells, with the ids (and old outputs) of the ``.ipynb``."""
    md = text_twin(path)
    if md is None:
        return nbformat.read(path, as_version=4)
    source = jupytext.read(md, fmt=TEXT_FORMAT)
    if path.exists():
        return combine_inputs_with_outputs(source, nbformat.read(path, as_version=4), fmt=TEXT_FORMAT)
    source.metadata.get("jupytext", {}).pop("text_representation", None)
    return source


def execute(path: Path) -> float:
    nb = load_sources(path)
    if "assignments" not in path.parts:
        ensure_install_cell(nb)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:  # stderr in a stored output would make nbval fail on any machine
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                raise RuntimeError(f"{path}: a cell wrote to stderr:\n{out.get('text')}")
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)
    return seconds


def main(paths: list[str]) -> int:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    runtimes = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}
    for p in paths:
        path = Path(p).resolve().with_suffix(".ipynb")
        with pinned_kernel():  # the kernel is this environment's Python, whatever kernelspecs exist elsewhere
            seconds = execute(path)
        key = str(path.relative_to(ROOT))
        runtimes[key] = {"seconds": round(seconds, 1), "date": dt.date.today().isoformat()}
        print(f"{key}: {seconds:.1f} s")
        RUNTIMES.write_text(json.dumps(runtimes, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
