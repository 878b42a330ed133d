"""``python -m sim.engine_build``: compile the replication engine with mypyc (see :mod:`sim.compiled`).

``make app`` and ``make test`` run it first: it returns at once when a build of the modules as they are
exists. A build that fails says why and leaves the engine running as Python.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.compiled import COMPILED, MANIFEST, PACKAGE, built, digest, folder

# C compiler options on top of mypyc's: no multiply and add fused into one rounding (which some
# targets would do by default), so that every floating-point result is the one Python computes.
EXACT_FLOATS = ["-ffp-contract=off"]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build at a time in an environment (a second waits, then finds the build made)."""
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build(sources: dict[str, str]) -> Path:
    """Compile :data:`COMPILED` of ``sources`` (the modules' digest) into :func:`folder`, unless
    that build exists; then remove the builds of older sources. Returns the build's folder."""
    target = folder(sources)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / ".lock"):
        if not built(sources):
            _compile(sources, target)
        for old in target.parent.iterdir():
            if old.is_dir() and old != target and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)  # a process that loaded it keeps it open
    return target


def _compile(sources: dict[str, str], target: Path) -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        work = Path(tmp)
        lib = work / "lib"
        cwd = os.getcwd()
        try:
            os.chdir(PACKAGE.parent)  # mypyc names the modules by their paths from here
            modules = mypycify(
                [
                    "--ignore-missing-imports",
                    f"--cache-dir={work / 'mypy'}",
                    *(f"sim/{name}.py" for name in COMPILED),
                ],
                target_dir=str(work / "c"),
            )
            for module in modules:
                module.extra_compile_args = [*module.extra_compile_args, *EXACT_FLOATS]
            os.chdir(work)  # away from the project's own pyproject.toml
            setup(
                name="sim-compiled",
                ext_modules=modules,
                script_args=[
                    "--quiet",
                    "build_ext",
                    f"--build-lib={lib}",
                    f"--build-temp={work / 'temp'}",
                ],
            )
        finally:
            os.chdir(cwd)
        # The manifest last: a folder without one is no build.
        (lib / MANIFEST).write_text(json.dumps({"sources": sources}, indent=1))
        shutil.rmtree(target, ignore_errors=True)  # left by a build that died part-way
        lib.rename(target)


def main() -> int:
    """Compile the engine unless a build of these sources exists, or say why not (the Python
    still runs)."""
    sources = digest()
    if built(sources):
        print(f"compiled engine up to date in {folder(sources)}")
        return 0
    try:
        target = build(sources)
    # Any failure (setuptools reports a failed compiler run as SystemExit) leaves the Python.
    except (Exception, SystemExit) as err:
        print(f"the engine was not compiled ({err}); it runs as Python", file=sys.stderr)
        return 0
    print(f"compiled engine built in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
