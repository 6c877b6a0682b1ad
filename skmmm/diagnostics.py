"""One convergence judgement of a fitted model, used by every part of skmmm.

The regressor's ``ConvergenceWarning``, the HTML report's verdict and the
plots' worst-mixing parameters all come from :func:`convergence_verdict`, so
they never disagree. The judgement follows Vehtari et al. (2021, "Rank-
normalization, folding, and localization: an improved R-hat"):

- **not converged**: some r_hat above ``RHAT_THRESHOLD`` (1.05), or more than
  ``DIVERGENCE_FRACTION`` (1%) of the draws divergent;
- **warning**: some bulk ESS below ``MIN_ESS_PER_CHAIN`` (50) per chain
  ("converged but imprecise": below about 100 effective draws the intervals'
  ends and r_hat itself are unreliable), or r_hat not available (fewer
  than 4 draws per chain);
- **converged** otherwise, with notes: a handful of divergent draws (at most
  1%) marks a region the sampler found hard, which the estimates rarely
  depend on; an r_hat between ``RHAT_TARGET`` (1.01) and 1.05 is what chance
  alone gives often with 2 chains and a few hundred effective draws
  (``benchmarks/rhat_noise.py``: 30 quantities at bulk ESS 500 from 2 chains
  of 500 exact draws exceed 1.01 in 65% of runs, and 1.05 in none), so it
  asks for more draws for final figures rather than raising an alarm; and
  a bulk ESS between 50 and ``GOOD_ESS_PER_CHAIN`` (100) per chain, enough
  for posterior means (their Monte Carlo error is under a tenth of the
  posterior sd) but not yet for stable interval ends.

A fit with ``inference="laplace"`` has no chains to judge: its status is
**approximate** when the optimiser reached the posterior mode (the Newton
step left there is short and the Hessian positive definite), with no
warning, and **not converged** otherwise, which warns and names the remedy.

r_hat is the split r_hat and ESS the bulk effective sample size of
:mod:`numpyro.diagnostics` (:func:`chain_diagnostics`): split r_hat compares
the halves of each chain, so a single chain is judged too.

Independently of convergence, a channel whose ROI posterior median lies in
the outer 1% of its prior (:func:`prior_data_conflicts`) is named in the
notes: the data and the prior disagree, and the answer depends on the prior.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
from sklearn.utils.validation import check_is_fitted

from skmmm._laplace import NEWTON_DECREMENT_TOL
from skmmm.priors import ROI_SITES, prior_cdf

__all__ = [
    "DIVERGENCE_FRACTION",
    "GOOD_ESS_PER_CHAIN",
    "MIN_ESS_PER_CHAIN",
    "RHAT_TARGET",
    "RHAT_THRESHOLD",
    "ConvergenceVerdict",
    "chain_diagnostics",
    "convergence_verdict",
    "mixing_table",
    "prior_data_conflicts",
]

RHAT_THRESHOLD = 1.05
RHAT_TARGET = 1.01
MIN_ESS_PER_CHAIN = 50
GOOD_ESS_PER_CHAIN = 100
DIVERGENCE_FRACTION = 0.01
# Prior quantiles outside which a posterior median is a prior-data conflict.
CONFLICT_QUANTILE = 0.01
N_WORST_PARAMETERS = 5
# Split r_hat halves each chain; below this many draws per chain it is noise.
MIN_DRAWS_FOR_RHAT = 4


def chain_diagnostics(
    samples: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Split r_hat and bulk effective sample size of each site.

    Parameters
    ----------
    samples : dict of str to ndarray
        Draws by chain, each of shape (n_chains, n_samples, ...).

    Returns
    -------
    rhat, ess : dict of str to ndarray
        Per site, of the site's shape. r_hat is NaN with fewer than
        ``MIN_DRAWS_FOR_RHAT`` draws per chain.
    """
    rhat, ess = {}, {}
    for name, value in samples.items():
        value = np.asarray(value)
        rhat[name] = (
            np.asarray(split_gelman_rubin(value))
            if value.shape[1] >= MIN_DRAWS_FOR_RHAT
            else np.full(value.shape[2:], np.nan)
        )
        ess[name] = np.asarray(effective_sample_size(value))
    return rhat, ess


def mixing_table(estimator) -> pd.DataFrame:
    """Every parameter element's r_hat and bulk ESS, worst-mixing first.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.

    Returns
    -------
    DataFrame
        Indexed by the element's label (as in ``summary()``), with columns
        ``site``, ``position`` (in the flattened site), ``r_hat`` and
        ``ess_bulk``; highest r_hat first, then lowest ESS (elements whose
        r_hat is undefined last among equals).
    """
    fitted = estimator.fitted_
    rows = []
    for name, draws in fitted.posterior.items():
        shape = np.shape(draws)[1:]
        rhat = np.broadcast_to(fitted.rhat.get(name, np.nan), shape).ravel()
        ess = np.broadcast_to(fitted.ess.get(name, np.nan), shape).ravel()
        for position in range(int(np.prod(shape, dtype=int))):
            rows.append(
                (
                    fitted.element_label(name, position, shape),
                    name,
                    position,
                    float(rhat[position]),
                    float(ess[position]),
                )
            )
    table = pd.DataFrame(
        rows, columns=["label", "site", "position", "r_hat", "ess_bulk"]
    ).set_index("label")
    order = np.lexsort(
        (
            table["ess_bulk"].fillna(np.inf).to_numpy(),
            -table["r_hat"].fillna(-np.inf).to_numpy(),
        )
    )
    return table.iloc[order]


@dataclass(frozen=True)
class ConvergenceVerdict:
    """Plain-language convergence verdict of one fit.

    Attributes
    ----------
    status : {"converged", "warning", "not converged", "approximate"}
        See the module docstring.
    headline : str
        One sentence, e.g. "Converged: max r_hat 1.004, no divergent
        transitions."
    advice : str
        What to do about it ("" when converged).
    max_rhat : float
        Largest finite r_hat over every parameter (NaN without r_hat).
    min_ess : float
        Smallest bulk effective sample size over every parameter.
    divergences : int
        Divergent transitions after warm-up.
    worst_parameters : list of str
        The parameters the headline names (highest r_hat or lowest ESS).
    notes : list of str
        Remarks that do not change the status: a few divergent draws, and
        channels whose ROI posterior conflicts with its prior.
    model : str
        The model the verdict is about, e.g. ``"HillAdstockRegressor
        (hill_adstock)"``.
    """

    status: str
    headline: str
    advice: str
    max_rhat: float
    min_ess: float
    divergences: int
    worst_parameters: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    model: str = ""

    @property
    def should_warn(self) -> bool:
        """Whether the fit deserves a ``ConvergenceWarning``.

        Not converged, or imprecise with r_hat available (a single chain
        cannot be judged, and says so in the headline instead).
        """
        return self.status == "not converged" or (
            self.status == "warning" and np.isfinite(self.max_rhat)
        )

    def message(self) -> str:
        """The warning text: the model, the headline, the advice and the notes."""
        parts = [f"{self.model}: {self.headline}" if self.model else self.headline]
        if self.advice:
            parts.append(self.advice)
        parts.extend(self.notes)
        return " ".join(parts)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _named_values(values: pd.Series, digits: int) -> str:
    return ", ".join(f"{name} ({value:.{digits}f})" for name, value in values.items())


def model_label(estimator) -> str:
    """A short name of a fitted estimator: its class, model family and data.

    The training period is part of the name, so that a warning raised in a
    backtest, ``compare_models`` or ``GridSearchCV`` says which fold it is
    about: ``"HillAdstockRegressor fitted on 2021-01-04 to 2022-12-26 (104
    periods)"``.
    """
    name = type(estimator).__name__
    family = getattr(estimator, "model", None)
    label = f"{name}({family!r})" if family and name == "BayesianMMMRegressor" else name
    train = getattr(estimator, "training_data_", None)
    n_periods = getattr(estimator, "n_train_periods_", None)
    if train is None or n_periods is None:
        return label
    index = getattr(train, "index", None)
    if isinstance(index, pd.DatetimeIndex) and len(index):
        dates = index.unique().sort_values()
        period = f"{dates[0].date()} to {dates[-1].date()}"
    else:
        period = f"rows 0 to {n_periods - 1}"
    return f"{label} fitted on {period} ({n_periods} periods)"


def prior_data_conflicts(estimator) -> list[str]:
    """Channels whose ROI posterior median lies in the outer tails of its prior.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        With an ROI prior (skmmm's default parametrization); other fits have
        no conflicts to report.

    Returns
    -------
    list of str
        One sentence per conflicting channel, naming it and the side
        ("above" or "below") of the prior it sits on.
    """
    conflicts = []
    for name in ROI_SITES:
        draws = estimator.posterior_.get(name)
        prior = estimator.roi_prior() if draws is not None else None
        if prior is None:
            continue
        medians = np.median(np.asarray(draws), axis=0)
        cdf = prior_cdf(prior, medians)
        for channel, value, median in zip(
            estimator.media_names_, np.atleast_1d(cdf), medians, strict=False
        ):
            if value > 1 - CONFLICT_QUANTILE or value < CONFLICT_QUANTILE:
                side = "above" if value > 0.5 else "below"
                conflicts.append(
                    f"Prior-data conflict: the ROI of {channel} (posterior "
                    f"median {median:.3g}) lies {side} {100 * (1 - CONFLICT_QUANTILE):.0f}% "
                    "of its prior; the answer for this channel depends on the "
                    "prior: check its spend data, or state your belief with "
                    "custom_priors={'roi': ...}."
                )
    return conflicts


def convergence_verdict(
    estimator, table: pd.DataFrame | None = None
) -> ConvergenceVerdict:
    """Judge the sampler's convergence from a fitted estimator's diagnostics.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        Uses ``divergences_``, the draws in ``posterior_`` and the ``r_hat``
        and ``ess_bulk`` columns of ``estimator.summary()``.
    table : DataFrame, default=None
        ``estimator.summary()`` when already computed (``summary`` passes
        its own table).

    Returns
    -------
    ConvergenceVerdict
        See the module docstring for the rules.
    """
    check_is_fitted(estimator, "posterior_")
    info = getattr(estimator, "sampling_info_", None) or {}
    if info.get("inference") == "laplace":
        return _laplace_verdict(estimator, info)
    if table is None:
        table = estimator.summary()
        if "convergence" in table.attrs:  # summary judged it already
            return table.attrs["convergence"]
    rhat = table["r_hat"].astype(float)
    ess = table["ess_bulk"].astype(float)
    divergences = int(estimator.divergences_)
    n_draws = int(next(iter(estimator.posterior_.values())).shape[0])
    n_chains = int(getattr(estimator, "number_chains", 1) or 1)
    finite_rhat = rhat[np.isfinite(rhat)]
    max_rhat = float(finite_rhat.max()) if len(finite_rhat) else math.nan
    min_ess = float(ess.min()) if len(ess) else math.nan
    ess_floor = MIN_ESS_PER_CHAIN * n_chains
    low_ess = ess[ess < ess_floor].sort_values()[:N_WORST_PARAMETERS]
    many_divergences = divergences > DIVERGENCE_FRACTION * n_draws
    divergence_text = (
        "no divergent transitions"
        if divergences == 0
        else f"{_plural(divergences, 'divergent transition')} "
        f"({100 * divergences / max(n_draws, 1):.2g}% of {n_draws} draws)"
    )
    notes = []
    if divergences and not many_divergences:
        notes.append(
            f"Note: {divergence_text}; under {100 * DIVERGENCE_FRACTION:.0f}% of "
            "the draws with good r_hat and ESS, this does not affect the estimates."
        )
    notes.extend(prior_data_conflicts(estimator))
    model = model_label(estimator)

    def verdict(status, headline, advice, worst):
        return ConvergenceVerdict(
            status,
            headline,
            advice,
            max_rhat,
            min_ess,
            divergences,
            list(worst),
            notes,
            model,
        )

    high_rhat = finite_rhat[finite_rhat > RHAT_THRESHOLD].sort_values(ascending=False)[
        :N_WORST_PARAMETERS
    ]
    if many_divergences or len(high_rhat):
        problems = []
        if many_divergences:
            problems.append(divergence_text)
        if len(high_rhat):
            problems.append(
                f"r_hat above {RHAT_THRESHOLD} for {_named_values(high_rhat, 3)}"
            )
        advice = (
            "Do not rely on the estimates yet. Fit again with more warm-up "
            "(number_warmup=2000)"
            + (
                " and target_accept_prob=0.95, so the sampler takes smaller steps"
                if many_divergences
                else ""
            )
            + "; if that does not help, the priors and the data disagree: check "
            "the media columns and media_prior, or revisit custom_priors."
        )
        return verdict(
            "not converged",
            "Not converged: " + "; ".join(problems) + ".",
            advice,
            high_rhat.index,
        )
    if not len(finite_rhat):
        return verdict(
            "warning",
            f"Convergence not checked: r_hat needs at least "
            f"{MIN_DRAWS_FOR_RHAT} draws per chain; {divergence_text}.",
            "Fit with more draws (number_samples) and number_chains=2 or more "
            "to check that the chains agree.",
            low_ess.index,
        )
    imprecise_rhat = finite_rhat[finite_rhat > RHAT_TARGET].sort_values(
        ascending=False
    )[:N_WORST_PARAMETERS]
    if len(imprecise_rhat):
        notes.insert(
            0,
            f"Note: r_hat above {RHAT_TARGET} for "
            f"{_named_values(imprecise_rhat, 3)}. With 2 chains and a few hundred "
            "effective draws chance alone often gives that; for final figures, "
            f"draw more samples (number_samples=2000) to reach r_hat <= {RHAT_TARGET}.",
        )
    modest_ess = ess[(ess >= ess_floor) & (ess < GOOD_ESS_PER_CHAIN * n_chains)]
    if len(modest_ess) and not len(low_ess):
        notes.append(
            f"Note: bulk ESS below {GOOD_ESS_PER_CHAIN * n_chains} for "
            f"{_named_values(modest_ess.sort_values()[:N_WORST_PARAMETERS], 0)}: "
            "the means are precise, the ends of their intervals less so; more "
            "warm-up (number_warmup=2000) gives steadier intervals."
        )
    if len(low_ess):
        return verdict(
            "warning",
            f"Converged but imprecise: max r_hat {max_rhat:.3f}, {divergence_text}, "
            f"but few effective draws for {_named_values(low_ess, 0)}.",
            "Fit again with more warm-up (number_warmup=2000) so that the "
            "sampler adapts to the slow parameters, for stable intervals; aim "
            f"for a bulk ESS of at least {ess_floor}.",
            low_ess.index,
        )
    return verdict(
        "converged",
        f"Converged: max r_hat {max_rhat:.3f}, {divergence_text}.",
        "",
        [],
    )


def _laplace_verdict(estimator, info: Mapping) -> ConvergenceVerdict:
    """The verdict of a Laplace fit: did the optimiser reach the mode."""
    notes = [
        "Approximate: the draws come from a normal approximation at the "
        "posterior mode (inference='laplace'), not from NUTS; r_hat and ESS do "
        "not apply. Check final figures with inference='nuts'."
    ]
    notes.extend(prior_data_conflicts(estimator))
    model = model_label(estimator)
    clipped = int(info.get("clipped_directions", 0))
    if bool(info.get("optimizer_converged", False)):
        return ConvergenceVerdict(
            "approximate",
            "Approximate fit (Laplace approximation at the posterior mode): "
            "the optimiser converged.",
            "",
            math.nan,
            math.nan,
            0,
            [],
            notes,
            model,
        )
    problems = []
    decrement = float(info.get("newton_decrement", math.nan))
    if not decrement < NEWTON_DECREMENT_TOL:
        problems.append(
            f"the optimiser stopped short of the mode (Newton decrement "
            f"{decrement:.3g})"
        )
    if clipped:
        problems.append(
            f"the log density is flat or curves upwards in "
            f"{_plural(clipped, 'direction')} at the mode"
        )
    return ConvergenceVerdict(
        "not converged",
        "Laplace fit not converged: " + "; ".join(problems or ["no mode found"]) + ".",
        "Do not rely on the estimates. Fit again with more optimiser iterations "
        "(number_warmup=5000) or more starting points (number_chains=4), or use "
        "inference='nuts', which does not need a well-behaved mode.",
        math.nan,
        math.nan,
        0,
        [],
        notes,
        model,
    )
