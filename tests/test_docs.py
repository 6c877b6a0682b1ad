"""The documentation stays true: its code runs, its commands parse, its API is complete.

Every ```python block of the guide pages is executed in order, one namespace
per page (later blocks use earlier variables), in a temporary folder. The
pages show realistic settings (the default 1000 warm-up iterations and 1000
draws on 2 chains); running them as written would take minutes, so while the
pages run, ``BayesianMMMRegressor.fit`` (which every skmmm regressor, and
every clone a grid search or backtest makes, goes through) caps the MCMC
settings at ``DOCS_MCMC``. The code paths are the same, only the number of
draws differs; so few draws do not converge, and the ``ConvergenceWarning``
that says so is silenced. The tree depth is capped too: after 40 warm-up
iterations the step size is poorly adapted and NUTS would build trees of up
to 1023 steps per draw (~10 s per fit instead of ~0.5 s).

Every page fits the first 104 weeks of the example data (and the same shape
of LightweightMMM-style dummy data), and the backtests train on 104 weeks
(``max_train_size``), so the whole file compiles the sampler twice
(hill_adstock and adstock on 104 weeks); each compilation costs ~15-20 s of
CPU on a cold cache.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shlex
import traceback
from pathlib import Path

import matplotlib
import pytest

from skmmm import BayesianMMMRegressor

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = DOCS.parent / "README.md"
EXECUTED_PAGES = (
    "getting-started.md",
    "user-guide.md",
    "coming-from-lightweightmmm.md",
)
DOCS_MCMC = {
    "number_warmup": 40,
    "number_samples": 40,
    "number_chains": 2,
    "max_tree_depth": 6,
}
FENCE = re.compile(r"^```(\w[\w-]*)?[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def code_blocks(text: str, language: str) -> list[tuple[int, str]]:
    """(line number, code) of every fenced block of ``language``, in order."""
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(2))
        for match in FENCE.finditer(text)
        if match.group(1) == language
    ]


def test_code_blocks_finds_fenced_python_only():
    text = "intro\n```python\na = 1\n```\n```bash\nls\n```\n```python\nb = a\n```\n"
    assert code_blocks(text, "python") == [(2, "a = 1\n"), (8, "b = a\n")]
    assert code_blocks(text, "bash") == [(5, "ls\n")]


@pytest.fixture
def small_mcmc(monkeypatch):
    """Cap the MCMC settings of every fit at ``DOCS_MCMC`` (see the module doc)."""
    original_fit = BayesianMMMRegressor.fit

    def capped(estimator, name, cap):
        if name == "max_tree_depth":  # an int, a (warm-up, sampling) pair or None
            return tuple(min(depth, cap) for depth in estimator._tree_depths())
        return min(getattr(estimator, name), cap)

    def fit_with_few_draws(self, X, y, *args, **kwargs):
        self.set_params(
            **{name: capped(self, name, cap) for name, cap in DOCS_MCMC.items()}
        )
        return original_fit(self, X, y, *args, **kwargs)

    monkeypatch.setattr(BayesianMMMRegressor, "fit", fit_with_few_draws)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("page", EXECUTED_PAGES)
def test_page_code_runs(page, small_mcmc, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    blocks = code_blocks((DOCS / page).read_text(encoding="utf-8"), "python")
    assert blocks, f"docs/{page} has no python code"
    namespace: dict = {"__name__": "__docs__"}
    try:
        for number, (line, code) in enumerate(blocks, start=1):
            try:
                exec(compile(code, f"docs/{page}:{line}", "exec"), namespace)
            except Exception:
                pytest.fail(
                    f"docs/{page}, python block {number} (line {line}) failed:\n"
                    f"{traceback.format_exc()}",
                    pytrace=False,
                )
    finally:
        plt.close("all")


# --------------------------------------------------------- references

SKMMM_REFERENCE = re.compile(r"(?<![\w./-])skmmm(?:\.\w+)+")


def resolve(dotted: str):
    """The object a dotted ``skmmm....`` name refers to (ImportError/AttributeError if none)."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("page", EXECUTED_PAGES)
def test_skmmm_names_in_the_text_exist(page):
    """Names in tables and prose (not executed) must exist too."""
    text = (DOCS / page).read_text(encoding="utf-8")
    missing = []
    for name in sorted(set(SKMMM_REFERENCE.findall(text))):
        try:
            resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
    assert not missing, f"docs/{page} names what skmmm does not have: {missing}"


def test_resolve_finds_modules_and_attributes():
    assert resolve("skmmm.attribution.roi").__name__ == "roi"
    with pytest.raises(AttributeError):
        resolve("skmmm.attribution.no_such_function")


# ----------------------------------------------------------- commands


def cli_parser() -> argparse.ArgumentParser:
    from skmmm import cli

    return cli._parser()


def skmmm_commands(text: str) -> list[tuple[int, list[str]]]:
    """(line, argv) of every ``skmmm ...`` command in the ```bash blocks of ``text``."""
    commands = []
    for line, code in code_blocks(text, "bash"):
        code = code.replace("\\\n", " ")
        for offset, command_line in enumerate(code.splitlines()):
            command_line = command_line.split(" #")[0]
            for command in re.split(r"&&|\|\||;|\|", command_line):
                words = shlex.split(command)
                if words and words[0] == "skmmm":
                    commands.append((line + 1 + offset, words[1:]))
    return commands


def test_skmmm_commands_finds_commands_after_other_commands():
    text = "```bash\npip install . && skmmm demo --seed 1  # note\nls\n```\n"
    assert skmmm_commands(text) == [(2, ["demo", "--seed", "1"])]


def test_cli_parser_rejects_an_unknown_option(capsys):
    with pytest.raises(SystemExit):
        cli_parser().parse_args(["fit", "--data", "x.csv", "--no-such-option"])


@pytest.mark.parametrize(
    "path",
    [README] + [DOCS / page for page in EXECUTED_PAGES],
    ids=lambda path: path.name,
)
def test_documented_commands_parse(path):
    parser = cli_parser()
    commands = skmmm_commands(path.read_text(encoding="utf-8"))
    for line, argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(
                f"{path.name}:{line}: `skmmm {shlex.join(argv)}` does not parse with "
                "skmmm's command line parser",
                pytrace=False,
            )


# -------------------------------------------------------------- links


@pytest.mark.parametrize(
    "path",
    [README] + [DOCS / page for page in (*EXECUTED_PAGES, "api.md")],
    ids=lambda path: path.name,
)
def test_relative_links_point_to_files(path):
    text = path.read_text(encoding="utf-8")
    broken = [
        target
        for target, _ in LINK.findall(text)
        if "://" not in target and not (path.parent / target).exists()
    ]
    assert not broken, f"{path.name} links to missing files: {broken}"


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings of a Markdown page."""
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", markdown, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_heading_anchors_follow_github():
    page = "## 5. The report\n### Time continuity and `media_gap`\n## Geo (hierarchical) models\n"
    assert heading_anchors(page) == {
        "5-the-report",
        "time-continuity-and-media_gap",
        "geo-hierarchical-models",
    }


@pytest.mark.parametrize(
    "path",
    [README] + [DOCS / page for page in (*EXECUTED_PAGES, "api.md")],
    ids=lambda path: path.name,
)
def test_link_anchors_point_to_headings(path):
    text = path.read_text(encoding="utf-8")
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", text):
        if "://" in target:
            continue
        page = (path.parent / target) if target else path
        if anchor not in heading_anchors(page.read_text(encoding="utf-8")):
            broken.append(f"{target}#{anchor}")
    assert not broken, f"{path.name} links to missing headings: {broken}"


def test_readme_links_every_docs_page():
    text = README.read_text(encoding="utf-8")
    targets = {target for target, _ in LINK.findall(text)}
    for page in (*EXECUTED_PAGES, "api.md"):
        assert f"docs/{page}" in targets, f"README.md does not link docs/{page}"


# ---------------------------------------------------------- API page


def api_builder():
    spec = importlib.util.spec_from_file_location("_build_api", DOCS / "_build_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def documented_names(api_page: str) -> set[str]:
    return set(re.findall(r"^### (skmmm\.[\w.]+)$", api_page, re.MULTILINE))


def test_api_reference_documents_every_public_name():
    builder = api_builder()
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    public = {
        f"{module}.{name}"
        for module, names in builder.public_names().items()
        for name in names
    }
    documented = documented_names(page)
    missing = sorted(public - documented)
    stale = sorted(documented - public)
    assert not missing and not stale, (
        f"docs/api.md is out of date (missing {missing}, no longer public {stale}); "
        "run python docs/_build_api.py"
    )
    for name in builder.top_level_names():
        assert f"`skmmm.{name}`" in page, f"docs/api.md does not list skmmm.{name}"


def test_api_reference_renders_numpydoc_sections():
    builder = api_builder()
    from skmmm.attribution import summary

    text = builder.render_docstring(summary)
    assert "**Parameters**" in text
    assert "- `interval` : float, default=0.9" in text
    assert "----------" not in text
    section = builder.render_name(
        importlib.import_module("skmmm.optimize"), "BudgetOptimizer"
    )
    assert section.startswith("### skmmm.optimize.BudgetOptimizer")
    assert "#### BudgetOptimizer.optimize\n" in section
    assert "optimize(budget" in section
