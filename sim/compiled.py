"""The replication engine compiled to C with mypyc, used only when built from the sources as they are.

A replication spends most of its time in three modules' Python: the work system (:mod:`sim.work`), the
organisation's weekly processes (:mod:`sim.world`) and its reviews (:mod:`sim.governance`). Compiled
with mypyc (the same code, type-annotated Python, as a C extension), a replication takes about a
quarter less time, with the same numbers to the last digit (tested against the Python).

``python -m sim.engine_build`` compiles them into a folder of the running environment named for the
content of the package's modules, with a manifest of the SHA-256 of every one; ``make app`` and
``make test`` run it first (it returns at once when the build is there). On import, :mod:`sim` puts
the compiled modules first only when a build of the modules as they are now exists; otherwise (a
module edited since, no build, a build that failed, or ``SIM_PURE_PYTHON=1`` in the environment)
everything runs as Python.
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


def pure() -> bool:
    """Whether ``SIM_PURE_PYTHON`` asks for the Python (any value but empty or ``0``)."""
    return os.environ.get(PURE_ENV, "") not in ("", "0")


def digest() -> dict[str, str]:
    """The SHA-256 of every module of the package (the compiled ones and all they may call), by file
    name; hidden files (an editor's lock or backup files) are not modules."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(PACKAGE.glob("*.py"))
        if not path.name.startswith(".") and path.is_file()
    }


def folder(sources: dict[str, str] | None = None) -> Path:
    """Where the build of ``sources`` (by default the modules as they are now) lives for this
    interpreter, inside its environment: a folder for each content of the modules, so that a new
    build never replaces one a running process may be loading."""
    sources = digest() if sources is None else sources
    key = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[:16]
    tag = f"{sys.implementation.cache_tag}-{sys.platform}"
    return Path(sys.prefix) / "sim-compiled" / tag / key


def built(sources: dict[str, str] | None = None) -> bool:
    """Whether a complete build of ``sources`` (by default the modules as they are) exists."""
    try:
        sources = digest() if sources is None else sources
        manifest = json.loads((folder(sources) / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("sources") == sources


def usable() -> bool:
    """Whether this process may run the compiled engine: built from these very sources, and not
    switched off."""
    return not pure() and built()


def enable(package_path: list[str]) -> bool:
    """Put the compiled modules ahead of the sources on ``package_path`` (the package's
    ``__path__``) when :func:`usable`; returns whether they are. Never fails: without a usable
    build, the package is left as it is."""
    if pure():
        return False
    try:
        sources = digest()
        if not built(sources):
            return False
        where = folder(sources)
    except OSError:  # a module that cannot be read: run as Python
        return False
    # mypyc's shared runtime module is a top-level module of its own.
    if str(where) not in sys.path:
        sys.path.append(str(where))
    package_path.insert(0, str(where / "sim"))
    return True


def active() -> bool:
    """Whether this process runs the compiled engine."""
    from sim import world

    return not world.__file__.endswith(".py")
