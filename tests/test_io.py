"""Persistence (save_model/load_model, pickle, joblib), ArviZ export, reproducibility."""

import copy
import hashlib
import io
import json
import pickle
import subprocess
import sys
import warnings
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpyro import distributions as dist

from skmmm import HillAdstockRegressor, attribution
from skmmm import io as mmm_io
from skmmm.datasets import simulate_mmm_data
from skmmm.io import ModelFileError, load_model, save_model, to_inference_data

MCMC = dict(number_warmup=30, number_samples=30, number_chains=2, progress_bar=False)


def _fit(X, y, **params):
    est = HillAdstockRegressor(**{**MCMC, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


@pytest.fixture(scope="module")
def data():
    return simulate_mmm_data(n_periods=60, n_channels=2)


@pytest.fixture(scope="module")
def fitted(data):
    return _fit(data.X, data.y, media_columns=data.media_columns, random_state=0)


@pytest.fixture(scope="module")
def unseeded_pair(data):
    """Two fits on plain arrays (RangeIndex) with random_state=None."""
    X = data.X.to_numpy()
    return [_fit(X, data.y.to_numpy(), media_columns=[0, 1]) for _ in range(2)]


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("io") / "model.skmmm"
    save_model(fitted, path)
    return path


# ------------------------------------------------------------ helpers


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _npz(npz_bytes):
    with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def _write(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _rewrite(source, target, edit_metadata=None, edit_arrays=None, checksums=True):
    """Copy a model file, editing its metadata/arrays and (optionally) checksums."""
    members = _members(source)
    metadata = json.loads(members["metadata.json"])
    npz_bytes = members["arrays.npz"]
    if edit_arrays is not None:
        arrays = _npz(npz_bytes)
        edit_arrays(arrays)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        npz_bytes = buffer.getvalue()
    if edit_metadata is not None:
        edit_metadata(metadata)
    if checksums:
        metadata["arrays_sha256"] = hashlib.sha256(npz_bytes).hexdigest()
        metadata["metadata_sha256"] = mmm_io._metadata_digest(metadata)
    return _write(
        target,
        {"metadata.json": json.dumps(metadata).encode(), "arrays.npz": npz_bytes},
    )


def _assert_same_results(original, loaded, X):
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    for a, b in zip(
        loaded.predict(X, return_std=True),
        original.predict(X, return_std=True),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        loaded.sample_posterior_predictive(X, random_state=0),
        original.sample_posterior_predictive(X, random_state=0),
    )
    pd.testing.assert_frame_equal(loaded.summary(), original.summary())
    pd.testing.assert_frame_equal(
        attribution.contributions(loaded), attribution.contributions(original)
    )
    pd.testing.assert_frame_equal(attribution.roi(loaded), attribution.roi(original))


# ----------------------------------------------------------- round trip


def test_save_model_writes_a_zip_with_two_members(saved):
    members = _members(saved)
    assert sorted(members) == ["arrays.npz", "metadata.json"]
    metadata = json.loads(members["metadata.json"])
    assert metadata["class"] == "HillAdstockRegressor"
    assert metadata["format_version"] == mmm_io.FORMAT_VERSION
    assert (
        metadata["arrays_sha256"] == hashlib.sha256(members["arrays.npz"]).hexdigest()
    )
    arrays = _npz(members["arrays.npz"])
    assert set(arrays) == set(metadata["arrays"])
    assert "posterior/coef_media" in arrays and "rhat/sigma" in arrays
    assert "sampling/diverging" in arrays and "training/target" in arrays
    for key, info in metadata["arrays"].items():
        assert list(arrays[key].shape) == info["shape"]
        assert arrays[key].dtype.str == info["dtype"]


def test_load_model_round_trip_gives_identical_results(fitted, saved, data):
    loaded = load_model(saved)
    assert type(loaded) is HillAdstockRegressor
    assert loaded.get_params() == fitted.get_params()
    _assert_same_results(fitted, loaded, data.X)
    _assert_same_results(fitted, loaded, data.X.iloc[-12:])
    assert loaded.spec_ == fitted.spec_
    assert loaded.training_data_.index.equals(fitted.training_data_.index)
    assert loaded.training_data_.index.freq == fitted.training_data_.index.freq
    assert loaded.training_data_.frequency == fitted.training_data_.frequency
    np.testing.assert_array_equal(loaded.feature_names_in_, fitted.feature_names_in_)
    assert loaded.divergences_ == fitted.divergences_
    np.testing.assert_array_equal(
        loaded.sampling_info_["diverging"], fitted.sampling_info_["diverging"]
    )


def test_the_loaded_estimator_holds_the_model_its_attributes_come_from(saved, tmp_path):
    loaded = load_model(saved)
    model = loaded.fitted_
    assert loaded.fitted_ is model
    assert loaded.posterior_ == model.posterior and loaded.rhat_ == model.rhat
    assert loaded.posterior_["sigma"] is model.posterior["sigma"]  # one copy
    assert loaded.spec_ is model.spec and loaded.training_data_ is model.training
    np.testing.assert_array_equal(loaded.media_scale_, model.media_scale[:, 0])
    assert loaded.target_scale_ == model.target_scale[0]
    assert loaded.media_names_ == model.media_names
    assert loaded.n_train_periods_ == model.n_train_periods
    # Saved again, the loaded model writes the file it was loaded from.
    save_model(loaded, tmp_path / "again.skmmm")
    assert (tmp_path / "again.skmmm").read_bytes() == saved.read_bytes()


def test_spline_baseline_round_trip(data, tmp_path):
    est = _fit(
        data.X,
        data.y,
        media_columns=data.media_columns,
        baseline="spline",
        random_state=0,
    )
    save_model(est, tmp_path / "spline.skmmm")
    loaded = load_model(tmp_path / "spline.skmmm")
    assert loaded.baseline == "spline"
    assert loaded.spec_ == est.spec_ and loaded.spec_.baseline_knots > 1
    future = data.X.iloc[-6:].copy()
    future.index = future.index + pd.Timedelta(weeks=6)
    _assert_same_results(est, loaded, future)


def test_loaded_model_repr_shows_parameters(saved, fitted):
    loaded = load_model(saved)
    assert repr(loaded) == repr(fitted)
    assert "media_columns=['tv', 'search']" in repr(loaded)


def test_round_trip_of_array_fit_with_range_index(unseeded_pair, tmp_path, data):
    est = unseeded_pair[0]
    save_model(est, tmp_path / "m.skmmm")
    loaded = load_model(tmp_path / "m.skmmm")
    assert isinstance(loaded.training_data_.index, pd.RangeIndex)
    assert not hasattr(loaded, "feature_names_in_")
    X = data.X.to_numpy()
    _assert_same_results(est, loaded, X)
    # rows after the training period (no dates): adstock carries over
    np.testing.assert_array_equal(loaded.predict(X[:5]), est.predict(X[:5]))


def test_round_trip_after_reduce_trace(fitted, tmp_path, data):
    est = copy.deepcopy(fitted).reduce_trace(17, random_state=0)
    save_model(est, tmp_path / "m.skmmm")
    _assert_same_results(est, load_model(tmp_path / "m.skmmm"), data.X)


def test_custom_priors_and_media_prior_round_trip(fitted, tmp_path):
    est = copy.deepcopy(fitted)
    est.set_params(
        custom_priors={
            "intercept": dist.HalfNormal(3.0),
            "coef_trend": {"loc": 0.0, "scale": 0.5},
            "sigma": 0.2,
            "lag_weight": [2.0, 1.0],
        },
        media_prior=pd.Series({"tv": 10.0, "search": 5.0}),
    )
    save_model(est, tmp_path / "m.skmmm")
    loaded = load_model(tmp_path / "m.skmmm")
    priors = loaded.custom_priors
    assert isinstance(priors["intercept"], dist.HalfNormal)
    assert float(priors["intercept"].scale) == 3.0
    assert priors["coef_trend"] == {"loc": 0.0, "scale": 0.5}
    assert priors["sigma"] == 0.2 and priors["lag_weight"] == [2.0, 1.0]
    assert loaded.media_prior == {"tv": 10.0, "search": 5.0}


def test_lift_tests_round_trip(data, tmp_path):
    dates = data.X.index
    table = pd.DataFrame(
        {
            "channel": ["tv", "search"],
            "start": [dates[10], dates[20]],
            "end": [dates[15], dates[25]],
            "measure_end": [dates[20], pd.NaT],
            "delta_spend": [1000.0, "holdout"],
            "lift": [5000.0, -40.0],
            "lift_sd": [1000.0, 20.0],
        },
        index=pd.Index(["tv_2021", "search_holdout"], name="test"),
    )
    est = _fit(
        data.X,
        data.y,
        media_columns=data.media_columns,
        random_state=0,
        lift_tests=table,
    )
    save_model(est, tmp_path / "m.skmmm")
    loaded = load_model(tmp_path / "m.skmmm")
    pd.testing.assert_frame_equal(loaded.lift_tests, table)
    pd.testing.assert_frame_equal(
        attribution.lift_test_fit(loaded), attribution.lift_test_fit(est)
    )
    _assert_same_results(est, loaded, data.X)


def test_save_refuses_unsaveable_custom_prior(fitted, tmp_path):
    est = copy.deepcopy(fitted)
    est.set_params(custom_priors={"coef_media": dist.HalfNormal(1.0).expand([2])})
    with pytest.raises(ValueError, match="not saveable"):
        save_model(est, tmp_path / "m.skmmm")


def test_save_refuses_unfitted_and_foreign_estimators(tmp_path):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import Ridge

    with pytest.raises(NotFittedError):
        save_model(HillAdstockRegressor(), tmp_path / "m.skmmm")
    with pytest.raises(ValueError, match="skmmm regressors"):
        save_model(Ridge(), tmp_path / "m.skmmm")


def test_pickle_and_joblib_round_trip(fitted, tmp_path, data):
    restored = pickle.loads(pickle.dumps(fitted))
    _assert_same_results(fitted, restored, data.X)
    joblib.dump(fitted, tmp_path / "m.joblib")
    _assert_same_results(fitted, joblib.load(tmp_path / "m.joblib"), data.X)


# ------------------------------------------------------------- refusals


def test_model_file_error_is_a_value_error():
    assert issubclass(ModelFileError, ValueError)


def test_refuses_other_major_version(saved, tmp_path):
    path = _rewrite(
        saved,
        tmp_path / "m.skmmm",
        edit_metadata=lambda m: m.update(skmmm_version="2.3.0"),
    )
    with pytest.raises(
        ModelFileError, match=r"saved by skmmm 2\.3\.0; this is skmmm 0\."
    ):
        load_model(path)


def test_accepts_other_minor_version(saved, tmp_path, data, fitted):
    path = _rewrite(
        saved,
        tmp_path / "m.skmmm",
        edit_metadata=lambda m: m.update(skmmm_version="0.99.1"),
    )
    np.testing.assert_array_equal(
        load_model(path).predict(data.X), fitted.predict(data.X)
    )


def test_refuses_unknown_format_version(saved, tmp_path):
    path = _rewrite(
        saved, tmp_path / "m.skmmm", edit_metadata=lambda m: m.update(format_version=7)
    )
    with pytest.raises(ModelFileError, match="format version 7"):
        load_model(path)


def _scale_sigma(arrays):
    arrays["posterior/sigma"] = arrays["posterior/sigma"] * 2


def test_refuses_tampered_arrays(saved, tmp_path):
    path = _rewrite(
        saved, tmp_path / "m.skmmm", edit_arrays=_scale_sigma, checksums=False
    )
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(path)


def test_refuses_edited_metadata(saved, tmp_path):
    members = _members(saved)
    metadata = json.loads(members["metadata.json"])
    metadata["attributes"]["target_scale_"] *= 2
    members["metadata.json"] = json.dumps(metadata).encode()
    with pytest.raises(ModelFileError, match="checksum"):
        load_model(_write(tmp_path / "m.skmmm", members))


def test_refuses_missing_and_extra_arrays(saved, tmp_path):
    path = _rewrite(
        saved,
        tmp_path / "a.skmmm",
        edit_arrays=lambda a: a.pop("posterior/sigma"),
    )
    with pytest.raises(ModelFileError, match="missing: \\['posterior/sigma.npy'\\]"):
        load_model(path)
    path = _rewrite(
        saved,
        tmp_path / "b.skmmm",
        edit_arrays=lambda a: a.update(surprise=np.zeros(3)),
    )
    with pytest.raises(ModelFileError, match="extra: \\['surprise.npy'\\]"):
        load_model(path)


def test_refuses_shape_and_dtype_mismatch(saved, tmp_path):
    def edit(arrays):
        arrays["posterior/sigma"] = arrays["posterior/sigma"][:-1]

    with pytest.raises(ModelFileError, match="larger|shape"):
        load_model(_rewrite(saved, tmp_path / "a.skmmm", edit_arrays=edit))

    def edit_dtype(arrays):
        arrays["posterior/sigma"] = arrays["posterior/sigma"].astype("<f8")

    with pytest.raises(ModelFileError, match="larger|dtype"):
        load_model(_rewrite(saved, tmp_path / "b.skmmm", edit_arrays=edit_dtype))

    def edit_meta(metadata):
        metadata["arrays"]["posterior/sigma"]["dtype"] = "<f8"
        metadata["arrays"]["posterior/sigma"]["shape"] = [7]

    with pytest.raises(ModelFileError, match="declares"):
        load_model(_rewrite(saved, tmp_path / "c.skmmm", edit_metadata=edit_meta))


def test_refuses_object_dtype(saved, tmp_path):
    def edit_meta(metadata):
        metadata["arrays"]["posterior/sigma"]["dtype"] = "|O"

    with pytest.raises(ModelFileError, match="dtype"):
        load_model(_rewrite(saved, tmp_path / "a.skmmm", edit_metadata=edit_meta))


def test_refuses_pickle_hidden_in_npz(saved, tmp_path):
    def edit(arrays):
        arrays["posterior/sigma"] = np.array([{"evil": 1}] * 60, dtype=object)

    with pytest.raises(ModelFileError, match="never unpickles|larger"):
        load_model(_rewrite(saved, tmp_path / "a.skmmm", edit_arrays=edit))

    # a short object array that fits the declared size
    def edit_small(arrays):
        arrays["posterior/coef_media"] = np.array([None], dtype=object)

    with pytest.raises(ModelFileError, match="never unpickles"):
        load_model(_rewrite(saved, tmp_path / "b.skmmm", edit_arrays=edit_small))


def test_refuses_absurd_declared_sizes(saved, tmp_path):
    def edit_meta(metadata):
        metadata["arrays"]["posterior/sigma"]["shape"] = [2**20, 2**20]

    with pytest.raises(ModelFileError, match="limit"):
        load_model(_rewrite(saved, tmp_path / "a.skmmm", edit_metadata=edit_meta))


def test_refuses_zip_bomb_member(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(mmm_io, "MAX_METADATA_BYTES", 1000)
    with pytest.raises(ModelFileError, match="refusing to decompress"):
        load_model(saved)


def test_refuses_extra_and_unsafe_members(saved, tmp_path):
    members = _members(saved)
    with pytest.raises(ModelFileError, match="exactly"):
        load_model(_write(tmp_path / "a.skmmm", {**members, "notes.txt": b"hi"}))
    for name in ("../evil.npz", "/etc/evil", "a/../../evil"):
        with pytest.raises(ModelFileError, match="unsafe"):
            load_model(_write(tmp_path / "b.skmmm", {**members, name: b"x"}))
    renamed = {"../arrays.npz": members["arrays.npz"], "metadata.json": b"{}"}
    with pytest.raises(ModelFileError, match="unsafe"):
        load_model(_write(tmp_path / "c.skmmm", renamed))
    with pytest.raises(ModelFileError, match="exactly"):
        load_model(_write(tmp_path / "d.skmmm", {"metadata.json": b"{}"}))


def test_refuses_non_zip_and_malformed_json(saved, tmp_path):
    (tmp_path / "a.skmmm").write_bytes(b"not a zip file at all")
    with pytest.raises(ModelFileError, match="not a zip archive"):
        load_model(tmp_path / "a.skmmm")
    members = _members(saved)
    members["metadata.json"] = b'{"format": "skmmm-model", '
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(_write(tmp_path / "b.skmmm", members))
    members["metadata.json"] = b"[1, 2]"
    with pytest.raises(ModelFileError, match="JSON object"):
        load_model(_write(tmp_path / "c.skmmm", members))


def test_refuses_unknown_class(saved, tmp_path):
    path = _rewrite(
        saved, tmp_path / "m.skmmm", edit_metadata=lambda m: m.update({"class": "os"})
    )
    with pytest.raises(ModelFileError, match="Unknown estimator class 'os'"):
        load_model(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nope.skmmm")


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["flip", "truncate", "insert"]),
    where=st.floats(0, 1, exclude_max=True),
    byte=st.integers(1, 255),
)
def test_fuzzed_files_fail_cleanly_or_load_identically(
    saved, fitted, data, tmp_path, kind, where, byte
):
    original = saved.read_bytes()
    position = int(where * len(original))
    if kind == "flip":
        mutated = bytearray(original)
        mutated[position] ^= byte
        mutated = bytes(mutated)
    elif kind == "truncate":
        mutated = original[:position]
    else:
        mutated = original[:position] + bytes([byte]) * 3 + original[position:]
    path = tmp_path / "fuzz.skmmm"
    path.write_bytes(mutated)
    try:
        loaded = load_model(path)
    except ModelFileError:
        return
    np.testing.assert_array_equal(loaded.predict(data.X), fitted.predict(data.X))


# ---------------------------------------------------------------- ArviZ


def test_to_inference_data_groups_and_coords(fitted):
    az = pytest.importorskip("arviz")
    idata = to_inference_data(fitted, posterior_predictive=True)
    assert isinstance(idata, az.InferenceData)
    posterior = idata.posterior
    assert posterior.sizes["chain"] == 2 and posterior.sizes["draw"] == 30
    assert list(posterior["coef_media"].dims) == ["chain", "draw", "channel"]
    assert list(posterior.coords["channel"].values) == ["tv", "search"]
    assert list(posterior["coef_extra_features"].dims)[-1] == "control"
    assert list(posterior.coords["control"].values) == fitted.extra_feature_names_
    assert list(posterior["gamma_seasonality"].dims)[2:] == [
        "fourier_degree",
        "fourier_term",
    ]
    np.testing.assert_array_equal(
        posterior["coef_media"].values.reshape(60, 2), fitted.posterior_["coef_media"]
    )
    for stat in ("diverging", "energy", "n_steps"):
        np.testing.assert_array_equal(
            idata.sample_stats[stat].values, fitted.sampling_info_[stat]
        )
    observed = idata.observed_data["y"]
    np.testing.assert_array_equal(observed.values, fitted.training_data_.target)
    assert pd.DatetimeIndex(observed.coords["time"].values).equals(
        pd.DatetimeIndex(fitted.training_data_.index.values)
    )
    draws = idata.posterior_predictive["y"]
    assert draws.shape == (2, 30, 60)
    np.testing.assert_array_equal(
        draws.values.reshape(60, 60),
        fitted.sample_posterior_predictive(None, random_state=0),
    )


def test_to_inference_data_has_the_pointwise_log_likelihood_for_loo(fitted):
    az = pytest.importorskip("arviz")
    from scipy import stats

    idata = to_inference_data(fitted)
    pointwise = idata.log_likelihood["y"]
    assert pointwise.dims == ("chain", "draw", "time") and pointwise.shape == (
        2,
        30,
        60,
    )
    mu = fitted.fitted_.mean_draws()
    sigma = fitted.posterior_["sigma"] * fitted.target_scale_
    expected = stats.norm.logpdf(fitted.training_data_.target, mu, sigma[:, None])
    np.testing.assert_allclose(pointwise.values.reshape(60, 60), expected, rtol=1e-6)
    assert np.isfinite(az.loo(idata).elpd_loo)
    assert "log_likelihood" not in to_inference_data(fitted, log_likelihood=False)


def test_to_inference_data_with_new_rows_and_reduced_trace(fitted, data):
    pytest.importorskip("arviz")
    est = copy.deepcopy(fitted).reduce_trace(20, random_state=0)
    idata = to_inference_data(est, posterior_predictive=True, X=data.X.iloc[-5:])
    assert idata.posterior.sizes["chain"] == 1 and idata.posterior.sizes["draw"] == 20
    assert "sample_stats" not in idata.groups()
    assert idata.predictions["y"].shape == (1, 20, 5)
    assert pd.DatetimeIndex(idata.predictions.coords["new_time"].values).equals(
        pd.DatetimeIndex(data.X.index[-5:].values)
    )


def test_to_inference_data_without_arviz_says_how_to_install(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "arviz", None)
    with pytest.raises(ImportError, match=r"pip install skmmm\[arviz\]"):
        to_inference_data(fitted)


def test_arviz_summary_and_plot_trace(fitted):
    az = pytest.importorskip("arviz")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idata = to_inference_data(fitted)
    table = az.summary(idata, var_names=["coef_media", "sigma"])
    assert "coef_media[tv]" in table.index and "r_hat" in table.columns
    axes = az.plot_trace(idata, var_names=["coef_media", "sigma"])
    assert axes.shape == (2, 2)
    plt.close("all")


# ------------------------------------------------------- reproducibility


def test_same_seed_gives_bit_identical_posterior(fitted, data):
    again = _fit(data.X, data.y, media_columns=data.media_columns, random_state=0)
    for name, draws in fitted.posterior_.items():
        np.testing.assert_array_equal(again.posterior_[name], draws)


_SUBPROCESS_FIT = """
import sys, warnings
import numpy as np
from skmmm import HillAdstockRegressor
from skmmm.datasets import simulate_mmm_data
data = simulate_mmm_data(n_periods=60, n_channels=2)
est = HillAdstockRegressor(media_columns=data.media_columns, random_state=0,
                           number_warmup=30, number_samples=30, number_chains=2,
                           progress_bar=False)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    est.fit(data.X, data.y)
np.savez(sys.argv[1], **est.posterior_)
"""


def test_same_seed_gives_bit_identical_posterior_across_processes(fitted, tmp_path):
    out = tmp_path / "posterior.npz"
    subprocess.run(
        [sys.executable, "-c", _SUBPROCESS_FIT, str(out)], check=True, timeout=300
    )
    with np.load(out, allow_pickle=False) as other:
        assert set(other.files) == set(fitted.posterior_)
        for name, draws in fitted.posterior_.items():
            np.testing.assert_array_equal(other[name], draws)


def test_random_state_none_gives_different_fits(unseeded_pair):
    first, second = unseeded_pair
    assert not np.array_equal(first.posterior_["sigma"], second.posterior_["sigma"])


# ------------------------------------------------------- failed saves


@pytest.mark.parametrize(
    "failure",
    [OSError(28, "No space left on device"), KeyboardInterrupt()],
    ids=["disk full", "interrupted"],
)
def test_a_failed_save_leaves_the_previous_file_intact(
    fitted, tmp_path, data, monkeypatch, failure
):
    path = tmp_path / "model.skmmm"
    save_model(fitted, path)
    before = path.read_bytes()
    written = []
    original = zipfile.ZipFile.writestr

    def failing_writestr(self, info, payload, *args, **kwargs):
        if written:  # the second member: the file is half written
            raise failure
        written.append(info)
        return original(self, info, payload, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(type(failure)):
        save_model(fitted, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skmmm"]
    np.testing.assert_array_equal(
        load_model(path).predict(data.X), fitted.predict(data.X)
    )


def test_a_save_replaces_the_file_and_keeps_its_permissions(fitted, tmp_path):
    path = tmp_path / "model.skmmm"
    path.write_bytes(b"old")
    path.chmod(0o640)
    save_model(fitted, path)
    assert (path.stat().st_mode & 0o777) == 0o640
    assert zipfile.is_zipfile(path)


# ------------------------------------------- recomputed digests, signing


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    member=st.integers(0, 10_000),
    edit=st.sampled_from(["nan", "inf", "negative", "drop_last", "add_axis", "int"]),
)
def test_edited_arrays_with_recomputed_digests_fail_cleanly_or_predict(
    saved, data, tmp_path, member, edit
):
    """A file that loads predicts, even when its checksums were recomputed."""

    def edit_arrays(arrays):
        name = sorted(arrays)[member % len(arrays)]
        value = np.array(arrays[name])
        if edit == "nan" and value.dtype.kind == "f" and value.size:
            value.flat[0] = np.nan
        elif edit == "inf" and value.dtype.kind == "f" and value.size:
            value.flat[-1] = np.inf
        elif edit == "negative" and value.dtype.kind in "fi" and value.size:
            value = -np.abs(value) - 1
        elif edit == "drop_last" and value.ndim and value.shape[-1] > 1:
            value = value[..., :-1]
        elif edit == "add_axis":
            value = value[..., None]
        elif edit == "int" and value.dtype.kind == "f":
            value = value.astype(np.int64)
        arrays[name] = value
        edited[name] = value

    def declare(metadata):
        # The metadata describes the edited arrays, as a deliberate edit would.
        for name, value in edited.items():
            metadata["arrays"][name] = {
                "shape": list(value.shape),
                "dtype": value.dtype.str,
            }

    edited: dict = {}
    path = _rewrite(
        saved,
        tmp_path / "edited.skmmm",
        edit_metadata=declare,
        edit_arrays=edit_arrays,
    )
    try:
        loaded = load_model(path)
    except ModelFileError:
        return
    prediction = loaded.predict(data.X)
    assert prediction.shape == (len(data.X),) and np.all(np.isfinite(prediction))


def test_signed_files_refuse_edits_and_other_keys(fitted, tmp_path, data):
    path = tmp_path / "signed.skmmm"
    save_model(fitted, path, key="team secret")
    np.testing.assert_array_equal(
        load_model(path, key="team secret").predict(data.X), fitted.predict(data.X)
    )
    load_model(path)  # no key: loads, unverified
    with pytest.raises(ModelFileError, match="signature does not match"):
        load_model(path, key="another key")

    def scale_target(metadata):
        metadata["attributes"]["target_scale_"] *= 2

    edited = _rewrite(path, tmp_path / "edited.skmmm", edit_metadata=scale_target)
    assert load_model(edited).target_scale_ == 2 * fitted.target_scale_
    with pytest.raises(ModelFileError, match="signature does not match"):
        load_model(edited, key="team secret")
    unsigned = tmp_path / "unsigned.skmmm"
    save_model(fitted, unsigned)
    with pytest.raises(ModelFileError, match="not signed"):
        load_model(unsigned, key="team secret")


def test_round_trip_of_multiindex_columns_and_tuple_parameters(tmp_path):
    """Tuples stay tuples: the loaded model refits (MultiIndex labels, depths)."""
    from sklearn.base import clone

    data = simulate_mmm_data(n_periods=40, n_channels=2, n_controls=1, seed=3)
    X = data.X.copy()
    X.columns = pd.MultiIndex.from_tuples(
        [("media", c) for c in data.media_columns]
        + [("control", c) for c in data.control_columns]
    )
    est = HillAdstockRegressor(
        media_columns=[("media", c) for c in data.media_columns],
        max_tree_depth=(5, 8),
        number_warmup=10,
        number_samples=10,
        random_state=0,
        progress_bar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, data.y)
    save_model(est, tmp_path / "multi.skmmm")
    loaded = load_model(tmp_path / "multi.skmmm")
    assert loaded.get_params() == est.get_params()
    assert loaded.max_tree_depth == (5, 8)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refit = clone(loaded).fit(X, data.y)
    np.testing.assert_array_equal(refit.predict(X), est.predict(X))


def test_fill_missing_fit_round_trips_its_parameter_and_periods(
    tmp_path, filled_national_fit
):
    est, X, _ = filled_national_fit
    est = copy.copy(est)
    est.fill_missing = {"tv": 0.0, "price_index": 1.0}
    path = tmp_path / "filled.skmmm"
    save_model(est, path)
    loaded = load_model(path)
    assert loaded.fill_missing == {"tv": 0.0, "price_index": 1.0}
    np.testing.assert_array_equal(
        loaded.training_data_.present, est.training_data_.present
    )
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto")
def test_fill_missing_fit_exports_only_the_periods_x_had(filled_national_fit):
    az = pytest.importorskip("arviz")
    est, X, _ = filled_national_fit
    data = to_inference_data(est)
    assert data.observed_data["y"].shape == (len(X),)
    assert data.log_likelihood["y"].shape[2:] == (len(X),)
    assert np.isfinite(az.loo(data).elpd_loo)


@pytest.mark.parametrize("column", [False, True])
def test_revenue_per_kpi_and_laplace_fits_round_trip(tmp_path, column):
    data = simulate_mmm_data(n_periods=60, n_channels=2, seed=4)
    X = data.X.copy()
    X["rpk"] = np.linspace(1.0, 2.0, len(X))
    est = HillAdstockRegressor(
        media_columns=data.media_columns,
        revenue_per_kpi="rpk" if column else 3.0,
        inference="laplace",
        number_samples=30,
        random_state=0,
        progress_bar=False,
    )
    X = X if column else data.X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, data.y)
    save_model(est, tmp_path / "model.skmmm")
    loaded = load_model(tmp_path / "model.skmmm")
    assert loaded.revenue_per_kpi == est.revenue_per_kpi
    assert loaded.inference == "laplace"
    np.testing.assert_array_equal(loaded.revenue_per_kpi_, est.revenue_per_kpi_)
    np.testing.assert_array_equal(loaded.roi().to_numpy(), est.roi().to_numpy())
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
