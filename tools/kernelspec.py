"""The Jupyter kernel that runs the book's notebooks: this environment's Python, by its real path.

``ipykernel install`` records ``sys.executable`` as it was reached. If ``.venv`` was reached through a
symlink (a git worktree sharing the environment) or the checkout moved, that path goes stale and every
notebook execution fails with "No such file or directory". Here the interpreter is recorded as
``realpath(sys.prefix)/bin/python`` instead, and the execution tools put a spec written this way first on
``JUPYTER_PATH``, so a user-level ``python3`` kernelspec cannot shadow it either.

``python tools/kernelspec.py`` installs the spec into the environment (``make venv`` does this).
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

NAME = "python3"
DISPLAY_NAME = "Python 3 (convexscore)"


def environment_python() -> str:
    """This environment's interpreter, independent of symlinks on the way to it."""
    return str(Path(os.path.realpath(sys.prefix)) / "bin" / "python")


def write_kernelspec(kernels_dir: Path) -> Path:
    """Write ``kernels_dir/python3/kernel.json`` for this environment and return its path."""
    spec_dir = kernels_dir / NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [environment_python(), "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": True},
    }
    path = spec_dir / "kernel.json"
    path.write_text(json.dumps(spec, indent=1) + "\n")
    return path


@contextlib.contextmanager
def pinned_kernel():
    """Within the block, the ``python3`` kernel that Jupyter tools find first is this environment's Python."""
    old = os.environ.get("JUPYTER_PATH")
    with tempfile.TemporaryDirectory(prefix="csm-kernel-") as tmp:
        write_kernelspec(Path(tmp) / "kernels")
        os.environ["JUPYTER_PATH"] = tmp if not old else tmp + os.pathsep + old
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


if __name__ == "__main__":
    installed = write_kernelspec(Path(os.path.realpath(sys.prefix)) / "share" / "jupyter" / "kernels")
    print(f"installed kernelspec {installed}")
