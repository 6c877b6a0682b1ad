"""Regenerate skmmm's bundled example data set and its ground truth.

Writes ``skmmm/data/example_weekly.csv`` (date, media spend, controls, sales)
and ``skmmm/data/example_truth.json`` (true ROI, true parameters, costs and
the arguments of the generating :func:`skmmm.datasets.simulate_mmm_data`
call), both read by :func:`skmmm.datasets.load_example`.

Usage::

    python benchmarks/make_example_data.py            # rewrite the files
    python benchmarks/make_example_data.py --check    # exit 1 if they differ
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO_ROOT))

from skmmm.datasets import simulate_mmm_data  # noqa: E402

ARGUMENTS = {
    "n_periods": 156,
    "n_channels": 5,
    "model": "hill_adstock",
    "spend_patterns": None,  # the default mix: flighted, always-on, seasonal
    "n_controls": 2,
    "noise_level": 0.05,
    "n_geos": 1,
    "start_date": "2021-01-04",
    "seed": 41,
}
TARGET = "sales"


def build() -> tuple[str, str]:
    """Return the CSV text and the JSON text of the example data set."""
    data = simulate_mmm_data(**ARGUMENTS)
    frame = data.X.copy()
    frame[TARGET] = data.y
    csv_text = frame.reset_index().to_csv(index=False, date_format="%Y-%m-%d")
    truth = {
        "description": (
            "skmmm example: 156 weeks of national sales with spend on five "
            "media channels (tv and radio flighted, search and display "
            "always-on, social seasonal) and two controls (price_index, "
            "holiday). Simulated with skmmm.datasets.simulate_mmm_data "
            f"(hill_adstock, 5% noise, seed {ARGUMENTS['seed']}); media explain "
            f"{data.true_params['media_share']:.0%} of sales. The media "
            "transforms act on spend divided by its mean per channel and every "
            "coefficient is in sales units."
        ),
        "generator": {
            "function": "skmmm.datasets.simulate_mmm_data",
            "arguments": ARGUMENTS,
            "script": "benchmarks/make_example_data.py",
        },
        "media_columns": data.media_columns,
        "control_columns": data.control_columns,
        "target_column": TARGET,
        "costs": data.costs.to_dict(),
        "true_roi": data.true_roi.to_dict(),
        "true_contribution_share": (
            data.true_contributions[data.media_columns].sum()
            / data.true_contributions.to_numpy().sum()
        ).to_dict(),
        "true_params": data.true_params,
    }
    json_text = json.dumps(truth, indent=2) + "\n"
    return csv_text, json_text


def main(argv: list[str] | None = None) -> int:
    """Write (or, with ``--check``, compare) the example files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=REPO_ROOT / "skmmm" / "data",
        help="folder to write into (default: skmmm/data)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the files differ from a fresh build",
    )
    args = parser.parse_args(argv)
    csv_text, json_text = build()
    files = {"example_weekly.csv": csv_text, "example_truth.json": json_text}
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (args.out_dir / name).is_file()
            or (args.out_dir / name).read_text(encoding="utf-8") != text
        ]
        for name in stale:
            print(f"{args.out_dir / name} is out of date", file=sys.stderr)
        return 1 if stale else 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out_dir / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out_dir / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
