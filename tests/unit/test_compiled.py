"""The replication engine compiled with mypyc: used only when built from the sources as they are, and
giving the numbers of the Python to the last digit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim import compiled
from sim.runner import shared_pool

ROOT = Path(__file__).resolve().parents[2]

# Every preset, two replications each, with their items: every number a run records, as text.
FINGERPRINT = """
import json, math
from sim import compiled
from sim.model import simulate
from sim.scenarios import load_preset, preset_names
from sim.streams import replication_seeds

def plain(x):
    if isinstance(x, float):
        return repr(x)  # every digit; nan and inf as words
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    return x

out = {"compiled": compiled.active()}
for name in preset_names():
    for i, seed in enumerate(replication_seeds(5, 2)):
        rep = simulate(load_preset(name).params, seed, record_items=True)
        out[f"{name}/{i}"] = plain({
            "series": rep.series.tolist(), "alignment": rep.alignment.tolist(),
            "retention": rep.retention.tolist(), "kpis": rep.kpis, "events": rep.events,
            "counts": rep.counts, "items": rep.items, "sim_events": rep.sim_events,
        })
print(json.dumps(out))
"""


def _fingerprint(pure: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != compiled.PURE_ENV}
    if pure:
        env[compiled.PURE_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-c", FINGERPRINT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _built_or_skip() -> None:
    if compiled.usable():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("the compiled engine is not built for these sources (make builds it)")
    pytest.skip("no compiled engine built for these sources (make builds it; it runs as Python)")


@pytest.mark.slow
def test_the_compiled_engine_gives_every_number_of_the_python():
    _built_or_skip()
    fast, pure = _fingerprint(pure=False), _fingerprint(pure=True)
    assert fast.pop("compiled") is True and pure.pop("compiled") is False
    assert fast.keys() == pure.keys() and len(fast) >= 10
    for key in pure:
        assert fast[key] == pure[key], key


def test_this_process_and_the_pool_workers_run_the_compiled_engine():
    _built_or_skip()
    assert compiled.active()
    assert shared_pool(2).submit(compiled.active).result(timeout=120) is True


def test_a_module_changed_since_the_build_runs_as_python(monkeypatch, tmp_path):
    """A build is used only if its manifest names these very sources; any other change, no build
    or SIM_PURE_PYTHON leaves the package's path as it is."""
    monkeypatch.setattr(compiled, "folder", lambda sources=None: tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = ["/the/sources"]
    assert not compiled.usable() and not compiled.enable(path)  # nothing built here
    sources = compiled.digest()
    edited = dict(sources, **{"work.py": "0" * 64})
    (tmp_path / compiled.MANIFEST).write_text(json.dumps({"sources": edited}))
    assert not compiled.usable() and not compiled.enable(path)
    (tmp_path / compiled.MANIFEST).write_text("{not json")
    assert not compiled.usable()
    (tmp_path / compiled.MANIFEST).write_text(json.dumps({"sources": sources}))
    monkeypatch.setenv(compiled.PURE_ENV, "1")
    assert not compiled.usable() and not compiled.enable(path)
    assert path == ["/the/sources"]
    monkeypatch.setenv(compiled.PURE_ENV, "0")  # "0" does not ask for the Python
    assert compiled.usable() and compiled.built()
    monkeypatch.delenv(compiled.PURE_ENV)
    assert compiled.usable() and compiled.enable(path)
    assert path == [str(tmp_path / "sim"), "/the/sources"] and str(tmp_path) in sys.path


def test_the_manifest_covers_every_module_of_the_package():
    names = set(compiled.digest())
    assert {f"{name}.py" for name in compiled.COMPILED} <= names
    assert {"customers.py", "params.py", "records.py", "__init__.py"} <= names


def test_hidden_and_unreadable_files_never_break_the_import(monkeypatch, tmp_path):
    """An editor's lock file (a dangling link named like a module) is not a module; a module that
    cannot be read leaves the package running as Python instead of failing its import."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    (package / ".#a.py").symlink_to(tmp_path / "nowhere")
    (package / "._b.py").write_text("junk")
    monkeypatch.setattr(compiled, "PACKAGE", package)
    assert list(compiled.digest()) == ["a.py"]
    monkeypatch.setattr(compiled, "folder", lambda sources=None: tmp_path / "build")
    (package / "c.py").symlink_to(package / "c.py")  # a link to itself: reading it fails
    path: list[str] = []
    assert not compiled.enable(path) and not compiled.usable() and path == []


def test_a_build_is_made_once_for_each_content_and_replaces_older_ones(monkeypatch, tmp_path):
    """Each content of the modules gets a folder of its own (a running process never sees its
    build replaced); a build already there is not made again; older contents' builds go."""
    from sim import engine_build

    made = []

    def fake_compile(sources, target):
        made.append(target.name)
        (target / "sim").mkdir(parents=True)
        (target / compiled.MANIFEST).write_text(json.dumps({"sources": sources}))

    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(engine_build, "_compile", fake_compile)
    first = compiled.digest()
    second = dict(first, **{"work.py": "1" * 64})
    one = engine_build.build(first)
    assert (
        compiled.built(first)
        and one == compiled.folder(first)
        and one.parent.parent == (tmp_path / "sim-compiled")
    )
    assert engine_build.build(first) == one and len(made) == 1  # there already
    two = engine_build.build(second)
    assert two != one and len(made) == 2 and compiled.built(second)
    assert not one.exists() and not compiled.built(first)
    assert "-ffp-contract=off" in engine_build.EXACT_FLOATS
