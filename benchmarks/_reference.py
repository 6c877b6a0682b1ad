"""Loading the shared reference data (LightweightMMM's dummy data, 160 weeks)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench"
TRAIN_WEEKS = 150


def load_reference(data_dir: str | os.PathLike | None = None):
    """Return (X_train, y_train, X_test, y_test, costs) of the reference data.

    The first 150 weeks train and the last 10 are held out, as
    ``shared/bench/REFERENCE.md`` specifies; ``costs`` (total cost per channel)
    is the media prior.
    """
    data_dir = Path(data_dir or os.environ.get("SKMMM_BENCH_DATA", DEFAULT_DATA_DIR))
    frame = pd.read_csv(data_dir / "lmmm_dummy_160w.csv")
    costs = pd.read_csv(data_dir / "lmmm_dummy_costs.csv").set_index("channel")["cost"]
    media = [c for c in frame.columns if c.startswith("media_")]
    X = frame[media + ["extra_0"]]
    y = frame["target"]
    return (
        X.iloc[:TRAIN_WEEKS],
        y.iloc[:TRAIN_WEEKS],
        X.iloc[TRAIN_WEEKS:],
        y.iloc[TRAIN_WEEKS:],
        costs.loc[media],
    )
