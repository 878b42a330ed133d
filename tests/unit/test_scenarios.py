"""Scenario files: presets, parsing, errors and round trips."""

import pytest

from sim.params import ParamError, default_params, flatten, with_overrides
from sim.scenarios import (
    MAX_BYTES,
    ScenarioError,
    load,
    load_preset,
    parse,
    preset_names,
    safe_title,
    to_toml,
)

REQUIRED = {
    "aligned-baseline",
    "drifting-incentives",
    "meeting-overload",
    "sales-led-drift",
    "pivot",
    "demand-shock",
    "centralised-decisions",
    "validation-neutral",
}


def test_required_presets_exist_and_are_described():
    assert set(preset_names()) >= REQUIRED
    for name in preset_names():
        s = load_preset(name)
        assert s.title and s.description and s.teaching_notes, name
        s.params  # validates  # noqa: B018


def test_presets_hold_only_overrides():
    defaults = flatten(default_params())
    for name in preset_names():
        for key, value in load_preset(name).overrides.items():
            assert defaults[key] != value, f"{name} repeats the default of {key}"


def test_validation_neutral_sets_every_churn_multiplier_to_one():
    c = load_preset("validation-neutral").params.customers
    assert c.not_activated_churn_multiplier == 1.0
    assert c.oversold_churn_multiplier == 1.0
    assert c.weak_core_churn_gain == 0.0


def test_round_trip_through_toml():
    p = with_overrides(
        default_params(),
        {
            "incentives.sales": "local_metric",
            "reviews.council.interval_weeks": 2.0,
            "market.shift_enabled": True,
        },
    )
    text = to_toml(p, title="Mine", description="desc")
    assert "interval_weeks = 2.0" in text and "horizon_weeks" not in text
    back = parse(text)
    assert back.params == p and back.title == "Mine"


def test_a_files_run_table_round_trips_and_is_optional():
    text = to_toml(default_params(), title="Mine", seed=7, replications=200)
    assert "[run]\nseed = 7\nreplications = 200" in text
    back = parse(text)
    assert (back.seed, back.replications) == (7, 200)
    assert "[run]" not in to_toml(default_params(), title="Mine")
    only_seed = parse(to_toml(default_params(), title="Mine", seed=0))
    assert (only_seed.seed, only_seed.replications) == (0, None)
    assert (parse("[scenario]\ntitle = 'x'").seed, parse("").replications) == (None, None)
    with pytest.raises(ScenarioError, match="replications = 0 is not allowed"):
        to_toml(default_params(), replications=0)  # never writes a file it would refuse


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("[run]\nseed = -1", ScenarioError, "[run] seed = -1 is not allowed: an integer from 0"),
        ("[run]\nseed = 2147483648", ScenarioError, "from 0 to 2,147,483,647"),
        ("[run]\nseed = true", ScenarioError, "[run] seed = true is not allowed"),
        ("[run]\nreplications = 1001", ScenarioError, "an integer from 1 to 1,000"),
        ("[run]\nreplications = 2.0", ScenarioError, "[run] replications = 2.0 is not allowed"),
        ("[run]\nreplications = '5'", ScenarioError, "replications = '5' is not allowed"),
        (
            "[run]\nsed = 3",
            ScenarioError,
            "unknown key 'sed': allowed are seed and replications (did you mean seed?)",
        ),
        ("[run]\nhorizon_weeks = 3", ScenarioError, "settings go under [settings]"),
        ("run = 3", ScenarioError, "[run] must be a table of seed and replications"),
        ("[runs]\nseed = 3", ScenarioError, "allowed are [scenario], [settings] and [run]"),
        (
            "[settings]\nreviews.councl.interval_weeks = 2",
            ParamError,
            "reviews.council.interval_weeks",
        ),
        ("[settings]\nhorizon_weeks = 1000", ParamError, "13 to 260"),
        ("[settings]\nincentives.product = 3", ParamError, "incentives.product"),
        ("[setings]\nhorizon_weeks = 52", ScenarioError, "setings"),
        ("horizon_weeks = 52", ScenarioError, "horizon_weeks"),
        ("[scenario]\ntitle = 5", ScenarioError, "title"),
        # Titles reach CSV exports: a spreadsheet would read these as formulas.
        ("[scenario]\ntitle = '=HYPERLINK(\"x\")'", ScenarioError, "title = '=HYPERLINK"),
        ("[scenario]\ntitle = '@SUM(A1)'", ScenarioError, "not starting with ="),
        ("[scenario]\ntitle = '" + "x" * 95 + "'", ScenarioError, "(95 characters)"),
        ('[scenario]\ntitle = "two\\nlines"', ScenarioError, "one line"),
        ("[scenario]\ntitle = '  '", ScenarioError, "one line of up to 80 printable"),
        ("[scenario]\ntitle = ' =1+1'", ScenarioError, "not starting with ="),
        # A format character in a title is named, with where it is.
        (
            '[scenario]\ntitle = "Plan \\u202eB"',
            ScenarioError,
            "U+202E (RIGHT-TO-LEFT OVERRIDE) at character 6",
        ),
        ("[scenario]\nauthor = 'x'", ScenarioError, "author"),
        # One setting named twice, as a quoted dotted key and in a table.
        (
            '[settings]\n"reviews.council.interval_weeks" = 2\n'
            "[settings.reviews.council]\ninterval_weeks = 8",
            ParamError,
            "interval_weeks = 8 is given twice: one value (it is also given as 2)",
        ),
        # Descriptions and notes are shown on the Sandbox: bounded, and text only.
        (
            "[scenario]\ndescription = '" + "d" * 1_001 + "'",
            ScenarioError,
            "description is 1,001 characters long: at most 1,000 allowed",
        ),
        (
            "[scenario]\nteaching_notes = '" + "n" * 4_001 + "'",
            ScenarioError,
            "teaching_notes is 4,001 characters long: at most 4,000 allowed",
        ),
        (
            '[scenario]\nteaching_notes = "bell\\u0007"',
            ScenarioError,
            "teaching_notes holds U+0007 (a control character) at line 1, column 5: it must be text",
        ),
        (
            '[scenario]\ndescription = "a\\rb"',
            ScenarioError,
            "description holds U+000D (a control character) at line 1, column 2",
        ),
        (
            '[scenario]\nteaching_notes = """one\ntwo \\u202e owt"""',
            ScenarioError,
            "teaching_notes holds U+202E (RIGHT-TO-LEFT OVERRIDE) at line 2, column 5",
        ),
        ("[settings\nx=1", ScenarioError, "not valid TOML"),
    ],
)
def test_bad_scenarios_are_rejected_with_a_clear_message(text, error, fragment):
    with pytest.raises(error) as caught:
        parse(text)
    assert fragment in str(caught.value).replace("\\", "")


def test_descriptions_and_notes_at_their_limits_round_trip():
    description = "d" * 999 + "."
    notes = "First line.\n\n\tSecond paragraph: *not* [markup](x)." + "n" * 3_950
    assert len(notes) <= 4_000
    text = to_toml(default_params(), title="Mine", description=description, teaching_notes=notes)
    back = parse(text)
    assert (back.description, back.teaching_notes) == (description, notes)


def test_descriptions_and_notes_take_the_characters_people_write():
    # No-break and narrow no-break spaces (pasted text, French punctuation), joiners (Persian,
    # Hindi, emoji sequences), a soft hyphen, tabs and line breaks.
    text = "Prix\u00a0: 10\u202f%\tmi\u200cshavad \U0001f469\u200d\U0001f4bb co\u00adop\nnext"
    back = parse(to_toml(default_params(), description=text, teaching_notes=text))
    assert back.description == back.teaching_notes == text


def test_a_title_keeps_its_no_break_spaces():
    title = "Sc\u00e9nario\u00a0: plan\u202fB"
    assert parse(to_toml(default_params(), title=title)).title == title
    assert safe_title(title) == title
    assert safe_title(" \u00a0Plan\n\t A \u00a0") == "Plan A"  # blanks at the ends go


def test_a_file_without_a_title_is_named_after_its_file_made_safe():
    assert parse("", name="council-plan").title == "council-plan"
    assert parse("", name="=SUM(1+1)").title == "SUM(1+1)"
    assert parse("", name="y" * 120).title == "y" * 80
    assert parse("", name="=+-").title == "Custom scenario"


def test_size_and_encoding_limits():
    with pytest.raises(ScenarioError, match="at most"):
        parse(b"#" * (MAX_BYTES + 1))
    with pytest.raises(ScenarioError, match="UTF-8"):
        parse(b"\xff\xfe[settings]")
    # A byte-order mark (as some Windows editors write) is not part of the text.
    bom = parse("\ufeff[settings]\nhorizon_weeks = 52\n".encode())
    assert bom.params.horizon_weeks == 52


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[settings]\na = " + "[" * 5_000, "nests arrays or tables too deeply"),
        ("[settings]\n" + "a." * 3_000 + "b = 1", "too deeply"),  # read fine, nested deep
        ("[settings]\na = " + "{a=" * 3_000 + "1" + "}" * 3_000, "too deeply"),
        ("[settings.org]\nproduct_teams = " + "9" * 5_000, "number too long"),
    ],
)
def test_files_python_cannot_read_are_refused_with_a_reason(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse(text)


def test_a_setting_given_twice_quotes_both_values_short():
    text = (
        '[settings]\n"incentives.product" = "' + "x" * 30_000 + '"\n'
        '[settings.incentives]\nproduct = "mixed"\n'
    )
    with pytest.raises(ParamError, match="is given twice") as err:
        parse(text)
    assert len(str(err.value)) < 300


def test_a_huge_integer_is_out_of_range_and_quoted_short():
    with pytest.raises(ParamError) as err:
        parse("[settings.org]\ndiscovery_share = " + "9" * 400)
    assert str(err.value).startswith("org.discovery_share = an integer of 400 digits is out")
    with pytest.raises(ParamError) as err:
        parse('[settings]\nincentives.product = "' + "x" * 10_000 + '"')
    assert "(10,002 characters)" in str(err.value) and len(str(err.value)) < 300


def test_load_by_name_or_path(tmp_path):
    assert load("pivot").name == "pivot"
    f = tmp_path / "mine.toml"
    f.write_text('[scenario]\ntitle = "Mine"\n[settings.decisions]\nrights = "delegated"\n')
    assert load(str(f)).params.decisions.rights == "delegated"
    with pytest.raises(ScenarioError, match="did you mean pivot"):
        load("pivto")
    with pytest.raises(ScenarioError, match="does not exist"):
        load(str(tmp_path / "missing.toml"))
    with pytest.raises(ScenarioError, match="is not a file"):
        load(str(tmp_path))
    upper = tmp_path / "MINE.TOML"
    upper.write_text(f.read_text())
    assert load(str(upper)).title == "Mine"


def test_a_name_too_long_for_a_file_is_not_a_preset(tmp_path):
    with pytest.raises(ScenarioError, match="is not a preset"):
        load("a" * 300)
    with pytest.raises(ScenarioError, match="cannot be read: File name too long"):
        load(str(tmp_path / ("a" * 300 + ".toml")))


def test_a_lesson_or_challenge_file_runs_from_the_command_line_as_its_scenario():
    from pathlib import Path

    from sim.lessons import load_challenge, load_lesson

    root = Path(__file__).resolve().parents[2] / "scenarios"
    lesson = load(str(root / "lessons" / "1-drift-without-governance.toml"))
    assert lesson.params == load_lesson("1-drift-without-governance").scenario.params
    assert lesson.title == "Drift without governance"
    challenge = load(str(root / "challenges" / "govern-the-drift.toml"))
    assert challenge.params == load_challenge("govern-the-drift").scenario.params
    # An upload is a plain scenario file: a lesson's table is refused there, as any unknown one.
    text = (root / "lessons" / "1-drift-without-governance.toml").read_text()
    with pytest.raises(ScenarioError, match="unknown top-level entry 'lesson'"):
        parse(text)


def test_a_preset_is_parsed_once_for_each_content_of_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.scenarios.SCENARIO_DIR", tmp_path)
    f = tmp_path / "mine.toml"
    f.write_text('[scenario]\ntitle = "Mine"\n[settings.decisions]\nrights = "delegated"\n')
    first = load_preset("mine")
    assert load_preset("mine") is first  # the same file: parsed once
    f.write_text('[scenario]\ntitle = "Yours"\n[settings.decisions]\nrights = "guardrails"\n')
    edited = load_preset("mine")
    assert (edited.title, edited.params.decisions.rights) == ("Yours", "guardrails")
    f.write_text('[scenario]\ntitle = "Broken"\n[settings.decisions]\nrights = "nobody"\n')
    with pytest.raises(ParamError, match="nobody"):
        load_preset("mine")
