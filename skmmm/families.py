"""National and geo models behind one interface.

A fit is the same sequence for both model families: validate the data,
resolve the media costs, scale, resolve the priors over the family's sites,
choose the sampler's coordinates, and build the model's inputs.
:class:`NationalFamily` and :class:`GeoFamily` implement those steps;
:meth:`ModelFamily.prepare` runs them and returns a :class:`SamplingProblem`
that the estimator samples. Everything after sampling (draws, diagnostics,
prediction, attribution) treats a national fit as a panel of one geo
(:mod:`skmmm.fitted`), so these two classes are where the families differ.

The families read the estimator's constructor parameters (``model``,
``media_prior``, ``custom_priors``, ``parametrization``, ...) and nothing
else of it.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro import distributions as dist
from numpyro.distributions import constraints

from skmmm import _validation, lift_tests
from skmmm._geo_coordinates import (
    INITIAL_MEDIA_NONCENTRING,
    INITIAL_ROI_SHEAR,
    coordinate_adaptation,
)
from skmmm._sampling import CoordinateAdaptation
from skmmm.models import (
    COEF_MEDIA_RAW,
    GEO_MEAN_SCALED_TREND,
    LEVEL_LOG_RATIOS,
    LOG_LEVEL,
    LOG_SEASONALITY_AMPLITUDE,
    N_GEO_MEAN_SITE_ROWS,
    SHEARED_LOG_ROI,
    GeoModelSpec,
    ModelInputs,
    ModelSpec,
    geo_model,
    geo_site_shapes,
    national_model,
    site_shapes,
)
from skmmm.priors import (
    CHANNEL_COEF_MEDIA,
    CHANNEL_ROI,
    COEF_MEDIA,
    DEFAULT_PRIORS,
    LIGHTWEIGHT_MMM_PRIORS,
    ROI,
    resolve_priors,
)

__all__ = [
    "GEO_ONLY_ATTRIBUTES",
    "MIN_PERIODS",
    "GeoFamily",
    "ModelFamily",
    "NationalFamily",
    "SamplingProblem",
    "model_family",
    "present_mean",
    "prior_fingerprint",
    "spend_shares",
]

MIN_PERIODS = 5
# baseline="spline": knots per seasonal cycle (a knot a quarter).
KNOTS_PER_CYCLE = 4
# Fitted attributes only a geo fit has: a national refit drops them.
GEO_ONLY_ATTRIBUTES = ("geo_names_", "media_prior_by_geo_", "extra_offset_")


@dataclass
class SamplingProblem:
    """What the estimator samples, and the fitted attributes it sets first.

    Attributes
    ----------
    data : TrainingData or GeoTrainingData
        The validated training data.
    attributes : dict
        Fitted attributes (scales, costs, ``spec_``, ``roi_reference_``).
    model : callable
        The NumPyro model with its spec and priors bound.
    inputs : ModelInputs
        The model's data, its one argument.
    dense_mass : bool or tuple of tuple of str
        The mass matrix to adapt.
    cache_key : tuple
        Identifies the compiled sampler (with the priors' fingerprint).
    roi_site : str
        The ROI site of this family (its draws are rescaled to absolute).
    hidden_sites : tuple of str
        Sampler coordinates that are not model parameters.
    adaptation : CoordinateAdaptation or None
        Settings each chain chooses in warm-up.
    prior_model : callable or None
        The same model in coordinates NumPyro can sample forward (proper
        priors only), for prior predictive draws; None means ``model``.
    feature_names_in : ndarray or None
        X's column names when they are all strings.
    n_features_in : int
        Number of columns of X.
    """

    data: Any
    attributes: dict
    model: Callable
    inputs: ModelInputs
    dense_mass: bool | tuple[tuple[str, ...], ...]
    cache_key: tuple
    roi_site: str
    hidden_sites: tuple[str, ...] = ()
    adaptation: CoordinateAdaptation | None = None
    prior_model: Callable | None = None
    feature_names_in: np.ndarray | None = None
    n_features_in: int = 0


def baseline_fields(est, n_times: int) -> dict:
    """The spec's fields of the estimator's ``baseline`` (none for "trend").

    The moving level has a knot about every quarter of a seasonal cycle
    (``seasonality_frequency / 4`` periods: 13 weeks for weekly data) and at
    least two, evenly spaced from the first to the last training period.
    """
    baseline = est.baseline
    if baseline == "trend":
        return {}
    if est.parametrization == "lightweight_mmm":
        raise ValueError(
            f"baseline={baseline!r} is not part of LightweightMMM's model: use "
            "parametrization='skmmm' with it, or baseline='trend'."
        )
    spacing = max(float(est.seasonality_frequency) / KNOTS_PER_CYCLE, 2.0)
    n_knots = max(2, int(round((n_times - 1) / spacing)) + 1)
    return {
        "baseline": baseline,
        "baseline_knots": n_knots,
        "baseline_periods": int(n_times),
    }


def safe_scale(values: np.ndarray) -> np.ndarray:
    """Means used as divisors, with 1 where a column is all zero."""
    return np.where(values > 0, values, 1.0)


def _float_arrays(**arrays) -> dict[str, jax.Array]:
    """Each array as a JAX array of the default float type (model inputs)."""
    dtype = jnp.result_type(float)
    return {name: jnp.asarray(array, dtype=dtype) for name, array in arrays.items()}


def has_real_support(prior) -> bool:
    return prior.support is constraints.real


def has_positive_support(prior) -> bool:
    return (
        prior.support is constraints.positive
        or prior.support is constraints.nonnegative
    )


def warn_zero_channels(names, totals, where: str, stacklevel: int) -> None:
    """Warn about channels with no media at all (their effect is unidentified)."""
    zero = [name for name, total in zip(names, totals, strict=True) if not total]
    if zero:
        warnings.warn(
            f"Media channel(s) {zero} are zero in every period{where}; their "
            "effect cannot be estimated and their contribution will be 0.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


class ModelFamily:
    """The steps of a fit that differ between national and geo models.

    Subclasses implement :meth:`validate`, :meth:`media_costs`,
    :meth:`uses_roi_prior`, :meth:`site_shapes` and :meth:`build`;
    :meth:`prepare` runs them in order.
    """

    name = ""
    roi_site = ROI

    # -------------------------------------------------------- shared steps

    @staticmethod
    def table_options(est) -> dict:
        """How the estimator's parameters read a training table."""
        return {
            "media_columns": est.media_columns,
            "date_column": est.date_column,
            "date_format": est.date_format,
            "fill_missing": est.fill_missing,
            "min_periods": MIN_PERIODS,
            "estimator_name": type(est).__name__,
        }

    @staticmethod
    def base_spec(est, n_times: int) -> ModelSpec:
        """The model's static description from the estimator's parameters."""
        lightweight = est.parametrization == "lightweight_mmm"
        return ModelSpec(
            model_name=est.model,
            degrees_seasonality=int(est.degrees_seasonality),
            seasonality_frequency=float(est.seasonality_frequency),
            weekday_seasonality=bool(est.weekday_seasonality),
            trend_time_scale=1.0 if lightweight else float(n_times),
            **baseline_fields(est, n_times),
        )

    def roi_reference(self, est, total_target: float, total_cost: float) -> float:
        """What the model's ROI site is relative to: the data's average return.

        skmmm's default ROI prior is on each channel's ROI over the training
        data's total KPI per unit of total cost, so that it means the same in
        any units; a ROI prior given in ``custom_priors`` is absolute (1.0).
        """
        if self.roi_site in (est.custom_priors or {}) or est.parametrization != (
            "skmmm"
        ):
            return 1.0
        if not (np.isfinite(total_target) and total_target > 0 and total_cost > 0):
            return 1.0
        return total_target / total_cost

    def resolve_priors(
        self, est, spec: ModelSpec, n_channels: int, n_extra: int, n_geos: int
    ) -> dict:
        """The priors of the model's sites, resolved from ``custom_priors``."""
        return resolve_priors(
            est.custom_priors,
            self.site_shapes(est, spec, n_channels, n_extra, n_geos),
            LIGHTWEIGHT_MMM_PRIORS
            if est.parametrization == "lightweight_mmm"
            else DEFAULT_PRIORS,
        )

    @staticmethod
    def lift_test_inputs(
        est, data, media_scale, target_scale
    ) -> lift_tests.LiftTestInputs | None:
        """The estimator's ``lift_tests`` as model inputs (None without tests)."""
        if est.lift_tests is None:
            return None
        tests = lift_tests.validate_lift_tests(
            est.lift_tests,
            index=data.index,
            media_names=data.media_names,
            media=data.media,
            geo_names=getattr(data, "geo_names", None),
        )
        inputs = lift_tests.lift_test_inputs(
            tests, media=data.media, media_scale=media_scale, target_scale=target_scale
        )
        float_dtype = jnp.result_type(float)
        return lift_tests.LiftTestInputs(
            *(
                jnp.asarray(a, dtype=jnp.int32 if name == "channel" else float_dtype)
                for name, a in zip(
                    lift_tests.LiftTestInputs._fields, inputs, strict=True
                )
            )
        )

    def prepare(self, est, X, y, stacklevel: int) -> SamplingProblem:
        """Validate, scale and set up the model of a fit.

        ``stacklevel`` is that of the caller's frame, for warnings about the
        data.
        """
        column = est.revenue_per_kpi
        features = X
        if isinstance(column, str):
            if not isinstance(X, pd.DataFrame) or column not in X.columns:
                raise ValueError(
                    f"revenue_per_kpi={column!r} is not a column of X: give the "
                    "name of a column of the DataFrame X holding each period's "
                    "revenue per unit of KPI, or a positive number."
                )
            features = X.drop(columns=[column])
        data = self.validate(est, features, y)
        costs, per_geo = self.media_costs(est, data, stacklevel + 1)
        problem = self.build(est, features, data, costs, per_geo)
        if column is not None:
            problem.attributes["revenue_per_kpi_"] = self.revenue_per_kpi(est, X, data)
        return problem

    def revenue_per_kpi(self, est, X, data) -> float | np.ndarray:
        """``revenue_per_kpi`` checked: a positive number, or the column's values.

        The column's values come one per training period, (n_periods,) for
        national fits and (n_periods, n_geos) for geo fits; each must be
        finite and >= 0.
        """
        column = est.revenue_per_kpi
        if not isinstance(column, str):
            value = float(column)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(
                    f"revenue_per_kpi must be a positive number (revenue per unit "
                    f"of KPI) or a column name, got {column!r}."
                )
            return value
        values = self.revenue_column_values(est, X, data)
        bad = ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            row = int(np.flatnonzero(bad.any(axis=-1) if bad.ndim > 1 else bad)[0])
            raise ValueError(
                f"revenue_per_kpi column {column!r} has a value that is not a "
                f"finite number >= 0 at period {data.index[row]!r}: give every "
                "period's revenue per unit of KPI."
            )
        return values

    def revenue_column_values(self, est, X, data) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------- family-specific steps

    def validate(self, est, X, y):
        raise NotImplementedError

    def media_costs(self, est, data, stacklevel: int):
        raise NotImplementedError

    def uses_roi_prior(self, est) -> bool:
        raise NotImplementedError

    def site_shapes(self, est, spec, n_channels, n_extra, n_geos) -> dict:
        raise NotImplementedError

    def build(self, est, X, data, costs, per_geo) -> SamplingProblem:
        raise NotImplementedError

    def place_rows(self, fitted, X, media_gap):
        raise NotImplementedError

    @staticmethod
    def training_rows(fitted, index: pd.Index):
        """:meth:`place_rows` of the training rows (``X`` None), labelled ``index``.

        Every training (period, geo) cell, period-major, except the cells a
        ragged panel or ``fill_missing`` left out of the training data.
        """
        n_train, _, n_geos = fitted.training_media.shape
        rows = np.repeat(np.arange(n_train), n_geos)
        geos = np.tile(np.arange(n_geos), n_train)
        present = fitted.training.present
        if present is not None:
            kept = present.reshape(-1)
            index, rows, geos = index[kept], rows[kept], geos[kept]
        return (
            fitted.training_media,
            fitted.training_controls,
            np.arange(n_train, dtype=float),
            rows,
            geos,
            index,
        )

    def media_gap(self, fitted, media_gap) -> np.ndarray:
        raise NotImplementedError

    def adapted_settings(self, spec: ModelSpec, adapted: tuple) -> dict:
        """The settings the chains chose in warm-up, for ``sampling_info_``."""
        return {}


class NationalFamily(ModelFamily):
    """LightweightMMM's national model (:func:`skmmm.models.national_model`)."""

    name = "national"
    roi_site = ROI

    def validate(self, est, X, y):
        data = _validation.validate_training_data(X, y, **self.table_options(est))
        _validation.check_target_scale(
            data.target if data.present is None else data.target[data.present]
        )
        return data

    def media_costs(self, est, data, stacklevel: int):
        """Total cost per channel (``media_prior``, or the media's sums)."""
        totals = data.media.sum(axis=0)
        warn_zero_channels(data.media_names, totals, "", stacklevel + 1)
        if est.media_prior is not None:
            costs = _validation.validate_media_prior(
                est.media_prior, data.media.shape[1], data.media_names
            )
            return costs, False
        fallback = totals[totals > 0].mean() if np.any(totals > 0) else 1.0
        return np.where(totals > 0, totals, fallback), False

    def revenue_column_values(self, est, X, data) -> np.ndarray:
        """The column in row order (rows are the training periods, in order)."""
        return pd.to_numeric(X[est.revenue_per_kpi], errors="coerce").to_numpy(
            dtype=float
        )

    def uses_roi_prior(self, est) -> bool:
        """Whether the media effects get their prior through ``roi``.

        skmmm's parametrization does, unless ``custom_priors`` sets
        ``coef_media`` (then that prior is used, as in LightweightMMM).
        """
        custom = est.custom_priors or {}
        if ROI in custom and COEF_MEDIA in custom:
            raise ValueError(
                "custom_priors sets both 'coef_media' and 'roi'; they are two "
                "ways to give the media effects a prior: keep one."
            )
        if est.parametrization == "lightweight_mmm":
            return False
        return COEF_MEDIA not in custom

    def site_shapes(self, est, spec, n_channels, n_extra, n_geos) -> dict:
        return site_shapes(
            spec, n_channels, n_extra, roi_prior=self.uses_roi_prior(est)
        )

    def build(self, est, X, data, costs, per_geo) -> SamplingProblem:
        # With fill_missing, the scales are means over the periods X has.
        observed = slice(None) if data.present is None else data.present
        target_scale = float(data.target[observed].mean())
        attributes = {
            "media_scale_": safe_scale(data.media[observed].mean(axis=0)),
            "extra_scale_": safe_scale(
                np.abs(data.extra_features[observed]).mean(axis=0)
            ),
            "target_scale_": target_scale,
            "media_prior_": costs,
        }
        n_times, n_channels = data.media.shape
        n_periods = n_times if data.present is None else int(data.present.sum())
        roi_reference = self.roi_reference(
            est, float(data.target.sum()), float(costs.sum())
        )
        # Cost per period on the internal KPI scale: an effect at average spend
        # of roi * media_cost (the model rescales it for coef_media's prior).
        # With the default, relative ROI prior the model's roi is ROI over
        # roi_reference_, so the model sees cost shares whatever the units.
        media_cost = costs * roi_reference / (n_periods * target_scale)
        spec = self.base_spec(est, n_times)
        priors = self.resolve_priors(
            est, spec, n_channels, data.extra_features.shape[1], 1
        )
        sampled_spec = self._with_level_reparametrization(est, spec, priors)
        inputs = ModelInputs(
            **_float_arrays(
                media=data.media / attributes["media_scale_"],
                extra_features=data.extra_features / attributes["extra_scale_"],
                time_index=np.arange(n_times),
                media_prior=media_cost,
                target=data.target / target_scale,
            ),
            # Periods fill_missing inserted are left out of the likelihood.
            target_mask=None if data.present is None else jnp.asarray(data.present),
            lift_tests=self.lift_test_inputs(
                est, data, attributes["media_scale_"], target_scale
            ),
        )
        return SamplingProblem(
            data=data,
            attributes={**attributes, "spec_": spec, "roi_reference_": roi_reference},
            model=partial(national_model, spec=sampled_spec, priors=priors),
            inputs=inputs,
            dense_mass=(
                est.parametrization == "skmmm"
                if est.dense_mass is None
                else bool(est.dense_mass)
            ),
            cache_key=("national", sampled_spec, prior_fingerprint(priors)),
            roi_site=ROI,
            feature_names_in=data.feature_names_in,
            n_features_in=data.n_features_in,
        )

    @staticmethod
    def _with_level_reparametrization(est, spec: ModelSpec, priors) -> ModelSpec:
        """Use the level-on-a-simplex coordinates when both priors are positive."""
        if est.parametrization == "lightweight_mmm":
            return spec
        positive = all(
            prior is None or has_positive_support(prior)
            for prior in (priors["intercept"], priors[COEF_MEDIA])
        )
        if not positive:
            return spec
        return ModelSpec(**{**spec.__dict__, "simplex_level": True})

    def place_rows(self, fitted, X, media_gap):
        """Unscaled (period, channel, geo) timeline and the period and geo of each row.

        Returns media (n_total, n_channels, 1), controls (n_total, n_extra,
        1) and period numbers from the first training period to the last
        row of ``X`` (training history, then ``media_gap``, then ``X``), the
        period and geo (0) of each row of ``X`` and the rows' labels.
        """
        train = fitted.training
        n_train = fitted.n_train_periods
        if X is None:
            return self.training_rows(fitted, train.index)
        new = _validation.validate_prediction_data(
            X,
            fitted=train,
            date_column=fitted.date_column,
            date_format=fitted.date_format,
            estimator_name=fitted.estimator_name,
        )
        gap = self.media_gap(fitted, media_gap)[:, :, 0]
        if isinstance(train.index, pd.DatetimeIndex) and isinstance(
            new.index, pd.DatetimeIndex
        ):
            positions = _validation.place_on_calendar(
                train.index,
                train.frequency,
                new.index,
                len(gap),
                skippable=None if train.present is None else ~train.present,
            )
        else:
            start = None if len(gap) else _training_block(train, new)
            if start is None:
                start = n_train + len(gap)
            positions = start + np.arange(len(new.media))
        n_total = max(n_train + len(gap), int(positions.max()) + 1)
        media = np.zeros((n_total, fitted.n_channels))
        controls = np.zeros((n_total, len(fitted.control_names)))
        media[:n_train] = train.media
        controls[:n_train] = train.extra_features
        media[n_train : n_train + len(gap)] = gap
        media[positions] = new.media
        controls[positions] = new.extra_features
        return (
            media[:, :, None],
            controls[:, :, None],
            np.arange(n_total, dtype=float),
            positions,
            np.zeros(len(positions), dtype=int),
            self._index(fitted, X, positions),
        )

    @staticmethod
    def _index(fitted, X, positions) -> pd.Index:
        if isinstance(X, pd.DataFrame):
            if fitted.date_column is not None and fitted.date_column in X.columns:
                # The rows' dates, as predict and the plots place them.
                dates = _validation.parse_date_column(
                    X[fitted.date_column],
                    f"date column {fitted.date_column!r}",
                    fitted.date_format,
                )
                return dates.rename(fitted.date_column)
            return X.index
        start = int(positions[0]) if len(positions) else fitted.n_train_periods
        return pd.RangeIndex(start, start + len(positions))

    def media_gap(self, fitted, media_gap) -> np.ndarray:
        """Validated media of the periods after training, (n_gap, n_channels, 1)."""
        if media_gap is None:
            return np.zeros((0, fitted.n_channels, 1))
        if isinstance(media_gap, pd.DataFrame):
            missing = [
                name for name in fitted.media_names if name not in media_gap.columns
            ]
            if missing:
                raise ValueError(
                    f"media_gap lacks the media column(s) {missing}; it must hold the "
                    f"media {fitted.media_names} of the periods between training and X."
                )
            media_gap = media_gap[fitted.media_names]
        gap = np.asarray(media_gap, dtype=float)
        if gap.ndim == 1 and fitted.n_channels == 1:
            gap = gap[:, None]
        if gap.ndim != 2 or gap.shape[1] != fitted.n_channels:
            raise ValueError(
                f"media_gap must have shape (n_gap_periods, {fitted.n_channels}) "
                f"(one column per media channel), got shape {gap.shape}."
            )
        bad = ~np.isfinite(gap) | (gap < 0)
        if bad.any():
            row, column = np.argwhere(bad)[0]
            raise ValueError(
                f"media_gap has an invalid value {gap[row, column]} in row {row}, "
                f"channel {fitted.media_names[column]!r}: media must be finite and >= 0."
            )
        return gap[:, :, None]


class GeoFamily(ModelFamily):
    """LightweightMMM's geo model (:func:`skmmm.models.geo_model`)."""

    name = "geo"
    roi_site = CHANNEL_ROI
    hidden_sites = (
        COEF_MEDIA_RAW,
        LOG_SEASONALITY_AMPLITUDE,
        GEO_MEAN_SCALED_TREND,
        LOG_LEVEL,
        LEVEL_LOG_RATIOS,
        SHEARED_LOG_ROI,
    )

    def validate(self, est, X, y):
        data = _validation.validate_geo_training_data(
            X, y, geo_column=est.geo_column, **self.table_options(est)
        )
        _validation.check_target_scale(
            data.target if data.present is None else data.target[data.present]
        )
        means = present_mean(data.target, data.present)
        bad = np.flatnonzero(~(np.isfinite(means) & (means > 0)))
        if bad.size:
            geo = data.geo_names[int(bad[0])]
            raise ValueError(
                f"y has mean {means[bad[0]]:g} in geo {geo!r}, but the geo model "
                "scales each geo's KPI by its mean, so every geo's KPI must have "
                "a positive mean. Drop that geo or pass the KPI in levels."
            )
        return data

    def media_costs(self, est, data, stacklevel: int):
        """Costs per (channel, geo) and whether the user gave them per geo."""
        totals = data.media.sum(axis=(0, 2))
        warn_zero_channels(data.media_names, totals, " and geo", stacklevel + 1)
        prior = est.media_prior
        n_channels, n_geos = totals.size, len(data.geo_names)
        if prior is None:
            by_geo = data.media.sum(axis=0)
            fallback = by_geo[by_geo > 0].mean() if np.any(by_geo > 0) else 1.0
            return np.where(by_geo > 0, by_geo, fallback), False
        if isinstance(prior, pd.DataFrame):
            frame = prior
            if set(data.geo_names) <= {str(i) for i in frame.index}:
                frame = frame.T
            frame = frame.rename(index=str, columns=str)
            missing = [g for g in data.geo_names if g not in frame.columns]
            if missing:
                raise ValueError(
                    "media_prior given as a DataFrame must have one row per channel "
                    f"and one column per geo; it lacks the geo(s) {missing}."
                )
            columns = [frame[geo] for geo in data.geo_names]
        else:
            array = (
                None if isinstance(prior, Mapping | pd.Series) else np.asarray(prior)
            )
            if array is None or array.ndim != 2:
                national = _validation.validate_media_prior(
                    prior, n_channels, data.media_names
                )
                return _split_over_geos(national, data.media), False
            if array.shape != (n_channels, n_geos):
                raise ValueError(
                    f"media_prior given per channel and geo must have shape "
                    f"({n_channels}, {n_geos}) (channels {data.media_names} by geos "
                    f"{data.geo_names}), got {array.shape}."
                )
            columns = [array[:, g] for g in range(n_geos)]
        by_geo = np.stack(
            [
                _validation.validate_media_prior(column, n_channels, data.media_names)
                for column in columns
            ],
            axis=1,
        )
        return by_geo, True

    def revenue_column_values(self, est, X, data) -> np.ndarray:
        """The column as (n_periods, n_geos), on the training dates and geos."""
        column = est.revenue_per_kpi
        dates = (
            X[est.date_column] if est.date_column is not None else X.index.to_series()
        )
        dates = _validation.parse_date_column(
            pd.Series(np.asarray(dates), index=X.index),
            "date column",
            est.date_format,
        )
        frame = pd.DataFrame(
            {
                "date": np.asarray(dates),
                "geo": X[est.geo_column].astype(str).to_numpy(),
                "value": pd.to_numeric(X[column], errors="coerce").to_numpy(),
            }
        )
        if frame.duplicated(["date", "geo"]).any():
            raise ValueError(
                f"revenue_per_kpi column {column!r}: X has several rows for one "
                "date and geo; give one row per date and geo."
            )
        table = frame.pivot(index="date", columns="geo", values="value")
        table = table.reindex(
            index=pd.DatetimeIndex(data.index),
            columns=[str(geo) for geo in data.geo_names],
        )
        return table.to_numpy(dtype=float)

    def uses_roi_prior(self, est) -> bool:
        """skmmm's geo prior on channel ROIs, unless ``channel_coef_media`` is set."""
        return est.parametrization == "skmmm" and CHANNEL_COEF_MEDIA not in (
            est.custom_priors or {}
        )

    def site_shapes(self, est, spec, n_channels, n_extra, n_geos) -> dict:
        return geo_site_shapes(
            spec, n_channels, n_extra, n_geos, roi_prior=self.uses_roi_prior(est)
        )

    def build(self, est, X, data, costs, per_geo) -> SamplingProblem:
        n_times, n_channels, n_geos = data.media.shape
        # A ragged panel's scales are means over each geo's own dates.
        present = data.present
        media_scale = safe_scale(present_mean(data.media, present))
        extra_scale = safe_scale(present_mean(np.abs(data.extra_features), present))
        # skmmm centres each geo's scaled controls: the intercept is then the
        # baseline at average controls, not at zero controls, which a control
        # near its mean (a price index) makes almost collinear with it.
        extra_offset = (
            present_mean(data.extra_features / extra_scale, present)
            if est.parametrization == "skmmm"
            else np.zeros_like(extra_scale)
        )
        target_scale = present_mean(data.target, present)
        roi_reference = self.roi_reference(
            est, float(data.target.sum()), float(costs.sum())
        )
        if self.uses_roi_prior(est):
            # Cost per period on each geo's internal KPI scale (relative to
            # roi_reference_, as in the national fit).
            n_periods = n_times if present is None else present.sum(axis=0)
            media_cost = costs * roi_reference / (n_periods * target_scale)
            channel_prior = media_cost.mean(axis=1)
            geo_weights = media_cost / channel_prior[:, None]
        else:
            channel_prior, geo_weights = _geo_prior_scales(costs, target_scale, per_geo)
        base = self.base_spec(est, n_times)
        priors = self.resolve_priors(
            est, base, n_channels, data.extra_features.shape[1], n_geos
        )
        spec = GeoModelSpec(
            **{**base.__dict__, **self._sampling_coordinates(est, priors)}
        )
        inputs = ModelInputs(
            **_float_arrays(
                media=data.media / media_scale,
                extra_features=data.extra_features / extra_scale - extra_offset,
                time_index=np.arange(n_times),
                media_prior=channel_prior,
                geo_prior_weights=geo_weights,
                media_noncentring=np.full(
                    (n_channels, n_geos), INITIAL_MEDIA_NONCENTRING
                ),
                roi_shear=np.full(n_channels, INITIAL_ROI_SHEAR),
                geo_mean_scale=np.ones(N_GEO_MEAN_SITE_ROWS + n_channels),
                target=data.target / target_scale,
            ),
            # Absent cells of a ragged panel are left out of the likelihood.
            target_mask=None if present is None else jnp.asarray(present),
            lift_tests=self.lift_test_inputs(est, data, media_scale, target_scale),
        )
        adapts = spec.level_log_ratios or spec.sheared_roi or spec.geo_mean_scaling
        columns = list(X.columns)
        return SamplingProblem(
            data=data,
            attributes={
                "media_scale_": media_scale,
                "extra_scale_": extra_scale,
                "extra_offset_": extra_offset,
                "target_scale_": target_scale,
                "media_prior_": costs.sum(axis=1),
                "media_prior_by_geo_": costs,
                "roi_reference_": roi_reference,
                "spec_": spec,
            },
            model=partial(geo_model, spec=spec, priors=priors),
            # The sampler's coordinates reparametrise the same prior; the
            # centred model draws it directly (no flat sites).
            prior_model=partial(
                geo_model, spec=GeoModelSpec(**base.__dict__), priors=priors
            ),
            inputs=inputs,
            dense_mass=self._dense_mass(est, spec),
            cache_key=("geo", spec, prior_fingerprint(priors)),
            roi_site=CHANNEL_ROI,
            hidden_sites=self.hidden_sites,
            adaptation=coordinate_adaptation(spec) if adapts else None,
            feature_names_in=np.asarray(columns, dtype=object)
            if all(isinstance(column, str) for column in columns)
            else None,
            n_features_in=int(X.shape[1]),
        )

    def adapted_settings(self, spec: GeoModelSpec, adapted: tuple) -> dict:
        """Each chain's coordinate settings (:mod:`skmmm._geo_coordinates`)."""
        settings = {}
        if spec.level_log_ratios:
            # Pooled per channel: the same value for every geo.
            settings["media_noncentring"] = adapted[0][..., 0]
        if spec.sheared_roi:
            settings["roi_shear"] = adapted[1]
        if spec.geo_mean_scaling:
            settings["geo_mean_scale"] = adapted[2]
        return settings

    @staticmethod
    def _sampling_coordinates(est, priors: dict) -> dict[str, bool]:
        """The reparametrisation of the geo model (docs/model.md, geo section)."""
        if est.parametrization == "lightweight_mmm":
            return {
                "level_log_ratios": False,
                "noncentred_media": False,
                "seasonality_amplitude": False,
            }
        positive = all(
            prior is None or has_positive_support(prior)
            for prior in (priors["intercept"], priors.get(CHANNEL_COEF_MEDIA))
        )
        return {
            "level_log_ratios": positive,
            "noncentred_media": not positive,
            "sheared_roi": priors.get(CHANNEL_ROI) is not None
            and has_positive_support(priors[CHANNEL_ROI]),
            "seasonality_amplitude": est.degrees_seasonality > 0
            and has_positive_support(priors["coef_seasonality"])
            and has_real_support(priors["gamma_seasonality"]),
            "geo_mean_scaling": positive and has_real_support(priors["coef_trend"]),
        }

    @staticmethod
    def _dense_mass(est, spec: GeoModelSpec) -> bool | tuple[tuple[str, ...], ...]:
        """A diagonal mass matrix with a dense block over the seasonal shape.

        A dense matrix over hundreds of per-geo parameters adapts poorly
        (docs/model.md). With each geo's seasonality amplitude sampled, only
        the shape's direction reaches the likelihood and its norm moves along
        a ray through all its components, which a diagonal matrix cannot
        follow.
        """
        if est.dense_mass is None and spec.seasonality_amplitude:
            return (("gamma_seasonality",),)
        return bool(est.dense_mass)

    def media_gap(self, fitted, media_gap) -> np.ndarray:
        """Validated media of the periods after training, (n_gap, n_channels, n_geos)."""
        return _validation.validate_geo_media_gap(
            media_gap,
            media_names=fitted.media_names,
            geo_names=fitted.geo_names,
            geo_column=fitted.geo_column,
        )

    def place_rows(self, fitted, X, media_gap):
        """Unscaled (period, channel, geo) timeline and the period and geo of each row.

        Rows of ``X`` in any order; training rows (``X`` None) every date and
        geo, date-major, indexed by (date, geo).
        """
        train = fitted.training
        n_train, n_channels, n_geos = train.media.shape
        if X is None:
            index = pd.MultiIndex.from_product(
                [train.index, fitted.geo_names],
                names=[train.index.name or "date", str(fitted.geo_column)],
            )
            return self.training_rows(fitted, index)
        new = _validation.validate_geo_prediction_data(
            X,
            fitted=train,
            geo_column=fitted.geo_column,
            date_column=fitted.date_column,
            date_format=fitted.date_format,
            estimator_name=fitted.estimator_name,
        )
        gap = self.media_gap(fitted, media_gap)
        periods = _validation.place_on_calendar(
            train.index,
            train.frequency,
            new.dates,
            len(gap),
            # Dates fill_missing inserted for every geo.
            skippable=None if train.present is None else ~train.present.any(axis=1),
        )
        n_total = max(n_train + len(gap), int(periods.max()) + 1)
        media = np.zeros((n_total, n_channels, n_geos))
        controls = np.zeros((n_total, train.extra_features.shape[1], n_geos))
        media[:n_train] = train.media
        controls[:n_train] = train.extra_features
        media[n_train : n_train + len(gap)] = gap
        rows = periods[new.date_codes]
        media[rows, :, new.geo_codes] = new.media
        controls[rows, :, new.geo_codes] = new.extra_features
        return (
            media,
            controls,
            np.arange(n_total, dtype=float),
            rows,
            new.geo_codes,
            new.index,
        )


def prior_fingerprint(priors: dict) -> str:
    """A stable digest of resolved priors (classes and parameter values).

    The compiled sampler closes over the priors, so two fits share a program
    only when every prior's parameters agree, including those of the base of
    an expanded or transformed distribution.
    """
    digest = hashlib.sha256()

    def add(prior) -> None:
        digest.update(type(prior).__name__.encode())
        digest.update(str(prior.batch_shape).encode())
        if isinstance(prior, dist.ExpandedDistribution):
            add(prior.base_dist)
            return
        if isinstance(prior, dist.TransformedDistribution):
            add(prior.base_dist)
            for transform in prior.transforms:
                digest.update(type(transform).__name__.encode())
                for value in vars(transform).values():
                    if isinstance(value, (int, float, np.ndarray, jax.Array)):
                        digest.update(np.asarray(value, dtype=np.float64).tobytes())
            return
        for param in sorted(getattr(prior, "arg_constraints", {})):
            value = getattr(prior, param, None)
            if value is not None:
                digest.update(np.asarray(value, dtype=np.float64).tobytes())

    for name, prior in priors.items():
        digest.update(name.encode())
        if prior is not None:
            add(prior)
    return digest.hexdigest()


NATIONAL = NationalFamily()
GEO = GeoFamily()


def model_family(est) -> ModelFamily:
    """The family an estimator fits: geo with ``geo_column`` set, else national."""
    return GEO if est.geo_column is not None else NATIONAL


def _geo_prior_scales(
    prior_by_geo: np.ndarray, target_scale: np.ndarray, per_geo: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Internal prior scales of the geo model's media coefficients.

    Returns the scale of each channel's ``channel_coef_media`` (mean 1) and
    the relative scale of each geo's coefficient (n_channels, n_geos). Costs
    given per channel keep LightweightMMM's prior (weights 1); costs given
    per channel and geo weight each geo by its cost relative to its KPI
    (both scales are per geo), normalised to mean 1 over the geos.
    """
    if not per_geo:
        channel = prior_by_geo.sum(axis=1)
        return channel / channel.mean(), np.ones_like(prior_by_geo)
    relative = prior_by_geo / target_scale[None, :]
    channel = relative.mean(axis=1)
    return channel / channel.mean(), relative / channel[:, None]


def present_mean(values: np.ndarray, present: np.ndarray | None) -> np.ndarray:
    """Mean over periods (axis 0) of the cells a panel has.

    ``values`` is (n_times, ..., n_geos) with zeros in absent cells and
    ``present`` (n_times, n_geos) marks the cells; None (a complete panel)
    is the plain mean.
    """
    if present is None:
        return values.mean(axis=0)
    counts = present.sum(axis=0).astype(float)
    return values.sum(axis=0) / counts


def spend_shares(media: np.ndarray) -> np.ndarray:
    """Each geo's share of each channel's spend, (n_channels, n_geos).

    ``media`` is (n_times, n_channels, n_geos); a channel that never spent
    is split evenly.
    """
    totals = media.sum(axis=0)
    channel_totals = totals.sum(axis=1, keepdims=True)
    return np.where(
        channel_totals > 0,
        totals / np.where(channel_totals > 0, channel_totals, 1.0),
        1.0 / totals.shape[1],
    )


def _split_over_geos(prior: np.ndarray, media: np.ndarray) -> np.ndarray:
    """Per-channel costs split over geos by each geo's share of the spend."""
    return prior[:, None] * spend_shares(media)


def _training_block(train, new) -> int | None:
    """Where undated rows ``new`` are the training rows, their first period.

    Rows without dates are placed after the training data, except rows that
    are the training rows themselves (every media and control value equal):
    a block of them (``predict(X_train)`` or a slice of it) is in-sample, and
    rows that start with the whole training data (history, then a plan)
    continue from its end. None when neither.
    """
    n_new, n_train = len(new.media), len(train.media)
    rows = np.hstack([train.media, train.extra_features])
    block = np.hstack([new.media, new.extra_features])
    if n_new > n_train:
        return 0 if np.array_equal(block[:n_train], rows) else None
    candidates = np.flatnonzero((rows[: n_train - n_new + 1] == block[0]).all(axis=1))
    matches = [k for k in candidates if np.array_equal(rows[k : k + n_new], block)]
    if not matches:
        return None
    if len(matches) > 1:
        warnings.warn(
            f"The {n_new} undated rows of X equal the training rows at "
            f"{len(matches)} places; they are taken as training periods "
            f"{matches[0]} to {matches[0] + n_new - 1}. Give X dates (a "
            "DatetimeIndex or date_column) to place rows unambiguously.",
            UserWarning,
            stacklevel=6,
        )
    return int(matches[0])
