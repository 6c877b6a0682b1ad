"""Saving and loading fitted models without pickle, and export to ArviZ.

A model file is a zip archive with exactly two members:

``arrays.npz``
    Every array of the fitted model (``np.savez``): posterior draws under
    ``"posterior/<name>"``, diagnostics under ``"rhat/<name>"`` and
    ``"ess/<name>"``, the scales, the training data under ``"training/..."``
    and per-draw sampler statistics under ``"sampling/<name>"``.
``metadata.json``
    The skmmm and format versions, the estimator's class name and
    constructor parameters, the scalar fitted attributes, the training index,
    the shape and dtype of every array, the SHA-256 checksum of
    ``arrays.npz`` and a SHA-256 checksum of the metadata itself.

Loading never unpickles or executes anything: arrays are read with
``allow_pickle=False``, the class is chosen by name from a fixed list, and
any file that does not match what it declares is refused with
:class:`ModelFileError`.

``custom_priors`` are saved when they are None or a dict whose values are
None, numbers, (nested) lists of numbers, dicts of those, or NumPyro
distributions of the classes in ``SAVEABLE_DISTRIBUTIONS`` (stored as the
class name and its parameter values). Any other value (e.g. an expanded or
transformed distribution) makes :func:`save_model` raise ``ValueError``.
A ``random_state`` that is a ``RandomState`` instance is saved as None (the
posterior is already drawn; only a refit would use it). ``lift_tests`` (a
DataFrame) is saved column by column, dates as ISO strings, with its index;
columns and index labels must be numbers, strings, dates or missing values.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import os
import zipfile
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from skmmm._files import atomic_write
from skmmm.models import GEO_SITES

__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "load_model",
    "save_model",
    "to_inference_data",
]

FORMAT_NAME = "skmmm-model"
FORMAT_VERSION = 1
ARRAYS_MEMBER = "arrays.npz"
METADATA_MEMBER = "metadata.json"
MAX_ARRAY_BYTES = 2 * 1024**3
MAX_TOTAL_ARRAY_BYTES = 8 * 1024**3
MAX_METADATA_BYTES = 64 * 1024**2
NPY_OVERHEAD_BYTES = 4096  # .npy header plus zip bookkeeping, per array
ALLOWED_DTYPES = ("|b1", "<i4", "<i8", "<f4", "<f8")
ESTIMATOR_CLASSES = (
    "BayesianMMMRegressor",
    "AdstockRegressor",
    "HillAdstockRegressor",
    "CarryoverRegressor",
)
SAVEABLE_DISTRIBUTIONS = (
    "Beta",
    "Cauchy",
    "Exponential",
    "Gamma",
    "HalfCauchy",
    "HalfNormal",
    "InverseGamma",
    "Laplace",
    "LogNormal",
    "Normal",
    "StudentT",
    "Uniform",
)
_DISTRIBUTION_KEY = "__numpyro_distribution__"
_FRAME_KEY = "__dataframe__"
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)

# Fitted attributes written and read explicitly; any other ``name_`` attribute
# is saved generically when it is an array or JSON scalar/list.
_KNOWN_ATTRIBUTES = {
    "posterior_",
    "rhat_",
    "ess_",
    "media_scale_",
    "extra_scale_",
    "media_prior_",
    "target_scale_",
    "spec_",
    "divergences_",
    "sampling_info_",
    "media_names_",
    "extra_feature_names_",
    "n_media_channels_",
    "n_geos_",
    "n_features_in_",
    "feature_names_in_",
    "training_data_",
    "n_train_periods_",
}


class ModelFileError(ValueError):
    """A model file that cannot be loaded: corrupt, tampered, or incompatible."""


# --------------------------------------------------------------------- save


def _array_info(array: np.ndarray) -> dict:
    return {"shape": list(array.shape), "dtype": array.dtype.str}


def _as_saveable_array(name: str, value: Any) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind == "b":
        array = array.astype("|b1")
    elif array.dtype.kind in "iu":
        array = array.astype("<i8")
    elif array.dtype.kind == "f" and array.dtype.itemsize <= 4:
        array = array.astype("<f4")
    elif array.dtype.kind == "f":
        array = array.astype("<f8")
    else:
        raise ValueError(
            f"Cannot save {name}: arrays of dtype {array.dtype} are not supported "
            "(only booleans, integers and floats)."
        )
    # ascontiguousarray turns a 0-d array (a scalar's r_hat) into shape (1,).
    return np.ascontiguousarray(array).reshape(array.shape)


def _json_scalar(value: Any) -> Any:
    """A JSON-able copy of a scalar, or raise TypeError."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    raise TypeError(type(value).__name__)


def _json_value(value: Any) -> Any:
    """JSON-able copy of scalars, lists/tuples/arrays and str-keyed dicts."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            return [_json_value(v) for v in value.tolist()]
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dict with non-string keys")
        return {k: _json_value(v) for k, v in value.items()}
    return _json_scalar(value)


def _encode_distribution(name: str, prior: Any) -> dict:
    cls_name = type(prior).__name__
    from numpyro import distributions as dist

    if cls_name not in SAVEABLE_DISTRIBUTIONS or type(prior) is not getattr(
        dist, cls_name, None
    ):
        raise ValueError(
            f"Cannot save custom_priors[{name!r}]: a {cls_name} distribution is "
            "not saveable. save_model stores only None, numbers, lists of "
            "numbers, dicts of those, and NumPyro distributions of the classes "
            f"{', '.join(SAVEABLE_DISTRIBUTIONS)}. Pass the prior's parameters "
            "(e.g. {'scale': 2.0}) instead, or pickle the estimator."
        )
    params = {
        param: np.asarray(getattr(prior, param)).tolist()
        for param in sorted(prior.arg_constraints)
        if getattr(prior, param, None) is not None
    }
    return {_DISTRIBUTION_KEY: cls_name, "params": params}


def _encode_custom_priors(custom_priors: Any) -> Any:
    if custom_priors is None:
        return None
    if not isinstance(custom_priors, Mapping):
        raise ValueError(
            "Cannot save custom_priors: expected None or a dict, got "
            f"{type(custom_priors).__name__}."
        )
    from numpyro.distributions import Distribution

    encoded = {}
    for name, prior in custom_priors.items():
        if isinstance(prior, Distribution):
            encoded[str(name)] = _encode_distribution(name, prior)
            continue
        try:
            encoded[str(name)] = _json_value(prior)
        except TypeError as exc:
            raise ValueError(
                f"Cannot save custom_priors[{name!r}]: values must be None, "
                "numbers, lists of numbers, dicts of those or a NumPyro "
                f"distribution, got {type(prior).__name__} ({exc})."
            ) from None
    return encoded


def _encode_media_prior(media_prior: Any) -> Any:
    if media_prior is None:
        return None
    if isinstance(media_prior, Mapping):
        return {str(k): float(v) for k, v in media_prior.items()}
    if isinstance(media_prior, pd.Series) and all(
        isinstance(label, str) for label in media_prior.index
    ):
        return {label: float(v) for label, v in media_prior.items()}
    return np.asarray(media_prior, dtype=float).tolist()


def _encode_series(values: pd.Index | pd.Series, what: str) -> dict:
    """A column or index as JSON: dates as ISO strings, missing values as None."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dates = pd.DatetimeIndex(values)
        return {
            "kind": "datetime",
            "tz": None if dates.tz is None else str(dates.tz),
            "values": [None if pd.isna(v) else v.isoformat() for v in dates],
        }
    encoded = []
    for value in values:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            encoded.append(None)
        elif isinstance(value, pd.Timestamp):
            encoded.append({"__timestamp__": value.isoformat()})
        else:
            try:
                encoded.append(_json_scalar(value))
            except TypeError:
                raise ValueError(
                    f"Cannot save lift_tests: its {what} holds "
                    f"{type(value).__name__} values; save_model stores numbers, "
                    "strings, dates and missing values."
                ) from None
    return {"kind": "values", "dtype": str(values.dtype), "values": encoded}


def _encode_frame(frame: Any) -> Any:
    if frame is None:
        return None
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"Cannot save lift_tests: expected None or a DataFrame, got "
            f"{type(frame).__name__}."
        )
    if isinstance(frame.index, pd.MultiIndex) or not all(
        isinstance(column, str) for column in frame.columns
    ):
        raise ValueError(
            "Cannot save lift_tests: save_model stores a DataFrame with string "
            "column names and a flat index."
        )
    return {
        _FRAME_KEY: {
            "columns": list(frame.columns),
            "data": [
                _encode_series(frame[column], f"column {column!r}")
                for column in frame.columns
            ],
            "index": _encode_series(frame.index, "index"),
            "index_name": _json_scalar(frame.index.name)
            if isinstance(frame.index.name, (str, Integral, type(None)))
            else None,
            "range_index": isinstance(frame.index, pd.RangeIndex)
            and frame.index.equals(pd.RangeIndex(len(frame))),
        }
    }


def _decode_series(info: Any) -> list | pd.DatetimeIndex:
    _expect(
        isinstance(info, dict) and isinstance(info.get("values"), list),
        "The saved lift_tests are malformed.",
    )
    if info.get("kind") == "datetime":
        dates = pd.DatetimeIndex(pd.to_datetime(info["values"], format="ISO8601"))
        tz = info.get("tz")
        return dates if tz is None else dates.tz_convert(str(tz))
    values = []
    for value in info["values"]:
        if isinstance(value, dict) and set(value) == {"__timestamp__"}:
            values.append(pd.Timestamp(value["__timestamp__"]))
        else:
            _expect(
                value is None or isinstance(value, (bool, int, float, str)),
                "The saved lift_tests hold a value that is not a number, string "
                "or date.",
            )
            values.append(value)
    return values


def _decode_frame(value: Mapping) -> pd.DataFrame:
    info = value[_FRAME_KEY]
    _expect(
        isinstance(info, dict)
        and isinstance(info.get("columns"), list)
        and isinstance(info.get("data"), list)
        and len(info["columns"]) == len(info["data"]),
        "The saved lift_tests are malformed.",
    )
    columns = {}
    for name, series in zip(info["columns"], info["data"], strict=True):
        values = _decode_series(series)
        dtype = series.get("dtype")
        if series.get("kind") == "values" and dtype in ("int64", "float64", "bool"):
            values = np.asarray(
                [np.nan if v is None else v for v in values], dtype=dtype
            )
        columns[str(name)] = values
    if info.get("range_index"):
        index = None
    else:
        labels = _decode_series(info.get("index"))
        index = pd.Index(labels, name=info.get("index_name"))
    frame = pd.DataFrame(columns, index=index)
    if index is not None:
        frame.index.name = info.get("index_name")
    return frame


_TUPLE_KEY = "__tuple__"


def _json_param(value: Any) -> Any:
    """As :func:`_json_value`, but tuples stay tuples through a round trip.

    MultiIndex column labels in ``media_columns`` and a ``max_tree_depth``
    pair are tuples; a refit of the loaded model needs them as tuples.
    """
    if isinstance(value, tuple):
        return {_TUPLE_KEY: [_json_param(v) for v in value]}
    if isinstance(value, list):
        return [_json_param(v) for v in value]
    return _json_value(value)


def _encode_params(estimator) -> dict:
    params = estimator.get_params(deep=False)
    encoded = {}
    for name, value in params.items():
        if name == "custom_priors":
            encoded[name] = _encode_custom_priors(value)
        elif name == "media_prior":
            encoded[name] = _encode_media_prior(value)
        elif name == "lift_tests":
            encoded[name] = _encode_frame(value)
        elif name == "random_state" and isinstance(value, np.random.RandomState):
            encoded[name] = None
        else:
            try:
                encoded[name] = _json_param(value)
            except TypeError:
                raise ValueError(
                    f"Cannot save the parameter {name}={value!r}: only None, "
                    "numbers, strings and lists of those can be saved."
                ) from None
    return encoded


def _encode_index(index: pd.Index) -> dict:
    if isinstance(index, pd.DatetimeIndex):
        return {
            "kind": "datetime",
            "values": [stamp.isoformat() for stamp in index],
            "dtype": str(index.dtype),
            "freq": index.freqstr if index.freq is not None else None,
            "name": _json_scalar(index.name),
        }
    if isinstance(index, pd.RangeIndex):
        return {
            "kind": "range",
            "start": int(index.start),
            "stop": int(index.stop),
            "step": int(index.step),
            "name": _json_scalar(index.name),
        }
    raise ValueError(
        f"Cannot save a model trained on a {type(index).__name__}; expected a "
        "DatetimeIndex or a RangeIndex."
    )


_SIGNATURE_KEY = "hmac_sha256"


def _metadata_digest(metadata: Mapping) -> str:
    body = {
        k: v
        for k, v in metadata.items()
        if k not in ("metadata_sha256", _SIGNATURE_KEY)
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _skmmm_version() -> str:
    import skmmm

    return str(skmmm.__version__)


def _collect(estimator) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the JSON attributes of a fitted estimator."""
    arrays: dict[str, np.ndarray] = {}

    def put(key: str, value: Any) -> None:
        arrays[key] = _as_saveable_array(key, value)

    model = estimator.fitted_.to_dict(with_priors=False, copy=False)
    for group in ("posterior", "rhat", "ess"):
        for name, value in model[group].items():
            put(f"{group}/{name}", value)
    put("media_scale", estimator.media_scale_)
    put("extra_scale", estimator.extra_scale_)
    put("media_prior", estimator.media_prior_)
    target_scale = np.asarray(estimator.target_scale_, dtype=float)
    if target_scale.ndim:  # a geo fit: one scale per geo
        put("target_scale", target_scale)
    train = model["training"]
    for name in ("media", "extra_features", "target"):
        put(f"training/{name}", train[name])
    present = train["present"]
    if present is not None:  # a ragged panel's cells
        put("training/present", np.asarray(present, dtype=bool))

    sampling_info = {}
    for key, value in estimator.sampling_info_.items():
        if isinstance(value, (np.ndarray, list, tuple)) or hasattr(value, "shape"):
            put(f"sampling/{key}", value)
        else:
            try:
                sampling_info[key] = _json_scalar(value)
            except TypeError:
                sampling_info[key] = str(value)

    extra_json = {}
    for name, value in vars(estimator).items():
        if not name.endswith("_") or name.startswith("_") or name in _KNOWN_ATTRIBUTES:
            continue
        if isinstance(value, np.ndarray):
            put(f"attribute/{name}", value)
            continue
        try:
            extra_json[name] = _json_value(value)
        except TypeError:
            raise ValueError(
                f"Cannot save the fitted attribute {name} of type "
                f"{type(value).__name__}; skmmm.io does not know how to store it."
            ) from None

    feature_names = getattr(estimator, "feature_names_in_", None)
    attributes = {
        "target_scale_": None if target_scale.ndim else float(target_scale),
        "divergences_": int(estimator.divergences_),
        "media_names_": [str(n) for n in estimator.media_names_],
        "extra_feature_names_": [str(n) for n in estimator.extra_feature_names_],
        "n_media_channels_": int(estimator.n_media_channels_),
        "n_geos_": int(estimator.n_geos_),
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": None
        if feature_names is None
        else [str(n) for n in feature_names],
        "n_train_periods_": int(estimator.n_train_periods_),
        "spec_": _json_value(dict(vars(estimator.spec_))),
        "sampling_info_": sampling_info,
        "other": extra_json,
    }
    training = {
        "index": _encode_index(train["index"]),
        "media_names": [str(n) for n in train["media_names"]],
        "extra_names": [str(n) for n in train["extra_names"]],
        "media_positions": [int(p) for p in train["media_positions"]],
        "extra_positions": [int(p) for p in train["extra_positions"]],
        "feature_names_in": None
        if train["feature_names_in"] is None
        else [str(n) for n in train["feature_names_in"]],
        "n_features_in": int(train["n_features_in"]),
        "frequency": None if train["frequency"] is None else train["frequency"].freqstr,
    }
    geo_names = train.get("geo_names")
    if geo_names is not None:
        training["geo_names"] = [str(n) for n in geo_names]
    return arrays, {"attributes": attributes, "training_data": training}


def _signature(key: bytes | str, metadata_digest: str) -> str:
    """HMAC-SHA256 of the metadata's digest (which covers the arrays' digest)."""
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes) or not key:
        raise ValueError("key must be a non-empty str or bytes.")
    return hmac.new(key, metadata_digest.encode(), hashlib.sha256).hexdigest()


def save_model(
    estimator, path: str | os.PathLike, *, key: bytes | str | None = None
) -> None:
    """Save a fitted skmmm regressor to one file, without pickle.

    Parameters
    ----------
    estimator : fitted BayesianMMMRegressor (or a subclass from skmmm)
        The model to save.
    path : str or path-like
        The file to write (conventionally ``*.skmmm``); replaced if it
        exists. The file is written beside ``path`` and renamed over it only
        once complete, so a failed save (a full disk, an interruption)
        leaves an existing file as it was.
    key : bytes or str, default=None
        A secret shared with the people who will load the file. The file is
        then signed (HMAC-SHA256 over its checksums), and
        ``load_model(path, key=key)`` refuses a file that was edited, even
        one whose checksums were recomputed. Without a key the checksums
        detect corruption, not deliberate edits.

    Raises
    ------
    ValueError
        When the estimator is not a fitted skmmm regressor, or a parameter
        (e.g. a ``custom_priors`` entry) cannot be stored without pickle.

    See Also
    --------
    load_model : Read the file back.

    Examples
    --------
    >>> save_model(mmm, "model.skmmm")  # doctest: +SKIP
    >>> load_model("model.skmmm").predict(X)  # doctest: +SKIP
    """
    from sklearn.utils.validation import check_is_fitted

    from skmmm import regressor

    class_name = type(estimator).__name__
    if class_name not in ESTIMATOR_CLASSES or type(estimator) is not getattr(
        regressor, class_name
    ):
        raise ValueError(
            f"save_model saves skmmm regressors ({', '.join(ESTIMATOR_CLASSES)}), "
            f"got {type(estimator).__module__}.{class_name}."
        )
    check_is_fitted(estimator, "posterior_")
    params = _encode_params(estimator)
    arrays, fitted = _collect(estimator)

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz_bytes = buffer.getvalue()
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skmmm_version": _skmmm_version(),
        "class": class_name,
        "params": params,
        **fitted,
        "arrays": {key: _array_info(value) for key, value in arrays.items()},
        "arrays_sha256": hashlib.sha256(npz_bytes).hexdigest(),
    }
    metadata["metadata_sha256"] = _metadata_digest(metadata)
    if key is not None:
        metadata[_SIGNATURE_KEY] = _signature(key, metadata["metadata_sha256"])
    metadata_bytes = json.dumps(metadata, indent=1).encode()

    with atomic_write(path) as stream, zipfile.ZipFile(stream, "w") as archive:
        for name, data in (
            (METADATA_MEMBER, metadata_bytes),
            (ARRAYS_MEMBER, npz_bytes),
        ):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


# --------------------------------------------------------------------- load


def _unsafe_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (
        name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or ".." in parts
        or "\x00" in name
    )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise ModelFileError(
            f"The member {info.filename!r} declares {info.file_size} bytes, more "
            f"than the limit of {limit}; refusing to decompress it."
        )
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit or len(data) != info.file_size:
        raise ModelFileError(f"The member {info.filename!r} has the wrong size.")
    return data


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ModelFileError(message)


def _check_version(metadata: Mapping) -> None:
    _expect(
        metadata.get("format") == FORMAT_NAME,
        "Not a skmmm model file (metadata.json has no skmmm format marker).",
    )
    version = metadata.get("skmmm_version")
    _expect(
        isinstance(version, str), "The model file does not record its skmmm version."
    )
    current = _skmmm_version()
    try:
        saved_major = int(version.split(".")[0])
    except ValueError:
        raise ModelFileError(
            f"Unreadable skmmm version {version!r} in the file."
        ) from None
    current_major = int(current.split(".")[0])
    if saved_major != current_major:
        raise ModelFileError(
            f"The model was saved by skmmm {version}; this is skmmm {current}. "
            "Files are compatible only within a major version: load it with "
            f"skmmm {saved_major}.x and refit, or refit with this version."
        )
    format_version = metadata.get("format_version")
    if format_version != FORMAT_VERSION:
        raise ModelFileError(
            f"Unknown model file format version {format_version!r}; this skmmm "
            f"({current}) reads format version {FORMAT_VERSION}. Upgrade skmmm."
        )


def _declared_arrays(metadata: Mapping) -> dict[str, tuple[tuple[int, ...], str]]:
    declared = metadata.get("arrays")
    _expect(isinstance(declared, dict), "metadata.json lacks the array table.")
    result = {}
    total = 0
    for key, info in declared.items():
        _expect(
            isinstance(info, dict)
            and isinstance(info.get("shape"), list)
            and all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0
                for n in info["shape"]
            )
            and info.get("dtype") in ALLOWED_DTYPES,
            f"metadata.json declares array {key!r} with an invalid shape or dtype "
            f"(allowed dtypes: {', '.join(ALLOWED_DTYPES)}).",
        )
        shape = tuple(info["shape"])
        nbytes = math.prod(shape) * np.dtype(info["dtype"]).itemsize
        _expect(
            nbytes <= MAX_ARRAY_BYTES,
            f"metadata.json declares array {key!r} of {nbytes} bytes, more than "
            f"the limit of {MAX_ARRAY_BYTES}.",
        )
        total += nbytes
        result[key] = (shape, info["dtype"])
    _expect(
        total <= MAX_TOTAL_ARRAY_BYTES,
        f"metadata.json declares {total} bytes of arrays, more than the limit.",
    )
    return result


def _read_arrays(npz_bytes: bytes, declared: Mapping) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(io.BytesIO(npz_bytes)) as inner:
        infos = inner.infolist()
        names = [info.filename for info in infos]
        expected = {f"{key}.npy" for key in declared}
        _expect(
            len(names) == len(set(names)) and set(names) == expected,
            "arrays.npz holds different arrays than metadata.json declares "
            f"(missing: {sorted(expected - set(names))}, "
            f"extra: {sorted(set(names) - expected)}).",
        )
        for info in infos:
            shape, dtype = declared[info.filename[: -len(".npy")]]
            limit = math.prod(shape) * np.dtype(dtype).itemsize + NPY_OVERHEAD_BYTES
            _expect(
                info.file_size <= limit,
                f"The array {info.filename!r} is larger than its declared shape.",
            )
    arrays = {}
    with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
        for key, (shape, dtype) in declared.items():
            array = npz[key]
            _expect(
                array.shape == shape and array.dtype.str == dtype,
                f"The array {key!r} has shape {array.shape} and dtype "
                f"{array.dtype.str}, but metadata.json declares {shape} and {dtype}.",
            )
            arrays[key] = array
    return arrays


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if _DISTRIBUTION_KEY in value:
            return _decode_distribution(value)
        if set(value) == {_FRAME_KEY}:
            return _decode_frame(value)
        if set(value) == {_TUPLE_KEY} and isinstance(value[_TUPLE_KEY], list):
            return tuple(_decode_value(v) for v in value[_TUPLE_KEY])
        return {k: _decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


def _decode_distribution(value: Mapping) -> Any:
    from numpyro import distributions as dist

    name = value.get(_DISTRIBUTION_KEY)
    params = value.get("params")
    _expect(
        name in SAVEABLE_DISTRIBUTIONS and isinstance(params, dict),
        f"Unknown distribution {name!r} in custom_priors; allowed: "
        f"{', '.join(SAVEABLE_DISTRIBUTIONS)}.",
    )
    cls = getattr(dist, name)
    _expect(
        set(params) <= set(cls.arg_constraints),
        f"Unknown parameters {sorted(params)} of the {name} prior.",
    )
    return cls(**{k: np.asarray(v, dtype=float) for k, v in params.items()})


def _decode_index(info: Any) -> pd.Index:
    _expect(isinstance(info, dict), "metadata.json lacks the training index.")
    if info.get("kind") == "range":
        return pd.RangeIndex(
            int(info["start"]), int(info["stop"]), int(info["step"]), name=info["name"]
        )
    if info.get("kind") == "datetime":
        values = info["values"]
        _expect(
            isinstance(values, list) and all(isinstance(v, str) for v in values),
            "The training dates must be ISO date strings.",
        )
        dtype = info["dtype"]
        _expect(
            isinstance(dtype, str) and dtype.startswith("datetime64["),
            f"Unknown dtype of the training dates {dtype!r}.",
        )
        return pd.DatetimeIndex(
            values, dtype=dtype, freq=info["freq"], name=info["name"]
        )
    raise ModelFileError(f"Unknown training index kind {info.get('kind')!r}.")


def _estimator_class(name: Any):
    _expect(
        name in ESTIMATOR_CLASSES,
        f"Unknown estimator class {name!r} in the model file; expected one of "
        f"{', '.join(ESTIMATOR_CLASSES)}.",
    )
    from skmmm import regressor

    return getattr(regressor, name)


def _str_list(value: Any, what: str) -> list[str]:
    _expect(
        isinstance(value, list) and all(isinstance(v, str) for v in value),
        f"{what} must be a list of strings in metadata.json.",
    )
    return list(value)


def _rebuild(metadata: Mapping, arrays: Mapping[str, np.ndarray]):
    """The fitted estimator of a checked file's metadata and arrays.

    The file holds the estimator's fitted attributes; those of the fitted
    model become a :class:`skmmm.fitted.FittedMMM` (``FittedMMM.from_dict``)
    and the estimator's attributes are set from it
    (:func:`skmmm.regressor.load_fitted`).
    """
    from pandas.tseries.frequencies import to_offset

    from skmmm import regressor
    from skmmm.models import MODEL_NAMES

    cls = _estimator_class(metadata.get("class"))
    params = metadata.get("params")
    _expect(isinstance(params, dict), "metadata.json lacks the parameters.")
    known = set(cls().get_params(deep=False))
    _expect(
        set(params) <= known,
        f"Unknown parameters {sorted(set(params) - known)} of {cls.__name__}.",
    )
    estimator = cls(**{k: _decode_value(v) for k, v in params.items()})

    attributes = metadata["attributes"]
    training = metadata["training_data"]
    groups: dict[str, dict[str, np.ndarray]] = {
        "posterior": {},
        "rhat": {},
        "ess": {},
        "sampling": {},
        "attribute": {},
    }
    for key, array in arrays.items():
        group, _, name = key.partition("/")
        if group in groups and name:
            groups[group][name] = array
    posterior = groups["posterior"]
    _expect(bool(posterior), "The model file has no posterior draws.")
    _expect(
        set(groups["rhat"]) == set(posterior) == set(groups["ess"]),
        "The posterior, rhat and ess arrays name different parameters.",
    )
    n_draws = {value.shape[0] if value.ndim else -1 for value in posterior.values()}
    _expect(len(n_draws) == 1, "The posterior arrays have different numbers of draws.")

    media_names = _str_list(attributes["media_names_"], "media_names_")
    extra_names = _str_list(attributes["extra_feature_names_"], "extra_feature_names_")
    n_train = attributes["n_train_periods_"]
    index = _decode_index(training["index"])
    media = arrays["training/media"]
    extra = arrays["training/extra_features"]
    target = arrays["training/target"]
    geo_names = training.get("geo_names")
    geo_shape = () if geo_names is None else (len(geo_names),)
    _expect(
        media.shape == (n_train, len(media_names), *geo_shape)
        and extra.shape == (n_train, len(extra_names), *geo_shape)
        and target.shape == (n_train, *geo_shape)
        and len(index) == n_train,
        "The training arrays disagree with the number of periods and names.",
    )
    frequency = training["frequency"]
    feature_names = training["feature_names_in"]
    present = arrays.get("training/present")
    if present is not None:
        _expect(
            present.dtype.kind == "b" and present.shape == target.shape,
            "The training cells (training/present) disagree with the training KPI.",
        )
    train = {
        "media": media,
        "extra_features": extra,
        "target": target,
        "index": index,
        "media_names": _str_list(training["media_names"], "media_names"),
        "extra_names": _str_list(training["extra_names"], "extra_names"),
        "media_positions": [int(p) for p in training["media_positions"]],
        "extra_positions": [int(p) for p in training["extra_positions"]],
        "feature_names_in": None
        if feature_names is None
        else np.asarray(_str_list(feature_names, "feature_names_in"), dtype=object),
        "n_features_in": int(training["n_features_in"]),
        "frequency": None if frequency is None else to_offset(frequency),
        "present": present,
    }
    if geo_names is not None:
        train["geo_names"] = _str_list(geo_names, "geo_names")

    spec_fields = attributes["spec_"]
    _expect(
        isinstance(spec_fields, dict) and spec_fields.get("model_name") in MODEL_NAMES,
        "metadata.json lacks a valid model spec.",
    )
    if attributes["target_scale_"] is None:
        _expect(
            "target_scale" in arrays and geo_names is not None,
            "metadata.json lacks the target scale.",
        )
        target_scale = arrays["target_scale"]
    else:
        target_scale = float(attributes["target_scale_"])
    sampling_info = dict(attributes["sampling_info_"])
    sampling_info.update(groups["sampling"])
    fitted_attributes = {
        "spec_": {**spec_fields, "geo": geo_names is not None},
        "posterior_": posterior,
        "rhat_": groups["rhat"],
        "ess_": groups["ess"],
        "media_scale_": arrays["media_scale"],
        "extra_scale_": arrays["extra_scale"],
        "media_prior_": arrays["media_prior"],
        "target_scale_": target_scale,
        "divergences_": int(attributes["divergences_"]),
        "sampling_info_": sampling_info,
        "n_features_in_": int(attributes["n_features_in_"]),
    }
    if attributes["feature_names_in_"] is not None:
        fitted_attributes["feature_names_in_"] = np.asarray(
            _str_list(attributes["feature_names_in_"], "feature_names_in_"),
            dtype=object,
        )
    fitted_attributes["training_data_"] = train
    others = {**dict(attributes.get("other", {})), **groups["attribute"]}
    for name, value in others.items():
        _expect(
            name.isidentifier()
            and name.endswith("_")
            and not name.startswith("_")
            and name not in _KNOWN_ATTRIBUTES
            and not hasattr(cls, name),
            f"Invalid fitted attribute name {name!r} in the model file.",
        )
        fitted_attributes[name] = value
    regressor.load_fitted(estimator, fitted_attributes)
    return estimator


def load_model(path: str | os.PathLike, *, key: bytes | str | None = None):
    """Load a model saved by :func:`save_model`, without unpickling anything.

    Every array is checked against the metadata (shape, dtype, checksum) and
    for finite values, and the loaded model computes its contributions on
    the training data once: a file that loads predicts.

    Parameters
    ----------
    path : str or path-like
        The file written by :func:`save_model`.
    key : bytes or str, default=None
        The key the file was signed with (``save_model(..., key=...)``): the
        file must carry a valid signature. None skips the signature check.

    Returns
    -------
    estimator : BayesianMMMRegressor or one of its skmmm subclasses
        The fitted model, with the saved parameters; ``predict``,
        ``summary`` and attribution give the same results as the original.

    Raises
    ------
    ModelFileError
        (a ``ValueError``) When the file is not a skmmm model file, was
        saved by another major version of skmmm or a newer file format, is
        corrupt or tampered with (checksums, member names, sizes, shapes or
        dtypes that disagree with the metadata), or holds pickled objects.
    FileNotFoundError
        When ``path`` does not exist.

    See Also
    --------
    save_model : Write the file.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ModelFileError(
            f"{os.fspath(path)!r} is not a skmmm model file (not a zip archive: {exc})."
        ) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # a corrupt archive can fail in many ways
        raise ModelFileError(f"Unreadable model file: {exc!r}.") from None
    try:
        with archive:
            return _load(archive, key)
    except ModelFileError:
        raise
    except Exception as exc:  # corrupt data must never surface as another type
        raise ModelFileError(
            f"{os.fspath(path)!r} is a corrupt or malformed model file "
            f"({type(exc).__name__}: {exc})."
        ) from None


def _load(archive: zipfile.ZipFile, key: bytes | str | None = None):
    infos = archive.infolist()
    names = [info.filename for info in infos]
    unsafe = [name for name in names if _unsafe_name(name)]
    _expect(not unsafe, f"The model file has unsafe member names {unsafe}.")
    _expect(
        sorted(names) == sorted([ARRAYS_MEMBER, METADATA_MEMBER]),
        f"A model file holds exactly {METADATA_MEMBER!r} and {ARRAYS_MEMBER!r}; "
        f"this one holds {names}.",
    )
    by_name = {info.filename: info for info in infos}
    try:
        metadata = json.loads(
            _read_member(archive, by_name[METADATA_MEMBER], MAX_METADATA_BYTES)
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"metadata.json is not valid JSON: {exc}.") from None
    _expect(isinstance(metadata, dict), "metadata.json must hold a JSON object.")
    _check_version(metadata)
    _expect(
        metadata.get("metadata_sha256") == _metadata_digest(metadata),
        "metadata.json does not match its checksum: the file is corrupt or was edited.",
    )
    if key is not None:
        signature = metadata.get(_SIGNATURE_KEY)
        _expect(
            isinstance(signature, str),
            "The model file is not signed, so it cannot be verified with a key; "
            "save it with save_model(..., key=...).",
        )
        _expect(
            hmac.compare_digest(
                signature, _signature(key, str(metadata["metadata_sha256"]))
            ),
            "The model file's signature does not match the key: it was edited "
            "after it was saved, or signed with another key.",
        )
    declared = _declared_arrays(metadata)
    limit = (
        sum(
            math.prod(shape) * np.dtype(dtype).itemsize + NPY_OVERHEAD_BYTES
            for shape, dtype in declared.values()
        )
        + NPY_OVERHEAD_BYTES
    )
    npz_bytes = _read_member(archive, by_name[ARRAYS_MEMBER], limit)
    _expect(
        hashlib.sha256(npz_bytes).hexdigest() == metadata.get("arrays_sha256"),
        "arrays.npz does not match its SHA-256 checksum: the file is corrupt or "
        "was tampered with.",
    )
    try:
        arrays = _read_arrays(npz_bytes, declared)
    except ValueError as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(
            f"arrays.npz holds data that cannot be loaded safely ({exc}); skmmm "
            "never unpickles model files."
        ) from None
    estimator = _rebuild(metadata, arrays)
    _check_usable(estimator)
    return estimator


def _check_usable(estimator) -> None:
    """Finite arrays, positive scales, and contributions computed once."""
    from skmmm import attribution

    for name, value in estimator.posterior_.items():
        _expect(
            value.dtype.kind == "f" and bool(np.all(np.isfinite(value))),
            f"The posterior draws of {name!r} are not all finite numbers.",
        )
    for name in ("media_scale_", "extra_scale_", "target_scale_"):
        value = np.asarray(getattr(estimator, name), dtype=float)
        _expect(
            bool(np.all(np.isfinite(value)) and np.all(value > 0)),
            f"The fitted {name} holds values that are not positive numbers.",
        )
    train = estimator.training_data_
    for name in ("media", "extra_features", "target"):
        _expect(
            bool(np.all(np.isfinite(np.asarray(getattr(train, name), dtype=float)))),
            f"The training {name} hold values that are not finite numbers.",
        )
    try:
        contributions = attribution.contributions(estimator)
    except Exception as exc:  # an inconsistent file fails in many ways
        raise ModelFileError(
            "The model file loads but its model cannot compute predictions "
            f"({type(exc).__name__}: {exc}); the file is inconsistent."
        ) from None
    _expect(
        bool(np.all(np.isfinite(contributions.to_numpy(dtype=float)))),
        "The model file's model predicts values that are not finite numbers.",
    )


# ------------------------------------------------------------------- ArviZ


def _is_geo_fit(estimator) -> bool:
    return hasattr(estimator.training_data_, "geo_names")


def _posterior_dims(estimator, name: str, shape: tuple) -> list[str]:
    if _is_geo_fit(estimator):
        if name in GEO_SITES and len(shape) == 1:
            return ["geo"]
        if name == "coef_media" and len(shape) == 2:
            return ["channel", "geo"]
        if name == "coef_extra_features" and len(shape) == 2:
            return ["control", "geo"]
    if name == "coef_extra_features" and len(shape) == 1:
        return ["control"]
    if name == "gamma_seasonality" and len(shape) == 2:
        return ["fourier_degree", "fourier_term"]
    if name == "weekday" and len(shape) == 1:
        return ["weekday"]
    if len(shape) == 1 and shape[0] == estimator.n_media_channels_:
        return ["channel"]
    return [f"{name}_dim_{i}" for i in range(len(shape))]


def to_inference_data(
    estimator,
    *,
    posterior_predictive: bool = False,
    X=None,
    random_state=0,
    log_likelihood: bool = True,
):
    """Export a fitted model's posterior to an ArviZ ``InferenceData``.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    posterior_predictive : bool, default=False
        Add draws of the KPI (``sample_posterior_predictive``): a
        ``posterior_predictive`` group for the training periods, or, when
        ``X`` is given, a ``predictions`` group for the rows of ``X`` (over
        ``new_time``, the index of ``X``).
    X : {array-like, DataFrame}, default=None
        Periods of the posterior predictive draws; None means the training
        periods.
    random_state : int, default=0
        Seed of the noise of the posterior predictive draws.
    log_likelihood : bool, default=True
        Add the ``log_likelihood`` group (``y``: the pointwise
        log-likelihood of each training period, and geo, per draw,
        :meth:`skmmm.fitted.FittedMMM.log_likelihood`), so that
        ``arviz.loo`` and ``arviz.compare`` work.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (dims ``chain``, ``draw`` and named coordinates:
        ``channel``, ``control``, ``fourier_degree``/``fourier_term``,
        ``weekday``), ``sample_stats`` (``diverging`` and any other per-draw
        statistic the estimator stores, when they line up with the draws),
        ``observed_data`` (``y``, the training KPI in its units, over
        ``time``), ``log_likelihood`` (``y``) and optionally
        ``posterior_predictive`` or ``predictions`` (``y``).

    Raises
    ------
    ImportError
        When ArviZ is not installed.

    Notes
    -----
    Draws are split into ``number_chains`` chains when the posterior holds
    ``number_chains * number_samples`` draws; after
    :meth:`~skmmm.BayesianMMMRegressor.reduce_trace` they form one chain and
    ``sample_stats`` is left out.
    """
    try:
        import arviz as az
    except ImportError:
        raise ImportError(
            "to_inference_data needs ArviZ: pip install skmmm[arviz]"
        ) from None
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "posterior_")
    n_draws = next(iter(estimator.posterior_.values())).shape[0]
    n_chains = int(estimator.number_chains)
    if n_chains * int(estimator.number_samples) != n_draws:
        n_chains = 1
    per_chain = n_draws // n_chains

    coords: dict[str, Any] = {
        "channel": list(estimator.media_names_),
        "control": list(estimator.extra_feature_names_),
        "time": estimator.training_data_.index,
    }
    geo = _is_geo_fit(estimator)
    if geo:
        coords["geo"] = list(estimator.geo_names_)
    dims: dict[str, list[str]] = {}
    posterior = {}
    for name, draws in estimator.posterior_.items():
        shape = draws.shape[1:]
        posterior[name] = np.asarray(draws).reshape((n_chains, per_chain) + shape)
        dims[name] = _posterior_dims(estimator, name, shape)
        for dim, size in zip(dims[name], shape, strict=True):
            if dim == "fourier_degree":
                coords[dim] = list(range(1, size + 1))
            elif dim == "fourier_term":
                coords[dim] = ["cos", "sin"][:size] if size <= 2 else list(range(size))
            elif dim == "weekday":
                coords[dim] = list(range(size))

    sample_stats = {}
    for key, value in estimator.sampling_info_.items():
        if isinstance(value, np.ndarray) and value.shape == (n_chains, per_chain):
            sample_stats[key] = value

    observed = {"y": np.asarray(estimator.training_data_.target)}
    dims["y"] = ["time", "geo"] if geo else ["time"]
    # The observations are the training rows X had: a ragged panel's present
    # (date, geo) cells, listed date-major on a "cell" dimension, or the
    # periods fill_missing did not insert.
    present = estimator.fitted_.training_present
    if present is not None and geo:
        observed = {"y": observed["y"][present]}
        dims["y"] = ["cell"]
        coords["cell"] = [
            f"{pd.Timestamp(date).isoformat()}|{name}"
            for date, name in estimator.fitted_.timeline().index
        ]
    elif present is not None:
        observed = {"y": observed["y"][present[:, 0]]}
        coords["time"] = coords["time"][present[:, 0]]
    groups: dict[str, Any] = {}
    if log_likelihood:
        pointwise = estimator.fitted_.log_likelihood()  # (n_draws, n_times, n_geos)
        if present is not None:
            pointwise = pointwise[:, present]
            pointwise = pointwise if geo else pointwise[..., None]
        pointwise = pointwise.reshape((n_chains, per_chain) + pointwise.shape[1:])
        groups["log_likelihood"] = {"y": pointwise if geo else pointwise[..., 0]}
    if posterior_predictive:
        draws = estimator.sample_posterior_predictive(X, random_state=random_state)
        draws = draws.reshape((n_chains, per_chain, draws.shape[1]))
        if geo and X is None and present is None:  # date-major (date, geo) pairs
            draws = draws.reshape(
                draws.shape[:2] + estimator.training_data_.target.shape
            )
        if X is None:
            groups["posterior_predictive"] = {"y": draws}
        else:
            new_time = (
                X.index
                if isinstance(X, pd.DataFrame)
                else np.arange(draws.shape[-1]) + estimator.n_train_periods_
            )
            groups["predictions"] = {"y": draws}
            groups["pred_dims"] = {"y": ["new_time"]}
            # ArviZ 0.23's from_dict applies ``coords`` (not ``pred_coords``)
            # to the predictions group.
            coords["new_time"] = new_time
    return az.from_dict(
        posterior=posterior,
        sample_stats=sample_stats or None,
        observed_data=observed,
        coords=coords,
        dims=dims,
        **groups,
    )
