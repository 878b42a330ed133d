"""The explore commands: JSON schema, CSV columns, readable tables, and exit code 2 on bad input."""

import io
import json

import pandas as pd
import pytest

from sim.cli import main
from sim.outcomes import KPI_NAMES

FAST = ["--weeks", "26", "--workers", "1", "--quiet", "--seed", "3"]


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_sweep_json_and_csv(capsys, tmp_path):
    args = [
        "sweep",
        "drifting-incentives",
        "--lever",
        "reviews.council.interval_weeks=2:8:3",
        "--kpi",
        "value_delivered",
        "--kpi",
        "lead_time_days",
        "-n",
        "2",
        *FAST,
    ]
    code, out, err = cli(capsys, *args, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["experiment"] == "sweep" and d["kpis"] == ["value_delivered", "lead_time_days"]
    assert d["levers"] == [{"key": "reviews.council.interval_weeks", "values": [2.0, 5.0, 8.0]}]
    m = d["manifest"]
    assert (m["scenario"], m["seed"], m["replications"], m["horizon_weeks"]) == (
        "drifting-incentives",
        3,
        2,
        26,
    )
    assert len(d["points"]) == 3
    assert set(d["points"][0]["kpis"]) == {"value_delivered", "lead_time_days"}
    code, out, _ = cli(capsys, *args, "--format", "csv")
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == [
        "reviews.council.interval_weeks",
        "kpi",
        "n",
        "mean",
        "sd",
        "se",
        "ci_lo",
        "ci_hi",
    ]
    assert len(df) == 6
    target = tmp_path / "sweep.csv"
    code, out, err = cli(capsys, *args, "--out", str(target))
    assert code == 0 and "wrote" in err
    assert pd.read_csv(target).shape == (6, 8)
    assert "value_delivered" in out  # --out with the table format still shows the table


def test_sensitivity_json_and_table(capsys):
    args = [
        "sensitivity",
        "aligned-baseline",
        "--method",
        "morris",
        "--lever",
        "org.discovery_share=0:0.4",
        "--lever",
        "reviews.event.hours=1:10",
        "--samples",
        "2",
        "-n",
        "1",
        "--kpi",
        "value_delivered",
        *FAST,
    ]
    code, out, err = cli(capsys, *args, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["method"] == "morris" and d["importance"] == "mu_star"
    rows = d["kpis"]["value_delivered"]
    assert [r["rank"] for r in rows] == [1, 2]
    assert set(rows[0]) == {
        "rank",
        "lever",
        "importance",
        "importance_conf",
        "mu_star",
        "mu_star_conf",
        "mu",
        "sigma",
    }
    code, out, _ = cli(capsys, *args, "--format", "csv")
    assert list(pd.read_csv(io.StringIO(out)).columns) == [
        "kpi",
        "rank",
        "lever",
        "importance",
        "importance_conf",
        "mu_star",
        "mu_star_conf",
        "mu",
        "sigma",
    ]
    code, out, _ = cli(capsys, *args)
    assert code == 0 and "1. org.discovery_share" in out


def test_sobol_csv_columns(capsys):
    code, out, err = cli(
        capsys,
        "sensitivity",
        "aligned-baseline",
        "--method",
        "sobol",
        "--lever",
        "org.discovery_share=0:0.4",
        "--samples",
        "4",
        "-n",
        "1",
        "--kpi",
        "lead_time_days",
        "--format",
        "csv",
        *FAST,
    )
    assert code == 0, err
    assert list(pd.read_csv(io.StringIO(out)).columns) == [
        "kpi",
        "rank",
        "lever",
        "importance",
        "importance_conf",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    ]


def test_attribute_json_csv_and_set_on_the_variant(capsys):
    args = [
        "attribute",
        "aligned-baseline",
        "sales-led-drift",
        "--set",
        "reviews.council.interval_weeks=8",
        "-n",
        "2",
        *FAST,
    ]
    code, out, err = cli(capsys, *args, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert [lv["name"] for lv in d["levers"]] == [
        "incentives.sales",
        "reviews.council.interval_weeks",
    ]
    assert d["manifest"]["variant"] == "sales-led-drift"
    k = d["kpis"]["activation_rate"]
    assert set(k["difference"]) == {"n", "mean", "sd", "se", "ci_lo", "ci_hi"}
    total = sum(c["mean"] for c in k["contributions"])
    assert total == pytest.approx(k["difference"]["mean"], rel=1e-9, abs=1e-12)
    assert k["explanation"].endswith(".")
    assert d["kpis"]["retention_52w"] is None
    code, out, _ = cli(capsys, *args, "--format", "csv")
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == [
        "kpi",
        "lever",
        "label",
        "contribution",
        "se",
        "ci_lo",
        "ci_hi",
        "share",
        "baseline",
        "variant",
    ]
    assert set(df.kpi) == set(KPI_NAMES)
    code, out, _ = cli(
        capsys,
        "attribute",
        "aligned-baseline",
        "--set",
        "incentives.sales=local_metric",
        "-n",
        "1",
        *FAST,
    )
    assert code == 0 and "sales' incentive" in out


def test_optimise_json_and_csv(capsys):
    args = [
        "optimise",
        "drifting-incentives",
        "--lever",
        "reviews.council.interval_weeks=1:12",
        "--lever",
        "decisions.rights=delegated,guardrails",
        "--kpi",
        "value_delivered",
        "--maximise",
        "--constraint",
        "meeting_overhead_share<=10%",
        "--candidates",
        "4",
        "-n",
        "2",
        *FAST,
    ]
    code, out, err = cli(capsys, *args, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["direction"] == "maximise"
    assert d["constraints"] == [{"kpi": "meeting_overhead_share", "op": "<=", "bound": 0.1}]
    assert set(d) >= {"manifest", "winner", "baseline", "finalists", "rounds", "candidates"}
    assert d["winner"] is not None
    assert set(d["winner"]) >= {
        "settings",
        "objective",
        "constraints",
        "vs_baseline",
        "vs_runner_up",
    }
    assert len(d["candidates"]) == 4
    code, out, _ = cli(capsys, *args, "--format", "csv")
    df = pd.read_csv(io.StringIO(out))
    assert list(df.columns) == [
        "rank",
        "candidate",
        "reviews.council.interval_weeks",
        "decisions.rights",
        "stage",
        "replications",
        "mean",
        "se",
        "ci_lo",
        "ci_hi",
        "feasible",
        "meeting_overhead_share_mean",
    ]
    code, out, _ = cli(capsys, *args)
    assert code == 0 and "best:" in out and "vs baseline" in out
    # Two paired replications give no odds, as compare gives none from fewer than 5.
    assert "better in" not in out
    assert out.count("2 pairs: too few to compare") == 2, out
    code, out, _ = cli(capsys, *[a if a != "2" else "6" for a in args])
    assert code == 0 and "of paired replications" in out and "too few" not in out


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["sweep", "pivot", "--lever", "reviews.councl.interval_weeks=1:8"],
            ["reviews.councl.interval_weeks", "did you mean reviews.council.interval_weeks"],
        ),
        (
            ["sweep", "pivot", "--lever", "reviews.council.interval_weeks=1..8"],
            ["'1..8'", "0.5 to 52"],
        ),
        (["sweep", "pivot", "--lever", "reviews.council.interval_weeks=8:1"], ["'8:1'", "lo ≥ hi"]),
        (
            ["sweep", "pivot", "--lever", "reviews.council.interval_weeks=0:8"],
            ["'0:8'", "out of range", "0.5 to 52 weeks"],
        ),
        (
            [
                "sweep",
                "pivot",
                "--lever",
                "org.discovery_share=0:0.2",
                "--lever",
                "org.product_teams=2:4",
                "--lever",
                "org.team_size_people=4:8",
            ],
            ["1 or 2 levers"],
        ),
        (
            ["sweep", "pivot", "--lever", "org.discovery_share=0:0.2", "--kpi", "retention"],
            ["--kpi = 'retention'", "did you mean retention_52w"],
        ),
        (["sweep", "pivot"], ["--lever"]),
        (
            [
                "sensitivity",
                "pivot",
                "--method",
                "sobol",
                "--lever",
                "incentives.product=mixed,local_metric",
            ],
            ["incentives.product", "samples numeric ranges lo:hi only"],
        ),
        (["sensitivity", "pivot", "--lever", "incentives.product=0:1"], ["is not numeric"]),
        (
            ["sensitivity", "pivot", "--method", "fast", "--lever", "org.discovery_share=0:0.2"],
            ["--method = 'fast'", "morris, sobol"],
        ),
        (
            [
                "sensitivity",
                "pivot",
                "--method",
                "sobol",
                "--samples",
                "48",
                "--lever",
                "org.discovery_share=0:0.2",
            ],
            ["--samples = 48", "power of two"],
        ),
        (["attribute", "pivot"], ["VARIANT"]),
        (["attribute", "pivot", "pivot"], ["does not differ"]),
        (["attribute", "pivot", "nosuch"], ["not a preset"]),
        (
            [
                "optimise",
                "pivot",
                "--lever",
                "org.discovery_share=0:0.2",
                "--kpi",
                "value_delivered",
                "--constraint",
                "meeting_overhead_share=0.1",
            ],
            ["--constraint", "KPI<=number"],
        ),
        (
            [
                "optimise",
                "pivot",
                "--lever",
                "org.discovery_share=0:0.2",
                "--kpi",
                "value_delivered",
                "--constraint",
                "overhead<=0.1",
            ],
            ["--constraint = 'overhead'", "is not a KPI"],
        ),
        (
            ["optimise", "pivot", "--lever", "org.discovery_share=0:0.2", "--kpi", "valu"],
            ["did you mean value_delivered"],
        ),
        (
            [
                "optimise",
                "pivot",
                "--lever",
                "org.discovery_share=0:0.2",
                "--kpi",
                "value_delivered",
                "-n",
                "1",
            ],
            ["--replications = 1"],
        ),
        (
            ["sweep", "pivot", "--lever", "org.discovery_share=0:0.2", "--scheduler", "localhost"],
            ["--scheduler = 'localhost'", "tcp://HOST:PORT"],
        ),
        (
            ["sweep", "pivot", "--lever", "org.discovery_share=0:0.2", "--out", "x.txt"],
            ["--out = 'x.txt'"],
        ),
        (
            ["sweep", "pivot", "--lever", "org.discovery_share=0:0.2", "--workers", "0"],
            ["--workers = 0"],
        ),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(capsys, args, fragments):
    code, out, err = cli(capsys, *args, "--quiet")
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_help_lists_the_explore_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out, _ = capsys.readouterr()
    for name in ("sweep", "sensitivity", "attribute", "optimise"):
        assert name in out


def test_a_sweeps_table_gives_its_highest_point_minus_its_lowest_paired(capsys):
    args = ["sweep", "council-only-drift", "--lever", "reviews.council.interval_weeks=1,4,12"]
    args += ["--kpi", "value_delivered", "--kpi", "retention_52w", "-n", "8", *FAST]
    code, out, err = cli(capsys, *args, "--weeks", "60", "--format", "json")
    assert code == 0, err
    ext = json.loads(out)["extremes"]
    code, out, err = cli(capsys, *args, "--weeks", "60")
    assert code == 0, err
    lines = [line.strip() for line in out.splitlines() if "paired over" in line]
    value, retention = ext["value_delivered"], ext["retention_52w"]
    assert len(lines) == 2
    assert lines[0].startswith(f"highest - lowest, paired over {value['n']} replications: +")
    assert f"higher in {value['share_higher']:.0%} of them" in lines[0]
    pp = f"{retention['mean'] * 100:+.1f} pp [{retention['ci_lo'] * 100:+.1f} pp, "
    assert pp in lines[1]


def test_a_sweep_of_a_lever_that_cannot_act_notes_why_on_stderr(capsys):
    args = ["sweep", "drifting-incentives", "--kpi", "value_delivered", "-n", "2", *FAST]
    lever = ["--lever", "market.demand_shock_depth=0.2:0.8:2"]
    code, out, err = cli(capsys, *args, *lever, "--format", "json")
    assert code == 0, err
    assert err.splitlines() == [
        "note: From “drifting-incentives”, this lever cannot move any result, and will show no "
        "effect: the share of sign-ups lost at the shock, as there is no demand shock."
    ]
    assert json.loads(out)["experiment"] == "sweep"  # the sweep still ran
    shock = ["--set", "market.demand_shock_enabled=true", "--set", "market.demand_shock_week=10"]
    code, _, err = cli(capsys, *args, *lever, *shock, "--format", "json")
    assert code == 0, err
    assert "note:" not in err
