"""Sphinx extension: the chapters show figures and tables that the labs output, from the executed notebooks.

A lab calls ``convexscore.plotting.show(fig, "name")`` (or ``show_table(markdown, "name")``); the output is tagged
in MyST-NB's glue format and stored once, in the executed ``notebooks/*.ipynb``. When the build starts, this
extension writes every tagged output to ``_build/lab-figures/<name>.png`` (or ``.md``), and a chapter shows it
with the ordinary, numbered ``{figure} /_build/lab-figures/<name>.png`` (or ``{include}`` for a table). No figure
file is committed, and nothing in the work tree is written. Names must be unique across the book.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

OUT = Path("_build") / "lab-figures"


def tagged_outputs(notebook: Path) -> dict[str, tuple[str, bytes]]:
    """``{name: (suffix, bytes)}`` for every glue-tagged PNG or Markdown output of ``notebook``."""
    found: dict[str, tuple[str, bytes]] = {}
    for cell in json.loads(notebook.read_text()).get("cells", []):
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            data = out.get("data", {})
            if not name or out.get("metadata", {}).get("scrapbook", {}).get("mime_prefix"):
                continue
            if "image/png" in data:
                found[name] = (".png", base64.b64decode(data["image/png"]))
            elif "text/markdown" in data:
                text = data["text/markdown"]
                found[name] = (".md", ("".join(text) if isinstance(text, list) else text).encode())
    return found


def collect(srcdir: Path) -> dict[str, Path]:
    """Write the tagged outputs of every notebook under ``srcdir/notebooks`` to ``srcdir/_build/lab-figures``."""
    out_dir = srcdir / OUT
    out_dir.mkdir(parents=True, exist_ok=True)
    origin: dict[str, Path] = {}
    for nb in sorted((srcdir / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb.parts:
            continue
        for name, (suffix, payload) in tagged_outputs(nb).items():
            if name in origin and origin[name] != nb:
                raise ExtensionError(f"lab figure {name!r} is output by both {origin[name]} and {nb}: rename one")
            origin[name] = nb
            path = out_dir / f"{name}{suffix}"
            if not path.exists() or path.read_bytes() != payload:
                path.write_bytes(payload)
    return origin


def _on_builder_inited(app: Sphinx) -> None:
    collect(Path(app.srcdir))


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
