"""The ``skmmm`` command line, run in subprocesses.

The fitting runs use tiny samplers and the bundled example's shapes: the
``fit`` run models the example CSV with the ``adstock`` model, so it reuses
the programs the ``demo`` run compiled (JAX's persistent cache).
"""

import functools
import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from skmmm import cli, load_example, load_model

TINY = ["--draws", "20", "--warmup", "20", "--chains", "1", "--seed", "1"]
MEDIA = ["tv", "search", "social", "display", "radio"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skmmm.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def demo(workdir):
    out = workdir / "demo"
    return out, run_cli("demo", "--out", out, "--quiet", *TINY)


@pytest.fixture(scope="module")
def example_csv(workdir) -> Path:
    """The example data as a user's CSV, rows shuffled."""
    path = workdir / "weekly.csv"
    load_example().frame.sample(frac=1.0, random_state=0).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fit(workdir, example_csv):
    out = workdir / "fit"
    costs = load_example().costs.to_numpy()
    result = run_cli(
        "fit",
        "--data",
        example_csv,
        "--date-column",
        "date",
        "--target",
        "sales",
        "--media",
        *MEDIA,
        "--controls",
        "price_index",
        "holiday",
        "--costs",
        *costs,
        "--model",
        "adstock",
        "--out",
        out,
        *TINY,
    )
    return out, result


def test_demo_compares_optimises_saves_and_reports(demo):
    out, result = demo
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet
    backtest = pd.read_csv(out / "backtest.csv")
    assert sorted(backtest["model"]) == ["adstock", "carryover", "hill_adstock"]
    assert (backtest["n_test"] == 13).all() and (backtest["n_train"] == 143).all()
    best = backtest.set_index("model")["mape"].idxmin()
    # The summary table stars the best model by out-of-sample error; it is
    # the one saved.
    starred = [
        line.split()[0] for line in result.stdout.splitlines() if line.endswith("*")
    ]
    assert starred == [best]
    assert load_model(out / "model.skmmm").spec_.model_name == best
    budget = pd.read_csv(out / "budget.csv", index_col="channel")
    assert list(budget.index) == MEDIA
    assert budget["optimal"].sum() == pytest.approx(budget["starting"].sum())
    report = (out / "report.html").read_text(encoding="utf-8")
    assert all(model in report for model in ("adstock", "carryover", "hill_adstock"))
    assert f"Report: {out / 'report.html'}" in result.stdout


def test_fit_models_a_user_csv(fit, example_csv):
    out, result = fit
    assert result.returncode == 0, result.stderr
    # stderr is not a terminal: no progress bar or status lines, only warnings.
    assert "Traceback" not in result.stderr and "\r" not in result.stderr
    assert all(
        line.startswith("skmmm: warning: ") for line in result.stderr.splitlines()
    )
    model = load_model(out / "model.skmmm")
    assert model.spec_.model_name == "adstock"
    # The shuffled rows were put back in date order before fitting.
    dates = pd.to_datetime(pd.read_csv(example_csv)["date"]).sort_values()
    assert list(model.training_data_.index) == list(dates)
    backtest = pd.read_csv(out / "backtest.csv")
    assert backtest[["model", "n_train", "n_test"]].values.tolist() == [
        ["adstock", 143, 13]
    ]
    assert (out / "report.html").exists()


def test_report_of_a_saved_model(fit, workdir):
    out, _ = fit
    html = workdir / "reports" / "saved.html"
    result = run_cli("report", out / "model.skmmm", "--out", html, "--title", "Q3 <b>")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Report: {html}"
    text = html.read_text(encoding="utf-8")
    assert "Q3 &lt;b&gt;" in text and "adstock" in text
    # Every section it has the data for: the budget at the recent spend too.
    assert '<section id="budget">' in text


def test_report_words_the_currency_and_the_kpi(fit, workdir):
    out, _ = fit
    html = workdir / "reports" / "words.html"
    result = run_cli(
        "report",
        out / "model.skmmm",
        "--out",
        html,
        "--currency",
        "€",
        "--kpi-name",
        "sales",
        "--horizon",
        "8",
        "--bounds-pct",
        "0.3",
    )
    assert result.returncode == 0, result.stderr
    text = html.read_text(encoding="utf-8")
    assert "Incremental sales" in text and "€" in text
    assert "over <strong>8</strong> periods" in text
    unknown = run_cli(
        "report", out / "model.skmmm", "--out", workdir / "x.html", "--lock", "nope"
    )
    assert unknown.returncode != 0 and "--lock names ['nope']" in unknown.stderr


def test_report_of_a_count_kpi_shows_cost_per_kpi(fit, workdir):
    out, _ = fit
    html = workdir / "reports" / "count.html"
    result = run_cli(
        "report", out / "model.skmmm", "--out", html, "--kpi-type", "count"
    )
    assert result.returncode == 0, result.stderr
    text = html.read_text(encoding="utf-8")
    assert "Cost per KPI" in text and "Marginal ROI" not in text


def test_fit_refuses_to_replace_existing_outputs(fit, example_csv):
    out, _ = fit
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    args = ["fit", "--data", example_csv, "--date-column", "date"]
    args += ["--target", "sales", "--media", *MEDIA, "--model", "adstock"]
    result = run_cli(*args, "--out", out, *TINY)
    assert result.returncode == 2
    for name in ("report.html", "budget.csv", "model.skmmm", "backtest.csv"):
        assert name in result.stderr
    assert "--overwrite" in result.stderr
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_fit_refuses_to_guess_the_order_of_day_and_month(workdir):
    """Monthly dates on the 1st, day first: 01/02/2021 is 1 February."""
    frame = load_example().frame.iloc[:40].copy()
    months = pd.date_range("2018-01-01", periods=len(frame), freq="MS")
    frame["date"] = months.strftime("%d/%m/%Y")
    path = workdir / "monthly.csv"
    frame.to_csv(path, index=False)
    args = ["fit", "--data", path, "--date-column", "date", "--target", "sales"]
    args += ["--media", *MEDIA, "--model", "adstock", "--folds", "0"]
    result = run_cli(*args, "--out", workdir / "monthly", *TINY)
    assert result.returncode == 2
    assert "cannot be told apart" in result.stderr and "--date-format" in result.stderr
    result = run_cli(
        *args, "--date-format", "%d/%m/%Y", "--out", workdir / "monthly", *TINY
    )
    assert result.returncode == 0, result.stderr
    from skmmm import load_model

    model = load_model(workdir / "monthly" / "model.skmmm")
    assert model.training_data_.index.equals(months.rename("date"))


def test_fit_reads_a_european_csv_and_names_the_options_it_needs(workdir):
    """Semicolons, decimal commas, dots between thousands, an extra column."""
    frame = load_example().frame.copy()
    frame["notes"] = "x"
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    text = frame.to_csv(index=False, sep=";", decimal=",", float_format="%.2f")
    # 12922.39 -> 12.922,39 in the money columns, as a spreadsheet exports it.
    lines = text.splitlines()
    header = lines[0].split(";")
    money = [header.index(c) for c in ["sales", *MEDIA]]
    rows = []
    for line in lines[1:]:
        cells = line.split(";")
        for i in money:
            whole, _, cents = cells[i].partition(",")
            cells[i] = f"{int(whole):,}".replace(",", ".") + "," + cents
        rows.append(";".join(cells))
    path = workdir / "european.csv"
    path.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    args = ["fit", "--data", path, "--date-column", "date", "--target", "sales"]
    args += ["--media", *MEDIA, "--controls", "price_index", "holiday"]
    args += ["--model", "adstock", "--folds", "0", *TINY]
    result = run_cli(*args, "--out", workdir / "european")
    assert result.returncode == 2
    assert "--thousands '.' --decimal ','" in result.stderr
    assert "line 2" in result.stderr or "line " in result.stderr
    result = run_cli(
        *args, "--thousands", ".", "--decimal", ",", "--out", workdir / "european"
    )
    assert result.returncode == 0, result.stderr
    assert "ignoring column(s) 'notes'" in result.stderr


def test_fit_says_which_separator_the_columns_look_glued_by(workdir):
    path = workdir / "semicolons.csv"
    load_example().frame.iloc[:20].to_csv(path, index=False, sep=";")
    result = run_cli(
        "fit", "--data", path, "--sep", ",", "--date-column", "date",
        "--target", "sales", "--media", "tv", "--out", workdir / "glued", *TINY,
    )  # fmt: skip
    assert result.returncode == 2
    assert "look separated by ';'" in result.stderr and "--sep ';'" in result.stderr


def test_report_refuses_to_replace_a_file_unless_told(fit, workdir):
    out, _ = fit
    html = workdir / "kept.html"
    html.write_text("mine", encoding="utf-8")
    result = run_cli("report", out / "model.skmmm", "--out", html)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert html.read_text(encoding="utf-8") == "mine"
    result = run_cli("report", out / "model.skmmm", "--out", html, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert "<html" in html.read_text(encoding="utf-8")


def bad_csvs(folder: Path) -> dict[str, Path]:
    frame = load_example().frame
    with_nan, negative, bad_date = frame.copy(), frame.copy(), frame.copy()
    with_nan.loc[5, "tv"] = float("nan")
    negative.loc[7, "search"] = -3.0
    bad_date["date"] = bad_date["date"].dt.strftime("%Y-%m-%d")
    bad_date.loc[3, "date"] = "2021-13-45"
    paths = {}
    for name, data in (
        ("ok", frame),
        ("nan", with_nan),
        ("negative", negative),
        ("bad_date", bad_date),
    ):
        paths[name] = folder / f"{name}.csv"
        data.to_csv(paths[name], index=False)
    return paths


def fit_args(data, *media, extra=()):
    return ("fit", "--data", data, "--date-column", "date", "--target", "sales",
            "--media", *media, *extra, "--out", data.parent / "out")  # fmt: skip


ERROR_CASES = {
    "missing file": (
        lambda p: fit_args(p["ok"].parent / "nope.csv", "tv"),
        ["nope.csv", "No such file"],
    ),
    "missing column": (
        lambda p: fit_args(p["ok"], "tv", "tvv"),
        ["'tvv'", "--media", "not in"],
    ),
    "NaN row": (lambda p: fit_args(p["nan"], "tv", "search"), ["'tv'", "row 5"]),
    "negative media": (
        lambda p: fit_args(p["negative"], "tv", "search"),
        ["'search'", "negative", "row 7"],
    ),
    "unreadable date": (
        lambda p: fit_args(p["bad_date"], "tv"),
        ["date column 'date'", "row 3", "2021-13-45"],
    ),
}


@functools.cache
def error_runs(folder: Path) -> dict[str, subprocess.CompletedProcess]:
    """Every bad-input and bad-usage run, started together (each imports JAX)."""
    paths = bad_csvs(folder)
    with ThreadPoolExecutor(len(ERROR_CASES)) as pool:
        futures = {
            name: pool.submit(run_cli, *make_args(paths))
            for name, (make_args, _) in ERROR_CASES.items()
        }
        futures["usage"] = pool.submit(
            run_cli, "fit", "--data", "x.csv", "--media", "tv", "--out", "o"
        )
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_bad_data_exits_2_with_one_line(case, workdir):
    result = error_runs(workdir)[case]
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("skmmm: error: "), result.stderr
    for fragment in ERROR_CASES[case][1]:
        assert fragment in lines[0]


def test_bad_usage_exits_2_without_traceback(workdir):
    result = error_runs(workdir)["usage"]
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "skmmm fit: error: the following arguments are required: "
        "--date-column, --target"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_without_quiet(monkeypatch):
    problem = cli._example_problem()
    args = cli.build_parser().parse_args(["demo"])

    def progress_bars(stderr, *options):
        monkeypatch.setattr(sys, "stderr", stderr)
        args = cli.build_parser().parse_args(["demo", *options])
        return [
            est.progress_bar
            for est in cli._estimators(problem, cli.MODELS, args).values()
        ]

    assert progress_bars(_Terminal()) == [True, True, True]
    assert progress_bars(_Terminal(), "--quiet") == [False, False, False]
    assert progress_bars(io.StringIO()) == [False, False, False]
    status = io.StringIO()
    monkeypatch.setattr(sys, "stderr", status)
    cli._Progress(cli._show_progress(args))("fitting ...")
    assert status.getvalue() == ""


def test_warm_up_defaults_to_the_estimators_and_follows_the_option():
    problem = cli._example_problem()

    def warm_ups(*options):
        args = cli.build_parser().parse_args(["demo", *options])
        return {
            est.number_warmup
            for est in cli._estimators(problem, cli.MODELS, args).values()
        }

    # Not tied to --draws: 500 warm-up iterations left hill_adstock fits of
    # the example with 19 divergent draws, 1000 with 1.
    assert warm_ups() == {1000}
    assert warm_ups("--draws", "200") == {1000}
    assert warm_ups("--warmup", "300") == {300}


def test_folds_must_leave_enough_training_periods():
    problem = cli._example_problem()
    cli._check_room_for_folds(problem, 2, 13)
    with pytest.raises(ValueError, match="--folds 3 x --holdout 50 leaves 6 of 156"):
        cli._check_room_for_folds(problem, 3, 50)
    folds = cli._holdout_folds(problem, 2, 13)
    assert [(len(train), test[0], test[-1]) for train, test in folds] == [
        (130, 130, 142),
        (143, 143, 155),
    ]


def test_main_configures_jax_before_running_the_command(monkeypatch, capsys):
    from skmmm import config

    calls = []
    monkeypatch.setattr(config, "ensure_configured", lambda: calls.append("configure"))
    monkeypatch.setitem(
        cli.COMMANDS, "report", lambda args: calls.append(args.command) or 0
    )
    assert cli.main(["report", "model.skmmm", "--out", "report.html"]) == 0
    assert calls == ["configure", "report"]


def test_a_bad_device_count_in_the_environment_exits_2_naming_it(monkeypatch, capsys):
    from skmmm import config

    monkeypatch.setattr(config, "_configured", False)
    monkeypatch.setenv("SKMMM_HOST_DEVICES", "many")
    assert cli.main(["report", "model.skmmm", "--out", "report.html"]) == 2
    assert capsys.readouterr().err == (
        "skmmm: error: SKMMM_HOST_DEVICES must be a positive integer, got 'many'.\n"
    )


def test_budget_bounds_and_locks_from_the_command_line(workdir, example_csv):
    frame = load_example().frame
    weekly = frame[MEDIA].sum().sum() / len(frame)
    budget = 1.1 * 13 * weekly
    tv_start = budget * frame["tv"].sum() / frame[MEDIA].sum().sum()
    tv_cap = 0.95 * tv_start
    out = workdir / "budget-options"
    result = run_cli(
        "fit", "--data", example_csv, "--date-column", "date", "--target", "sales",
        "--media", *MEDIA, "--model", "adstock", "--folds", "0", "--out", out,
        "--budget", budget, "--bounds-pct", "0.5", "--bounds", f"tv=:{tv_cap}",
        "--lock", "radio", *TINY,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "budget.csv", index_col="channel")
    assert table["optimal"].sum() == pytest.approx(budget, rel=1e-6)
    assert table["starting"].sum() == pytest.approx(budget, rel=1e-6)
    assert table.loc["tv", "optimal"] <= tv_cap * (1 + 1e-6)
    assert table.loc["radio", "optimal"] == pytest.approx(
        table.loc["radio", "starting"]
    )


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (["--lock", "tvv"], ["--lock", "'tvv'", "not media columns"]),
        (["--bounds", "radi0=1:2"], ["--bounds", "'radi0'"]),
        (["--lock", "tv=100", "--lock", "radio"], ["--lock", "every locked channel"]),
    ],
)
def test_budget_options_naming_unknown_channels_fail_before_fitting(
    options, fragments, example_csv, tmp_path, capsys
):
    args = fit_args(example_csv, *MEDIA, extra=["--model", "adstock", "--folds", "0"])
    status = cli.main([str(a) for a in (*args[:-1], tmp_path / "out", *options)])
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("skmmm: error: ") and len(error.splitlines()) == 1
    for fragment in fragments:
        assert fragment in error


@pytest.mark.parametrize(
    "options",
    [
        ["--budget", "-5"],
        ["--bounds", "tv"],
        ["--bounds", "tv=a:b"],
        ["--bounds-pct", "x"],
    ],
)
def test_malformed_budget_options_are_usage_errors(options, example_csv, tmp_path):
    args = fit_args(example_csv, *MEDIA)
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(a) for a in (*args[:-1], tmp_path / "out", *options)])
    assert exit_info.value.code == 2
