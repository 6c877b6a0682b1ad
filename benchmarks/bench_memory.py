"""Peak memory of ``skmmm fit`` on a long simulated geo panel; print figures.

Usage: python benchmarks/bench_memory.py [--geos 70] [--weeks 10000]
       [--channels 3] [--draws 60] [--warmup 30] [--chains 2]
       [--model hill_adstock] [--keep DIR]

Writes a CSV of ``geos * weeks`` rows (simulated with
``skmmm.datasets.simulate_mmm_data``), runs the CLI on it in a subprocess
(one model, no backtest: ``--model MODEL --folds 0``), and prints one JSON
line: rows, CSV megabytes, the CLI's peak resident memory (GB, the
subprocess's ``ru_maxrss``) and its wall seconds. The target (issue 24
item 12): a 700k-row file at 60 draws under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skmmm.datasets import simulate_mmm_data  # noqa: E402


def write_panel(path: Path, n_geos: int, n_weeks: int, n_channels: int) -> list[str]:
    """Write the simulated panel; return its media columns."""
    data = simulate_mmm_data(
        n_periods=n_weeks, n_channels=n_channels, n_controls=1, n_geos=n_geos, seed=0
    )
    frame = data.X.copy()
    frame["sales"] = data.y
    frame.to_csv(path, index=False)
    return list(data.media_columns)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geos", type=int, default=70)
    parser.add_argument("--weeks", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--draws", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--model", default="hill_adstock")
    parser.add_argument("--keep", help="folder for the CSV and the outputs")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        csv = folder / "panel.csv"
        media = write_panel(csv, args.geos, args.weeks, args.channels)
        command = [
            sys.executable,
            "-c",
            "from skmmm.cli import main; raise SystemExit(main())",
            "fit",
            "--data",
            str(csv),
            "--date-column",
            "date",
            "--geo-column",
            "geo",
            "--target",
            "sales",
            "--media",
            *media,
            "--controls",
            "price_index",
            "--model",
            args.model,
            "--folds",
            "0",
            "--draws",
            str(args.draws),
            "--warmup",
            str(args.warmup),
            "--chains",
            str(args.chains),
            "--quiet",
            "--overwrite",
            "--out",
            str(folder / "out"),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        figures = {
            "rows": args.geos * args.weeks,
            "csv_mb": round(csv.stat().st_size / 1e6, 1),
            "draws_per_chain": args.draws,
            "chains": args.chains,
            "cli_peak_rss_gb": round(peak_kb / 1e6, 2),
            "cli_wall_s": round(wall, 1),
        }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
