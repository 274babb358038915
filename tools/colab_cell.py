"""The hidden first code cell that lets a notebook run on Colab (or any Python without the book's library).

``make execute`` calls :func:`ensure_install_cell` before running a notebook, so every lab keeps the cell even when
a builder script regenerates the notebook. The repository URL must match ``_config.yml``
(``tests/test_launch_config.py`` checks it).
"""
from __future__ import annotations

import nbformat

REPO = "https://github.com/convex-score-matching/convex-score-matching"
MARKER = 'find_spec("convexscore")'
SOURCE = f'''# On Colab (or any Python without the book's library) install it from the repository first.
import importlib.util

if importlib.util.find_spec("convexscore") is None:
    REPO = "{REPO}"  # as in _config.yml
    %pip install --quiet "convexscore @ git+{{REPO}}"'''


def ensure_install_cell(nb: nbformat.NotebookNode) -> bool:
    """Insert the install cell (tagged ``remove-cell``, so the HTML hides it) before the first code cell.

    Returns True if the notebook changed.
    """
    if any(MARKER in cell.source for cell in nb.cells if cell.cell_type == "code"):
        return False
    cell = nbformat.v4.new_code_cell(SOURCE, metadata={"tags": ["remove-cell"]})
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, cell)
    return True
