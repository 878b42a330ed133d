"""Links that restore a run in the app: the query-string form of settings.

A link carries only what differs from the defaults: ``scenario`` (the preset, unless it is the
default one), one parameter per setting that differs from that preset (its dotted key), ``seed`` and
``reps`` when not the defaults, and a pinned baseline as ``base`` (its preset, or ``custom``) plus
``base.<setting>`` entries. The app reads the same form back (``app.state``), validating every value.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sim.params import Params, default_params, diff
from sim.scenarios import APP_MAX_REPLICATIONS, APP_MAX_SEED, load_preset, preset_names

DEFAULT_SEED = 1
DEFAULT_REPLICATIONS = 100
SEED_PARAM = "seed"
REPS_PARAM = "reps"
PRESET_PARAM = "scenario"
BASE_PARAM = "base"
BASE_PREFIX = "base."
CUSTOM_BASE = "custom"


def beyond_app(seed: int, replications: int) -> str | None:
    """Why a run with this seed and these replications cannot be restored by a link (None if it can)."""
    if not 0 <= seed <= APP_MAX_SEED:
        return f"its seed, {seed:,}, is beyond the app's (0 to {APP_MAX_SEED:,})"
    if not 1 <= replications <= APP_MAX_REPLICATIONS:
        return (
            f"its {replications:,} replications are more than the app runs "
            f"(at most {APP_MAX_REPLICATIONS:,})"
        )
    return None


def default_preset() -> str:
    """The preset a fresh session starts from."""
    names = preset_names()
    return "aligned-baseline" if "aligned-baseline" in names else names[0]


def base_params(preset: str | None) -> Params:
    """The parameters a link's settings are relative to: the preset's, or the model's defaults."""
    if preset is None:
        return default_params()
    return load_preset(preset).params


def format_value(value: Any) -> str:
    """A setting's value as text that :func:`sim.params.parse_value` reads back exactly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        short = format(value, "g")
        return short if float(short) == value else repr(value)
    return str(value)


def setting_params(preset: str | None, params: Params, prefix: str = "") -> dict[str, str]:
    """``params`` as query parameters: the settings that differ from ``preset``'s."""
    changed = diff(params, base_params(preset))
    return {prefix + key: format_value(changed[key]) for key in sorted(changed)}


def run_query(
    preset: str | None,
    params: Params,
    seed: int = DEFAULT_SEED,
    replications: int = DEFAULT_REPLICATIONS,
    baseline: tuple[str | None, Params] | None = None,
) -> dict[str, str]:
    """The query parameters that restore a run (and its pinned baseline, if any)."""
    qp: dict[str, str] = {}
    if preset is not None and preset != default_preset():
        qp[PRESET_PARAM] = preset
    qp.update(setting_params(preset, params))
    if seed != DEFAULT_SEED:
        qp[SEED_PARAM] = str(seed)
    if replications != DEFAULT_REPLICATIONS:
        qp[REPS_PARAM] = str(replications)
    if baseline is not None:
        base_preset, base = baseline
        qp[BASE_PARAM] = base_preset or CUSTOM_BASE
        qp.update(setting_params(base_preset, base, BASE_PREFIX))
    return qp


def app_link(app_url: str, query: dict[str, str]) -> str:
    """A full link to the app's Sandbox page."""
    url = app_url.rstrip("/") + "/"
    return url + ("?" + urlencode(query) if query else "")
