"""``python -m sim.engine_build``: compile the replication engine with mypyc (see :mod:`sim.compiled`).

Run by ``make`` when the project is set up and whenever a module of the package changed. A build that
fails says why and leaves the engine running as Python.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from sim.compiled import COMPILED, MANIFEST, PACKAGE, digest, folder, usable


def build() -> None:
    """Compile :data:`COMPILED` with mypyc into :func:`folder` (replacing an earlier build)."""
    from mypyc.build import mypycify
    from setuptools import setup

    sources = digest()
    root = PACKAGE.parent
    target = folder()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        lib, temp = Path(tmp) / "lib", Path(tmp) / "temp"
        cwd = os.getcwd()
        try:
            os.chdir(root)  # mypyc names the modules by their paths from here
            modules = mypycify(
                [
                    "--ignore-missing-imports",
                    f"--cache-dir={Path(tmp) / 'mypy'}",
                    *(f"sim/{name}.py" for name in COMPILED),
                ],
                target_dir=str(Path(tmp) / "c"),
            )
            os.chdir(tmp)  # away from the project's own pyproject.toml
            setup(
                name="sim-compiled",
                ext_modules=modules,
                script_args=[
                    "--quiet",
                    "build_ext",
                    "--build-lib",
                    str(lib),
                    "--build-temp",
                    str(temp),
                ],
            )
        finally:
            os.chdir(cwd)
        (lib / MANIFEST).write_text(json.dumps({"sources": sources}, indent=1))
        shutil.rmtree(target, ignore_errors=True)
        lib.rename(target)


def main() -> int:
    """Compile the engine unless a build of these sources exists, or say why not (the Python
    still runs)."""
    if usable():
        print(f"compiled engine up to date in {folder()}")
        return 0
    try:
        build()
    # Any failure (setuptools reports a failed compiler run as SystemExit) leaves the Python.
    except (Exception, SystemExit) as err:
        print(f"the engine was not compiled ({err}); it runs as Python", file=sys.stderr)
        return 0
    print(f"compiled engine built in {folder()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
