"""The replication engine compiled to C with mypyc, used only when built from the sources as they are.

A replication spends most of its time in three modules' Python: the work system (:mod:`sim.work`), the
organisation's weekly processes (:mod:`sim.world`) and its reviews (:mod:`sim.governance`). Compiled
with mypyc (the same code, type-annotated Python, as a C extension), a replication takes about a
quarter less time, with the same numbers to the last digit (tested against the Python).

``python -m sim.engine_build`` compiles them into a folder of the running environment, with a
manifest of the SHA-256 of every module of the package, and ``make`` does so when the project is set
up and whenever a module changed. On import, :mod:`sim` puts the compiled modules first only when the
manifest matches the sources as they are now; otherwise (a module edited since, no build, a build
that failed, or ``SIM_PURE_PYTHON=1`` in the environment) everything runs as Python.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
COMPILED = ("work", "world", "governance")
PURE_ENV = "SIM_PURE_PYTHON"
MANIFEST = "manifest.json"


def folder() -> Path:
    """Where this interpreter's compiled modules live (inside its environment)."""
    tag = f"{sys.implementation.cache_tag}-{sys.platform}"
    return Path(sys.prefix) / "sim-compiled" / tag


def digest() -> dict[str, str]:
    """The SHA-256 of every module of the package (the compiled ones and all they may call)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(PACKAGE.glob("*.py"))
    }


def usable() -> bool:
    """Whether a build of these very sources exists for this interpreter (and is not switched off)."""
    if os.environ.get(PURE_ENV):
        return False
    try:
        manifest = json.loads((folder() / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("sources") == digest()


def enable(package_path: list[str]) -> bool:
    """Put the compiled modules ahead of the sources on ``package_path`` (the package's
    ``__path__``) when :func:`usable`; returns whether they are."""
    if not usable():
        return False
    where = folder()
    # mypyc's shared runtime module is a top-level module of its own.
    if str(where) not in sys.path:
        sys.path.append(str(where))
    package_path.insert(0, str(where / "sim"))
    return True


def active() -> bool:
    """Whether this process runs the compiled engine."""
    from sim import world

    return not world.__file__.endswith(".py")
