"""`make test-pdf`: build the whole-book PDF and check it (pages, chapters, no unresolved "??" references).

Without TeX (xelatex, latexmk) or pdftotext this skips with a message, except under CI (CI=true or 1), where it
fails: CI installs Debian's TeX Live and poppler-utils (.ci/run).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "convex-score-matching.pdf"
MIN_PAGES = 150  # 288 pages on 2026-12-08; far fewer means chapters went missing
CHAPTERS = 12


def main() -> int:
    ci = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
    missing = [t for t in ("xelatex", "latexmk", "pdftotext", "pdfinfo") if shutil.which(t) is None]
    if missing:
        msg = f"test-pdf: {', '.join(missing)} not installed (Debian: see README, 'The PDF')"
        if ci:
            print(f"error: {msg}; CI is set, so this is an error, not a skip", file=sys.stderr)
            return 1
        print(f"skipped {msg}")
        return 0
    if "--no-build" not in sys.argv:
        code = subprocess.call([sys.executable, str(ROOT / "tools" / "build_book.py"), "--builder", "pdflatex"])
    else:
        code = 0
    if code != 0 or not PDF.exists():
        print("error: the PDF build failed", file=sys.stderr)
        return 1
    info = subprocess.run(["pdfinfo", str(PDF)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, flags=re.M).group(1))
    text = subprocess.run(["pdftotext", str(PDF), "-"], capture_output=True, text=True, check=True).stdout
    tex = (ROOT / "_build" / "pdf" / "_build" / "latex" / "convex-score-matching.tex").read_text(encoding="utf-8")
    titles = [t.replace("\\sphinxhyphen{}", "-") for t in re.findall(r"^\\chapter\*?\{(.+)\}$", tex, flags=re.M)]
    flat = " ".join(text.split())
    chapters = [t for t in titles if t in flat]
    problems = []
    if pages < MIN_PAGES:
        problems.append(f"{pages} pages, expected at least {MIN_PAGES}")
    if len(titles) < CHAPTERS + 3 or len(chapters) != len(titles):
        problems.append(f"{len(titles)} chapters in the LaTeX ({len(chapters)} of them in the PDF's text), "
                        f"expected notation, {CHAPTERS} chapters and the back matter")
    numbered = re.findall(r"^\\chapter\{(.+)\}$", tex, flags=re.M)
    if len(numbered) != CHAPTERS:
        problems.append(f"{len(numbered)} numbered chapters, expected the book's {CHAPTERS} (front and back matter "
                        "are unnumbered, so chapter numbers agree with the HTML)")
    unresolved = [line.strip() for line in text.splitlines() if "??" in line]
    if unresolved:
        problems.append(f"{len(unresolved)} unresolved references ('??'), e.g. {unresolved[:3]}")
    if "Bibliography" not in text:
        problems.append("no bibliography")
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"test-pdf: {PDF.name}: {pages} pages, {len(titles)} chapters, no unresolved references")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
