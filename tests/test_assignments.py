"""Course assignments: generated once per session with otter assign, graded locally without Docker."""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import assignments  # noqa: E402

pytest.importorskip("otter")
NAMES = [p.stem for p in assignments.master_notebooks()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    assignments.generate(out)
    return out


def _master_parts(name: str):
    """Solution lines (inside BEGIN/END SOLUTION or tagged # SOLUTION) and public / hidden test names."""
    nb = nbformat.read(assignments.MASTERS / f"{name}.ipynb", as_version=4)
    solution_lines, public, hidden = [], [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = cell.source
        inside = False
        for line in src.splitlines():
            if "# BEGIN SOLUTION" in line:
                inside = True
            elif "# END SOLUTION" in line:
                inside = False
            elif inside or line.rstrip().endswith("# SOLUTION"):
                solution_lines.append(line.replace("# SOLUTION", "").strip())
        for test in re.findall(r"^def (test_\w+)\(", src, flags=re.M):
            (hidden if "hidden: true" in src else public).append(test)
    return [s for s in solution_lines if s], public, hidden


def test_at_least_six_assignments():
    assert len(NAMES) >= 6


@pytest.mark.parametrize("name", NAMES)
def test_student_version_has_no_solutions_and_no_hidden_tests(built, name):
    text = (built / name / "student" / f"{name}.ipynb").read_text()
    student = nbformat.reads(text, as_version=4)
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    solution_lines, public, hidden = _master_parts(name)
    assert solution_lines and public and hidden
    assert "SOLUTION" not in text and "BEGIN TEST" not in text
    for line in solution_lines:
        assert line not in code, f"solution line leaked into the student notebook: {line!r}"
    for test in hidden:
        assert test not in text, f"hidden test {test} leaked into the student notebook"
    for test in public:
        assert test in text, f"public test {test} missing from the student notebook"


@pytest.mark.parametrize("name", NAMES)
def test_solutions_pass_every_test_and_blank_fails_hidden_tests(built, name):
    # In-process runs of the notebooks against the autograder's tests (fast); the otter grading path itself
    # (a kernel per submission) is exercised by the two tests below.
    ag_zip = assignments.autograder_zip(name, built)
    solved = assignments.check_in_process(built / name / "autograder" / f"{name}.ipynb", ag_zip)
    assert solved["possible"] >= 8
    assert solved["total"] == solved["possible"], solved
    blank = assignments.check_in_process(built / name / "student" / f"{name}.ipynb", ag_zip)
    assert blank["possible"] == solved["possible"]
    questions = [k for k in solved if re.fullmatch(r"q\d+", k)]
    assert len(questions) >= 4
    for q in questions:  # every question has hidden points that a blank answer does not earn
        assert blank[q] < solved[q], (q, blank)
    assert blank["total"] <= 0.25 * blank["possible"], blank


def test_otter_grades_a_solutions_notebook_with_full_marks(built):
    name = "a6-denoising"
    row = assignments.grade_one(built / name / "autograder" / f"{name}.ipynb", assignments.autograder_zip(name, built))
    assert row["total"] == row["possible"] >= 8, row


ANSWERS_A1 = {  # what a student types into assignment 1; Question 3's predicted variance is wrong on purpose
    "def gaussian_score": "def gaussian_score(x, mu, var):\n    return (mu - x) / var",
    "def ula_step": "def ula_step(x, score, step, z):\n    return x + step / 2 * score(x) + step ** 0.5 * z",
    "step = 0.5": (
        "step = 0.5\npredicted_var = 1.0\nx = np.zeros(2000)\nfor _ in range(400):\n"
        "    x = ula_step(x, lambda y: gaussian_score(y, 0.0, 1.0), step, rng.standard_normal(x.shape))\n"
        "empirical_var = float(np.var(x))"
    ),
    "max_stable_step": "max_stable_step = 4 * 0.25",
}


def answer(student: Path, answers: dict[str, str], dest: Path) -> Path:
    """Fill the ``...`` cells of a student notebook whose source starts with a key of ``answers``."""
    nb = nbformat.read(student, as_version=4)
    used = set()
    for cell in nb.cells:
        for start, src in answers.items():
            if cell.cell_type == "code" and cell.source.startswith(start) and "..." in cell.source:
                cell.source = src
                used.add(start)
    assert used == set(answers)
    nbformat.write(nb, dest)
    return dest


def test_sample_submission_folder_gets_the_expected_score(built, tmp_path):
    name = "a1-langevin"
    folder = tmp_path / "submissions"
    folder.mkdir()
    answer(built / name / "student" / f"{name}.ipynb", ANSWERS_A1, folder / "student1.ipynb")
    out = tmp_path / "grades.csv"
    rows = assignments.grade(assignments.autograder_zip(name, built), [str(folder)], out)
    assert len(rows) == 1
    # Question 3 loses its formula test (1 of 3 points); everything else is right: 8 of 9.
    assert (rows[0]["q1"], rows[0]["q2"], rows[0]["q3"], rows[0]["q4"]) == (2, 2, 2, 2)
    assert (rows[0]["total"], rows[0]["possible"]) == (8, 9)
    with open(out) as fh:
        table = list(csv.DictReader(fh))
    assert table[0]["file"].endswith("student1.ipynb") and float(table[0]["total"]) == 8.0


def test_grade_rejects_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="neither a notebook"):
        assignments.submissions([str(tmp_path / "missing.txt")])
    with pytest.raises(ValueError, match="make assignments"):
        assignments.autograder_zip("a1-langevin", tmp_path)


def test_student_edition_switch_removes_solutions(tmp_path):
    """`make book STUDENT=1` turns on sphinx-exercise's hide_solutions; with it a solution leaves the HTML."""
    import subprocess

    import build_book
    import yaml

    config = yaml.safe_load(build_book.build_config(execute=False, student=True).read_text())
    assert config["sphinx"]["config"]["hide_solutions"] is True
    assert "sphinx_exercise" in config["sphinx"]["extra_extensions"]
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text("extensions = ['myst_parser', 'sphinx_exercise']\nmyst_enable_extensions = ['dollarmath']\n")
    (src / "index.md").write_text(
        "# Page\n\n```{exercise}\n:label: ex-one\n\nWhat is the ultimate question?\n```\n\n"
        "```{solution} ex-one\n:class: dropdown\n\nFortytwo is the secret answer.\n```\n"
    )
    pages = {}
    for hide in (False, True):
        out = tmp_path / f"html-{hide}"
        subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "-b", "html", "-D", f"hide_solutions={int(hide)}",
                        str(src), str(out)], check=True, capture_output=True, text=True)
        pages[hide] = (out / "index.html").read_text()
    assert "ultimate question" in pages[False] and "Fortytwo is the secret answer" in pages[False]
    assert "ultimate question" in pages[True] and "Fortytwo is the secret answer" not in pages[True]
