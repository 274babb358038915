"""Every theorem-like block of the book is tied to the lab cell that checks it.

A *theorem-like block* is a ``{prf:theorem}``, ``{prf:lemma}``, ``{prf:proposition}`` or ``{prf:corollary}``
directive in ``book/*.md``. Each one must carry a ``:label:``, and its label must be referenced in a lab
(``notebooks/[0-9]*.md``) in one of two ways:

* **checked**: ``{prf:ref}`label``` appears in a markdown cell that is immediately followed by a code cell that
  runs (not tagged ``remove-cell``): the cell right before the code that checks the statement numerically;
* **not checkable**: a markdown line that starts with ``Not checked numerically:`` and names the label with
  ``{prf:ref}`label```, followed by the reason (for example a statement about all measurable functions, or one
  that only restates a definition). Such a line sits next to the nearest check.

The test fails for an unlabelled block, for a label that no lab references in either way, and when fewer than
90% of all blocks are *checked*.
"""
from __future__ import annotations

import re
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.md"))
LABS = sorted((ROOT / "notebooks").glob("[0-9]*.md"))
KINDS = ("theorem", "lemma", "proposition", "corollary")
MIN_CHECKED = 0.9
NOT_CHECKED = "Not checked numerically:"

_OPEN = re.compile(r"^(`{3,}|:{3,})\{prf:(" + "|".join(KINDS) + r")\}")
_REF = re.compile(r"\{prf:ref\}`([^`<>]+?)`|\{prf:ref\}`[^`]*<([^`>]+)>`")


def theorem_blocks() -> list[tuple[str, int, str | None]]:
    """``(chapter file, line number, label or None)`` for every theorem-like block of the book."""
    blocks = []
    for path in CHAPTERS:
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if _OPEN.match(line.strip()):
                label = None
                for opt in lines[i + 1:i + 6]:  # options come right after the opening line
                    m = re.match(r"\s*:label:\s*(\S+)", opt)
                    if m:
                        label = m.group(1)
                        break
                    if not opt.strip().startswith(":"):
                        break
                blocks.append((path.name, i + 1, label))
    return blocks


def _refs(text: str) -> set[str]:
    return {a or b for a, b in _REF.findall(text)}


def lab_references() -> tuple[set[str], set[str], set[str]]:
    """Labels referenced (anywhere), referenced right before a running code cell, and marked not checkable."""
    anywhere, checked, uncheckable = set(), set(), set()
    for path in LABS:
        cells = jupytext.read(path).cells
        for i, cell in enumerate(cells):
            if cell.cell_type != "markdown":
                continue
            refs = _refs(cell.source)
            anywhere |= refs
            nxt = cells[i + 1] if i + 1 < len(cells) else None
            if (nxt is not None and nxt.cell_type == "code" and nxt.source.strip()
                    and "remove-cell" not in nxt.metadata.get("tags", ())):
                checked |= refs
            for line in cell.source.splitlines():
                if line.strip().startswith(NOT_CHECKED):
                    uncheckable |= _refs(line)
    return anywhere, checked, uncheckable


def test_every_theorem_like_block_has_a_label():
    missing = [f"{name}:{line}" for name, line, label in theorem_blocks() if label is None]
    assert not missing, f"theorem-like blocks without :label: {missing}"


def test_every_label_is_referenced_by_a_lab():
    anywhere, checked, uncheckable = lab_references()
    labels = [label for _, _, label in theorem_blocks() if label]
    unlinked = [label for label in labels if label not in checked and label not in uncheckable]
    assert not unlinked, (
        f"{len(unlinked)} theorem-like blocks are neither referenced right before a checking code cell of a lab nor "
        f"marked '{NOT_CHECKED} {{prf:ref}}`label` <reason>': {unlinked}")
    assert set(labels) <= anywhere


def test_enough_blocks_are_checked_numerically():
    _, checked, _ = lab_references()
    labels = [label for _, _, label in theorem_blocks() if label]
    assert labels, "no theorem-like blocks found"
    share = sum(label in checked for label in labels) / len(labels)
    assert share >= MIN_CHECKED, (
        f"only {share:.0%} of {len(labels)} theorem-like blocks are referenced right before a checking code cell "
        f"(at least {MIN_CHECKED:.0%} required)")


def test_labels_are_unique():
    labels = [label for _, _, label in theorem_blocks() if label]
    dupes = sorted({label for label in labels if labels.count(label) > 1})
    assert not dupes, f"labels used by more than one block: {dupes}"
