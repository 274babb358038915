"""Course assignments: generate the student and autograder versions, and grade submissions without Docker.

    python tools/assignments.py generate [--out _build/assignments] [--run-tests] [NAME ...]
    python tools/assignments.py grade NAME_OR_ZIP SUBMISSION_OR_FOLDER ... [--csv grades.csv]

``generate`` runs ``otter assign`` on every master notebook in ``notebooks/assignments/`` (or the NAMEs given, e.g.
``a1-langevin``) and writes ``OUT/<name>/student/<name>.ipynb`` (for students: no solutions, public tests only)
and ``OUT/<name>/autograder/`` (the solutions notebook and ``<name>-autograder_<date>.zip`` with every test).
``--run-tests`` makes otter check the solutions against all tests while generating.

``grade`` grades submissions locally in this Python environment (otter's non-containerised runner, the same as
``otter run``): each ``.ipynb`` file given, and every ``.ipynb`` inside each folder given. NAME_OR_ZIP is an
autograder zip or an assignment name (its zip is looked up under ``--out``). One row per submission is printed
and, with ``--csv``, written to a CSV file: file, the score of each question, total, possible, percent.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import sys
import warnings
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MASTERS = ROOT / "notebooks" / "assignments"
DEFAULT_OUT = ROOT / "_build" / "assignments"


def master_notebooks(names: list[str] | None = None) -> list[Path]:
    """The master notebooks, sorted; ``names`` (stems like ``a1-langevin``) picks some."""
    found = sorted(MASTERS.glob("a*.ipynb"))
    if not names:
        return found
    by_name = {p.stem: p for p in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ValueError(f"unknown assignment(s) {missing}; choose from {sorted(by_name)}")
    return [by_name[n] for n in names]


def generate(out: Path = DEFAULT_OUT, names: list[str] | None = None, run_tests: bool = False) -> list[Path]:
    """Run ``otter assign`` on each master notebook into ``out/<name>``; returns the assignment folders."""
    from otter.assign import main as otter_assign

    folders = []
    for master in master_notebooks(names):
        dest = (Path(out) / master.stem).resolve()
        with contextlib.chdir(MASTERS), contextlib.redirect_stdout(io.StringIO()) as log:
            try:
                otter_assign(str(master), str(dest), no_run_tests=not run_tests)
            except Exception as exc:
                raise RuntimeError(f"otter assign failed on {master.name}: {exc}\n{log.getvalue()}") from exc
        folders.append(dest)
        print(f"generated {dest}")
    return folders


def autograder_zip(name_or_zip: str, out: Path = DEFAULT_OUT) -> Path:
    """The autograder zip of an assignment name (newest one under ``out``), or the given zip path."""
    path = Path(name_or_zip)
    if path.suffix == ".zip":
        if not path.is_file():
            raise ValueError(f"autograder zip {path} does not exist; run `make assignments` first")
        return path
    zips = sorted((Path(out) / name_or_zip / "autograder").glob("*-autograder_*.zip"))
    if not zips:
        raise ValueError(f"no autograder zip for {name_or_zip!r} under {out}; run `make assignments` first")
    return zips[-1]


def submissions(paths: list[str]) -> list[Path]:
    """Every ``.ipynb`` given, and the ``.ipynb`` files directly inside each folder given (sorted)."""
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.glob("*.ipynb") if not f.name.startswith("."))
        elif p.suffix == ".ipynb" and p.is_file():
            files.append(p)
        else:
            raise ValueError(f"{p} is neither a notebook (.ipynb) nor a folder of notebooks")
    if not files:
        raise ValueError(f"no notebooks found in {paths}")
    return files


def grade_one(submission: Path, ag_zip: Path) -> dict:
    """Grade one notebook; returns {"file", <question>: score, ..., "total", "possible", "percent"}."""
    from otter.api import grade_submission

    from kernelspec import pinned_kernel  # tools/kernelspec.py: the kernel is this environment's Python

    with pinned_kernel(), warnings.catch_warnings():  # otter 7.0 uses a pandas API that pandas deprecates
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        res = grade_submission(str(submission), str(ag_zip), quiet=True)
    row = {"file": str(submission)}
    for name in sorted(res.test_files):
        row[name] = res.get_score(name)
    row.update(total=res.total, possible=res.possible, percent=round(100 * res.total / res.possible, 2))
    return row


def check_in_process(notebook: Path, ag_zip: Path) -> dict:
    """A fast stand-in for :func:`grade_one` used by the tests: run the notebook's code cells in this process
    (skipping otter's own cells; a cell that raises is skipped, as the grader does) and then every test in
    ``ag_zip``. Returns the same row layout as :func:`grade_one`."""
    from otter.test_files.exception_test import ExceptionTestFile
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    env: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb.cells:
            if cell.cell_type != "code" or "otter" in cell.source or "grader." in cell.source:
                continue
            try:
                exec(compile(cell.source, str(notebook), "exec"), env)
            except Exception:  # noqa: BLE001 - an unanswered cell raises; its tests will fail
                pass
    row: dict = {"file": str(notebook)}
    total = possible = 0.0
    with zipfile.ZipFile(ag_zip) as zf:
        names = sorted(n for n in zf.namelist() if n.startswith("tests/") and n.endswith(".py"))
        for name in names:
            tf = ExceptionTestFile.from_string(zf.read(name).decode(), path=name)
            tf.run(env)
            row[tf.name] = tf.score
            total, possible = total + tf.score, possible + tf.possible
    row.update(total=total, possible=possible, percent=round(100 * total / possible, 2))
    return row


def grade(ag_zip: Path, paths: list[str], csv_path: Path | None = None) -> list[dict]:
    """Grade every submission in ``paths`` against ``ag_zip``; optionally write the rows to ``csv_path``."""
    rows = [grade_one(s, ag_zip) for s in submissions(paths)]
    if csv_path is not None:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        with open(csv_path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="build folder (default _build/assignments)")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="student and autograder versions of the master notebooks")
    gen.add_argument("names", nargs="*", help="assignment names (default: all)")
    gen.add_argument("--run-tests", action="store_true", help="check the solutions against all tests")
    gr = sub.add_parser("grade", help="grade submissions without Docker")
    gr.add_argument("autograder", help="assignment name (e.g. a1-langevin) or path to an autograder zip")
    gr.add_argument("paths", nargs="+", help="submitted notebooks and/or folders of notebooks")
    gr.add_argument("--csv", type=Path, default=None, help="write the scores to this CSV file")
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.out, args.names, args.run_tests)
        return 0
    rows = grade(autograder_zip(args.autograder, args.out), args.paths, args.csv)
    for r in rows:
        print(f"{r['file']}: {r['total']:g} / {r['possible']:g} ({r['percent']:g}%)")
    if args.csv:
        print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
