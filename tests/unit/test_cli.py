"""The command line: output formats and bad input (exit 2, one clear line, no traceback)."""

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main, number
from sim.outcomes import KPI_NAMES
from sim.params import KEYS
from sim.scenarios import preset_names


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_prints_one_preset_a_line_name_first(capsys):
    code, out, _ = cli(capsys, "list")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == preset_names()


def test_show_and_params(capsys):
    code, out, _ = cli(capsys, "show", "sales-led-drift")
    assert code == 0 and "incentives.sales" in out and "Sales-led drift" in out
    code, out, _ = cli(capsys, "params", "--format", "json")
    rows = json.loads(out)
    assert [r["key"] for r in rows] == list(KEYS)
    council = next(r for r in rows if r["key"] == "reviews.council.interval_weeks")
    assert council == {
        **council,
        "type": "float",
        "default": 4.0,
        "min": 0.5,
        "max": 52,
        "unit": "weeks",
    }
    code, out, _ = cli(capsys, "params")
    assert all(k in out for k in KEYS)


def test_run_json_schema(capsys):
    code, out, err = cli(
        capsys,
        "run",
        "pivot",
        "-n",
        "3",
        "--seed",
        "9",
        "--weeks",
        "60",
        "--set",
        "reviews.strategy.interval_weeks=4",
        "--format",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["scenario"] == "pivot" and doc["seed"] == 9 and doc["replications"] == 3
    m = doc["manifest"]
    assert m["overrides"] == {
        "horizon_weeks": 60,
        "reviews.strategy.interval_weeks": 4.0,
        "market.shift_enabled": True,
    }
    assert m["model_version"] and m["seed"] == 9 and m["replications"] == 3
    assert list(doc["kpis"]) == list(KPI_NAMES)
    for stats in doc["kpis"].values():
        assert set(stats) == {"mean", "p05", "p50", "p95", "n"}
        assert 0 <= stats["n"] <= 3
    r = doc["kpis"]["retention_52w"]
    assert r["p05"] <= r["p50"] <= r["p95"]


def test_short_horizon_gives_null_kpis_with_reasons(capsys):
    code, out, _ = cli(
        capsys, "run", "aligned-baseline", "-n", "2", "--weeks", "20", "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["kpis"]["retention_52w"]["mean"] is None
    assert "52 weeks" in doc["null_reasons"]["retention_52w"]


def test_same_seed_same_json(capsys):
    args = ("run", "drifting-incentives", "-n", "3", "--weeks", "30", "--format", "json")
    assert cli(capsys, *args)[1] == cli(capsys, *args, "--workers", "2")[1]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_out_writes_tidy_weekly_and_kpis(capsys, tmp_path, suffix):
    out = tmp_path / f"res{suffix}"
    code, _, _ = cli(
        capsys, "run", "aligned-baseline", "-n", "2", "--weeks", "20", "--out", str(out), "--quiet"
    )
    assert code == 0
    read = pd.read_csv if suffix == ".csv" else pd.read_parquet
    weekly = read(out)
    assert list(weekly.columns) == ["scenario", "replication", "week", "metric", "value"]
    assert weekly.week.max() == 19 and weekly.replication.nunique() == 2
    kpis = read(tmp_path / f"res_kpis{suffix}")
    assert set(KPI_NAMES) <= set(kpis.columns)


def test_compare_json(capsys):
    code, out, _ = cli(
        capsys,
        "compare",
        "aligned-baseline",
        "drifting-incentives",
        "-n",
        "4",
        "--weeks",
        "60",
        "--format",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    ret = doc["kpis"]["mean_alignment"]
    assert ret["diff_mean"] < 0 and ret["p_better"] == 0.0
    assert doc["baseline"]["seed"] == doc["variant"]["seed"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["run", "pivot", "--set", "reviews.councl.interval_weeks=2"],
            ["reviews.councl.interval_weeks", "did you mean reviews.council.interval_weeks"],
        ),
        (
            ["run", "pivot", "--set", "reviews.council.interval_weeks=0.1"],
            ["reviews.council.interval_weeks", "0.1", "0.5 to 52"],
        ),
        (
            ["run", "pivot", "--set", "horizon_weeks=many"],
            ["horizon_weeks", "many", "not a number"],
        ),
        (["run", "pivot", "--set", "reviews.metric.enabled=perhaps"], ["reviews.metric.enabled"]),
        (
            ["run", "pivot", "--set", "incentives.sales=commission"],
            ["incentives.sales", "commission", "shared_outcome"],
        ),
        (["run", "pivto"], ["pivto", "did you mean pivot"]),
        (["run", "missing.toml"], ["missing.toml", "does not exist"]),
        (["run", "pivot", "--weeks", "5"], ["horizon_weeks", "5", "13 to 260"]),
        (["run", "pivot", "--replications", "0"], ["--replications", "0", "1 to 10000"]),
        (["run", "pivot", "--replications", "ten"], ["--replications", "ten"]),
        (["run", "pivot", "--seed", "-3"], ["--seed", "-3"]),
        (["run", "pivot", "--out", "x.xlsx"], ["--out", ".csv or .parquet"]),
        (["run", "pivot", "--set", "nokey"], ["--set", "dotted.key=value"]),
        (["show", "nope"], ["nope"]),
        (["frobnicate"], ["frobnicate"]),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(capsys, args, fragments):
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def test_a_files_run_table_sets_seed_and_replications_unless_options_do(capsys, tmp_path):
    from sim.scenarios import load_preset, to_toml

    pivot = load_preset("pivot")
    seeded = tmp_path / "seeded.toml"
    seeded.write_text(to_toml(pivot.params, title="Pivot", seed=9, replications=3))
    weeks = ("--weeks", "40", "--format", "json")

    def ran(*args: str) -> dict:
        code, out, err = cli(capsys, "run", *args, *weeks)
        assert code == 0, err
        return json.loads(out)

    from_file = ran(str(seeded))
    assert (from_file["seed"], from_file["replications"]) == (9, 3)
    # The same run as the preset given the same seed and replications as options.
    assert from_file["kpis"] == ran("pivot", "--seed", "9", "-n", "3")["kpis"]
    overridden = ran(str(seeded), "--seed", "4")
    assert (overridden["seed"], overridden["replications"]) == (4, 3)
    plain = tmp_path / "plain.toml"
    plain.write_text(to_toml(pivot.params, title="Pivot"))
    assert (ran(str(plain), "-n", "2")["seed"], ran(str(plain), "-n", "2")["replications"]) == (
        1,
        2,
    )

    # Two files: one [run] is taken; two that disagree need the option.
    code, out, err = cli(capsys, "compare", "pivot", str(seeded), *weeks)
    assert code == 0, err
    assert json.loads(out)["variant"]["seed"] == 9
    other = tmp_path / "other.toml"
    other.write_text(to_toml(pivot.params, title="Other", seed=5, replications=3))
    code, out, err = cli(capsys, "compare", str(other), str(seeded), *weeks)
    assert code == 2 and out == ""
    assert f"{other} says seed = 5 and {seeded} says seed = 9): give --seed" in err
    code, out, err = cli(capsys, "compare", str(other), str(seeded), "--seed", "2", *weeks)
    assert code == 0, err
    assert json.loads(out)["baseline"]["replications"] == 3  # they agree on replications


def test_bad_scenario_file(capsys, tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[settings]\nhorizon_weeks = 'long'\n")
    code, _, err = cli(capsys, "run", str(f))
    assert code == 2 and "horizon_weeks" in err and "long" in err


def test_module_entry_point_reports_errors_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "pivot", "--set", "org.wip_limit_per_team=0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "org.wip_limit_per_team" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_model_docs_carry_the_current_parameter_table():
    from pathlib import Path

    from sim.cli import parameter_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "MODEL.md").read_text()
    block = doc.split("<!-- parameters:begin -->\n")[1].split("\n<!-- parameters:end -->")[0]
    assert block == parameter_table(), "regenerate with: python -m sim params --format markdown"


@pytest.mark.parametrize(
    ("command", "out", "message"),
    [
        (["run", "pivot"], "missing/res.csv", "the folder"),
        (["run", "pivot"], "folder.csv", "it is a folder"),
        (
            ["sweep", "pivot", "--lever", "reviews.council.interval_weeks=1:8"],
            "no/s.json",
            "does not exist",
        ),
        (["brief", "pivot", "pivot"], "nowhere/b.html", "does not exist"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_running(
    capsys, tmp_path, monkeypatch, command, out, message
):
    import sim.explore.evaluate
    import sim.runner

    def never(*args, **kwargs):
        raise AssertionError("simulated before the output was checked")

    # Every simulation, of a run or an experiment, in this process (one worker).
    monkeypatch.setattr(sim.runner, "simulate", never)
    monkeypatch.setattr(sim.explore.evaluate, "simulate", never)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.csv").mkdir()
    code, _, err = cli(capsys, *command, "--out", out, "--quiet", "--workers", "1")
    assert code == 2
    assert "--out" in err and message in err and "Traceback" not in err, err


def test_a_files_name_in_the_csv_cannot_start_a_formula(capsys, tmp_path):
    scenario = tmp_path / "@SUM(1+1).toml"
    scenario.write_text("[settings]\nhorizon_weeks = 20\n")
    out = tmp_path / "res.csv"
    code, _, _ = cli(capsys, "run", str(scenario), "-n", "1", "--out", str(out), "--quiet")
    assert code == 0
    for path in (out, tmp_path / "res_kpis.csv"):
        names = set(pd.read_csv(path)["scenario"])
        assert names == {"SUM(1+1)"}, names


def test_weeks_that_do_not_fit_a_scenario_say_so(capsys):
    code, _, err = cli(capsys, "run", "pivot", "--weeks", "20", "--quiet")
    assert code == 2
    assert "--weeks 20 does not fit scenario 'pivot': market.shift_week = 30" in err


def test_weeks_apply_together_with_settings_that_need_them(capsys):
    code, out, _ = cli(
        capsys, "run", "pivot", "--set", "market.shift_week=150", "--weeks", "200", "-n", "1",
        "--quiet", "--format", "json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["manifest"]["overrides"]["horizon_weeks"] == 200
    code, _, err = cli(capsys, "run", "pivot", "--set", "market.shift_week=150", "--weeks", "120")
    assert code == 2 and "(1 to 119)" in err  # wrong at the horizon asked for


def test_run_checks_the_kpi_file_it_also_writes_and_compare_does_not(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "res_kpis.csv").mkdir()
    code, _, err = cli(capsys, "run", "pivot", "--out", "res.csv", "-n", "1", "--quiet")
    assert code == 2 and "'res_kpis.csv' cannot be written" in err and "KPIs that --out" in err
    code, _, _ = cli(
        capsys, "compare", "aligned-baseline", "pivot", "--out", "res.csv", "-n", "1", "--quiet"
    )
    assert code == 0 and (tmp_path / "res.csv").is_file()


def test_compare_says_same_for_identical_pairs_and_gives_pair_counts(capsys):
    args = ("aligned-baseline", "aligned-baseline", "-n", "3", "--weeks", "60", "--quiet")
    code, out, _ = cli(capsys, "compare", *args)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("value_delivered"))
    assert row.split()[-1] == "same"
    code, out, _ = cli(capsys, "compare", *args, "--format", "json")
    kpi = json.loads(out)["kpis"]["value_delivered"]
    assert (kpi["pairs"], kpi["ties"]) == (3, 3)


def test_the_run_table_says_when_a_kpi_has_a_value_in_only_a_few_replications(capsys):
    args = ("run", "aligned-baseline", "-n", "20", "--seed", "1")
    code, out, _ = cli(capsys, *args, "--format", "json")
    assert code == 0
    lag = json.loads(out)["kpis"]["detection_lag_days"]
    assert 0 < lag["n"] < 5  # an aligned organisation rarely drifts: a lag in a few runs only
    code, out, _ = cli(capsys, *args)
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert rows["detection_lag_days"].endswith(
        f"days (from {lag['n']} of 20 replications: too few for a mean to stand as the run's "
        "number)"
    )
    assert rows["retention_52w"].endswith("share")  # a value in every replication: nothing added


def test_compare_sets_change_the_variant_only_and_shares_read_in_points(capsys):
    """`compare A A --set …` compares A with A changed (it printed "same" on every line, the
    change applied to both), as `brief` and `attribute` do; share differences are in pp."""
    args = ("aligned-baseline", "aligned-baseline", "-n", "5", "--weeks", "60", "--quiet")
    code, out, _ = cli(capsys, "compare", *args, "--set", "incentives.product=local_metric")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "baseline aligned-baseline, variant aligned-baseline, with 1 --set on the variant: "
        "5 paired replications, seed 1"
    )
    alignment = next(line for line in lines if line.startswith("mean_alignment"))
    assert alignment.split()[-1] == "0%"  # worse in every pair, not "same"
    activation = next(line for line in lines if line.startswith("activation_rate"))
    assert re.search(r"%\s+[+-]\d+\.\d pp\s+[+-]\d+\.\d pp to [+-]\d+\.\d pp\s+\d+%$", activation)


def test_compare_gives_no_odds_from_too_few_pairs(capsys):
    """One pair is "better in 100%" of pairs: the line gives no P(better) and says why, as the
    app's tiles do."""
    args = ("aligned-baseline", "aligned-baseline", "-n", "1", "--weeks", "20", "--quiet")
    code, out, _ = cli(capsys, "compare", *args, "--set", "incentives.product=local_metric")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith(": 1 paired replication, seed 1")
    alignment = next(line for line in lines if line.startswith("mean_alignment"))
    assert alignment.endswith("— (1 pair: too few to compare)")
    # Nor an interval: one pair's "-0.2 to -0.2" is no interval at all.
    assert alignment.split()[4:6] == ["—", "—"] and "%" not in alignment, alignment


def test_numbers_print_a_sums_rounding_error_as_zero():
    """An attribution's contributions sum to -8.88e-16 where the lever changed nothing."""
    assert number(-8.881784197001252e-16, "alignment", sign=True) == "±0"
    assert number(1.52e-13, "share", sign=True) == "±0.0 pp"
    assert number(0.0, "") == "0" and number(1e-16, "") == "0"
    assert number(-0.0123, "", sign=True) == "-0.0123"  # small, and not noise
    # About three significant digits at any size: "+316.00" printed noise digits.
    assert [number(x, "", sign=True) for x in (316.0, 31.64, 3.164, 1234.5)] == [
        "+316", "+31.6", "+3.16", "+1,234"
    ]  # fmt: skip
