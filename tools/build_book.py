"""Build the HTML book with Sphinx warnings as errors.

By default notebooks are rendered with their stored (nbval-verified) outputs; ``--execute`` re-runs every
notebook during the build (jupyter-book's ``execute_notebooks: force``); ``--student`` builds an edition
without the exercise solutions into ``_build/student/_build/html``.
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
    parser.add_argument("--builder", default="html")
    args = parser.parse_args()
    write_reproducibility_tables()
    config = build_config(args.execute, args.student)
    jb = Path(sys.executable).with_name("jupyter-book")
    out = ROOT / "_build" / "student" if args.student else ROOT
    # A fresh build each time: Sphinx only reports warnings for the files it re-reads.
    shutil.rmtree(out / "_build" / "html", ignore_errors=True)
    shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)
    cmd = [str(jb), "build", str(ROOT), "--config", str(config), "--builder", args.builder,
           "--path-output", str(out), "-W", "-n", "--keep-going", "--all"]
    with pinned_kernel():  # EXECUTE=1 runs the notebooks with this environment's Python
        code = subprocess.call(cmd, cwd=ROOT)
    if code == 0:
        print(f"The book is built: open file://{out / '_build' / 'html' / 'index.html'}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
