"""Build the HTML book with Sphinx warnings as errors.

By default notebooks are rendered with their stored (nbval-verified) outputs; ``--execute`` re-runs every
notebook during the build (jupyter-book's ``execute_notebooks: force``).
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--execute", action="store_true", help="re-execute every notebook during the build")
    parser.add_argument("--builder", default="html")
    args = parser.parse_args()
    write_reproducibility_tables()
    config = ROOT / "_config.yml"
    if args.execute:
        text = config.read_text().replace('execute_notebooks: "off"', "execute_notebooks: force")
        config = GENERATED / "_config_execute.yml"
        config.write_text(text)
    jb = Path(sys.executable).with_name("jupyter-book")
    # A fresh build each time: Sphinx only reports warnings for the files it re-reads.
    shutil.rmtree(ROOT / "_build" / "html", ignore_errors=True)
    shutil.rmtree(ROOT / "_build" / ".doctrees", ignore_errors=True)
    cmd = [str(jb), "build", str(ROOT), "--config", str(config), "--builder", args.builder,
           "-W", "-n", "--keep-going", "--all"]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
