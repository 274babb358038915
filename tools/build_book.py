"""Build the HTML book with Sphinx warnings as errors.

By default notebooks are rendered with their stored (nbval-verified) outputs; ``--execute`` re-runs every
notebook during the build (jupyter-book's ``execute_notebooks: force``); ``--student`` builds an edition
without the exercise solutions into ``_build/student/_build/html``; ``--builder pdflatex`` builds the whole
book as one PDF with Sphinx's LaTeX writer and XeLaTeX (``make pdf``), in ``_build/pdf/_build/latex``, and copies it
to ``_build/html/`` (the preface links to it there) and ``_build/``. The HTML build copies a PDF built earlier.
Also writes the generated tables that the Reproducibility page includes.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import yaml

from kernelspec import pinned_kernel

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "_build" / "generated"
KEY_PACKAGES = [
    "convexscore", "numpy", "scipy", "cvxpy", "clarabel", "torch", "matplotlib", "ipywidgets",
    "jupyter-book", "sphinx", "myst-nb", "nbval", "pytest", "joblib",
]
PDF_NAME = "convex-score-matching.pdf"  # latex.latex_documents.targetname in _config.yml, as .pdf
PDF_BUILD = ROOT / "_build" / "pdf"  # its own output path: a PDF build leaves the HTML build's doctrees alone
PDF = PDF_BUILD / "_build" / "latex" / PDF_NAME


def fix_exercise_references(tex: Path) -> int:
    """Point references to sphinx-exercise exercises at the exercise, with its number; returns how many.

    sphinx-exercise 1.2.1's LaTeX output labels an exercise ``exercise:<label>`` (a phantom section, numbered
    in its title "Exercise 2.5.1 (...)") while references ask for ``<doc>:<label>``, which LaTeX prints as "??".
    """
    text = tex.read_text(encoding="utf-8")
    numbers = dict(re.findall(
        r"\\label\{exercise:([^}]+)\}\s*\\begin\{sphinxadmonition\}\{note\}\{Exercise ([0-9.]+)", text))

    def replace(m: re.Match) -> str:
        label = m.group(2)
        if label not in numbers:
            return m.group(0)
        return f"\\hyperref[exercise:{label}]{{Exercise {numbers[label]}}}"

    text, count = re.subn(
        r"\\hyperref\[\\detokenize\{([^}:]+):([^}]+)\}\]\{Exercise \\ref\{\\detokenize\{\1:\2\}\}\}",
        replace, text)
    tex.write_text(text, encoding="utf-8")
    return count


UNNUMBERED_PARTS = ("Front matter", "Back matter")
"""Parts of ``_toc.yml`` whose chapters are unnumbered in the HTML; the PDF leaves them unnumbered too."""


def unnumber_front_and_back_matter(tex: Path) -> int:
    """Star the chapters (and their sections) of the front and back matter; returns how many chapters.

    Sphinx's LaTeX writer numbers every chapter, so the notation page became Chapter 1 and every chapter of the
    book was one higher in the PDF than in the HTML. A starred chapter is still listed in the table of contents.
    The bibliography page's own chapter heading is dropped: the bibliography environment opens a chapter itself,
    which left an empty chapter before it.
    """
    out, count, unnumbered = [], 0, False
    for line in tex.read_text(encoding="utf-8").split("\n"):
        part = re.fullmatch(r"\\part\{(.+)\}", line)
        if part:
            unnumbered = part.group(1) in UNNUMBERED_PARTS
        chapter = re.fullmatch(r"\\chapter\{(.+)\}", line)
        if unnumbered and chapter and chapter.group(1) == "Bibliography":
            count += 1  # the bibliography environment that follows opens its own unnumbered chapter
            continue
        if unnumbered and chapter:
            out += [f"\\chapter*{{{chapter.group(1)}}}", f"\\addcontentsline{{toc}}{{chapter}}{{{chapter.group(1)}}}",
                    f"\\markboth{{{chapter.group(1)}}}{{}}"]
            count += 1
            continue
        if unnumbered:
            line = re.sub(r"^\\(section|subsection|subsubsection)\{", r"\\\1*{", line)
        out.append(line)
    tex.write_text("\n".join(out), encoding="utf-8")
    return count


def publish_pdf() -> None:
    """Copy the built PDF next to the HTML (the preface's link works offline) and to ``_build/``."""
    if not PDF.exists():
        return
    shutil.copy2(PDF, ROOT / "_build" / PDF_NAME)
    if (ROOT / "_build" / "html").is_dir():
        shutil.copy2(PDF, ROOT / "_build" / "html" / PDF_NAME)


def write_reproducibility_tables() -> None:
    GENERATED.mkdir(parents=True, exist_ok=True)
    rows = ["| package | version |", "|---|---|", f"| Python | {sys.version.split()[0]} |"]
    for name in KEY_PACKAGES:
        try:
            rows.append(f"| {name} | {metadata.version(name)} |")
        except metadata.PackageNotFoundError:
            rows.append(f"| {name} | not installed |")
    (GENERATED / "versions.md").write_text("\n".join(rows) + "\n")

    runtimes_file = ROOT / "notebooks" / "runtimes.json"
    runtimes = json.loads(runtimes_file.read_text()) if runtimes_file.exists() else {}
    in_book = set(re.findall(r"file:\s*(notebooks/\S+?)\s*$", (ROOT / "_toc.yml").read_text(), flags=re.M))
    runtimes = {nb: info for nb, info in runtimes.items() if nb.removesuffix(".ipynb") in in_book}  # pages in the book
    rows = ["| notebook | run time (s, 1 thread) | executed on |", "|---|---|---|"]
    for nb in sorted(runtimes):
        info = runtimes[nb]
        rows.append(f"| `{nb}` | {info['seconds']:.1f} | {info['date']} |")
    if not runtimes:
        rows.append("| (none recorded yet) | | |")
    (GENERATED / "runtimes.md").write_text("\n".join(rows) + "\n")


def build_config(execute: bool, student: bool) -> Path:
    """The book's _config.yml, or a generated variant of it for EXECUTE=1 and the student edition."""
    config = ROOT / "_config.yml"
    if not (execute or student):
        return config
    data = yaml.safe_load(config.read_text())
    if execute:
        data["execute"]["execute_notebooks"] = "force"
    if student:
        data["sphinx"]["config"]["hide_solutions"] = True  # sphinx-exercise drops every solution
    name = "_config" + ("_execute" if execute else "") + ("_student" if student else "") + ".yml"
    GENERATED.mkdir(parents=True, exist_ok=True)  # a fresh clone has no _build/ yet
    out = GENERATED / name
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--execute", action="store_true", help="re-execute every notebook during the build")
    parser.add_argument("--student", action="store_true",
                        help="student edition without solutions, built into _build/student/_build/html")
    parser.add_argument("--builder", default="html", choices=["html", "pdflatex", "latex"],
                        help="html (default); pdflatex: the whole book as one PDF (make pdf); latex: the .tex only")
    args = parser.parse_args()
    if args.builder != "html" and args.student:
        parser.error("--student builds the HTML edition only")
    write_reproducibility_tables()
    config = build_config(args.execute, args.student)
    jb = Path(sys.executable).with_name("jupyter-book")
    out = ROOT / "_build" / "student" if args.student else ROOT
    if args.builder != "html":
        out = PDF_BUILD
    # A fresh build each time: Sphinx only reports warnings for the files it re-reads.
    shutil.rmtree(out / "_build" / ("html" if args.builder == "html" else "latex"), ignore_errors=True)
    shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)
    # The PDF: jupyter-book writes the LaTeX, the .tex is corrected, then its Makefile runs latexmk (XeLaTeX).
    builder = "latex" if args.builder == "pdflatex" else args.builder
    cmd = [str(jb), "build", str(ROOT), "--config", str(config), "--builder", builder,
           "--path-output", str(out), "-W", "-n", "--keep-going", "--all"]
    with pinned_kernel():  # EXECUTE=1 runs the notebooks with this environment's Python
        code = subprocess.call(cmd, cwd=ROOT)
    if code != 0:
        return code
    if args.builder == "pdflatex":
        latex_dir = PDF.parent
        fixed = fix_exercise_references(latex_dir / PDF_NAME.replace(".pdf", ".tex"))
        print(f"{fixed} references to exercises pointed at their exercise")
        starred = unnumber_front_and_back_matter(latex_dir / PDF_NAME.replace(".pdf", ".tex"))
        print(f"{starred} chapters of the front and back matter unnumbered")
        # latexmk reruns XeLaTeX until the cross-references settle; its output goes to a log, errors to stderr
        log = latex_dir / "make-all-pdf.log"
        with log.open("w") as out:
            code = subprocess.call(["make", "all-pdf", "LATEXOPTS=-interaction=nonstopmode -halt-on-error"],
                                   cwd=latex_dir, stdout=out, stderr=subprocess.STDOUT)
        if code != 0:
            tail = log.read_text(errors="replace").splitlines()[-40:]
            print("\n".join(tail) + f"\nerror: the LaTeX run failed; the whole log is {log}", file=sys.stderr)
            return code
    if args.builder == "html":
        if not args.student:
            publish_pdf()
        print(f"The book is built: open file://{out / '_build' / 'html' / 'index.html'}")
    elif args.builder == "pdflatex":
        if not PDF.exists():
            print(f"error: the LaTeX build finished but wrote no {PDF}", file=sys.stderr)
            return 1
        publish_pdf()
        print(f"The PDF is built: {ROOT / '_build' / PDF_NAME}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
