"""The lift-test table: its checks and its conversion into model inputs."""

import numpy as np
import pandas as pd
import pytest

from skmmm.lift_tests import (
    NATIONAL,
    lift_test_inputs,
    padded_size,
    validate_lift_tests,
)

DATES = pd.date_range("2022-01-03", periods=20, freq="W-MON")
NAMES = ["tv", "search"]
MEDIA = np.column_stack([np.full(20, 10.0), np.arange(20, dtype=float)])


def _table(**overrides):
    row = {
        "channel": "tv",
        "start": DATES[4],
        "end": DATES[7],
        "delta_spend": 5.0,
        "lift": 100.0,
        "lift_sd": 10.0,
    }
    row.update(overrides)
    return pd.DataFrame([row])


def _validate(table, media=MEDIA, index=DATES, geo_names=None):
    return validate_lift_tests(
        table, index=index, media_names=NAMES, media=media, geo_names=geo_names
    )


def test_valid_table_gives_positions():
    table = pd.concat(
        [_table(), _table(channel="search", start="2022-01-03", measure_end=DATES[9])],
        ignore_index=True,
    )
    tests = _validate(table)
    assert tests.channel.tolist() == [0, 1]
    assert tests.start.tolist() == [4, 0]
    assert tests.end.tolist() == [7, 7]
    assert tests.measure_end.tolist() == [7, 9]  # default end; a missing value too
    assert tests.geo.tolist() == [NATIONAL, NATIONAL]
    assert tests.lift_sd.tolist() == [10.0, 10.0]


def test_undated_data_take_period_positions():
    tests = _validate(_table(start=2, end=3.0), index=pd.RangeIndex(20))
    assert (tests.start[0], tests.end[0]) == (2, 3)
    with pytest.raises(ValueError, match=r"row 0, column 'end'.*outside.*0 to 19"):
        _validate(_table(start=2, end=25), index=pd.RangeIndex(20))
    with pytest.raises(ValueError, match="period position"):
        _validate(_table(start=2.5, end=3), index=pd.RangeIndex(20))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channel": "radio"}, r"row 0, column 'channel'.*unknown channel 'radio'"),
        ({"start": "2021-06-07"}, r"row 0, column 'start'.*outside the training"),
        ({"end": "2022-01-05"}, r"column 'end'.*not one of the training periods"),
        ({"end": DATES[2]}, r"row 0: 'end' is before 'start'"),
        ({"measure_end": DATES[5]}, r"row 0: 'measure_end' is before 'end'"),
        ({"lift_sd": 0.0}, r"row 0, column 'lift_sd'.*not positive"),
        ({"lift_sd": -1.0}, r"row 0, column 'lift_sd'.*not positive"),
        ({"lift": np.nan}, r"row 0, column 'lift'.*finite"),
        ({"delta_spend": np.nan}, r"row 0, column 'delta_spend'.*finite"),
        ({"start": pd.NaT}, r"row 0, column 'start' is missing"),
        ({"start": "soon"}, r"row 0, column 'start': 'soon' is not a date\."),
        ({"delta_spend": -11.0}, r"column 'delta_spend'.*'tv''s media negative"),
        ({"delta_spend": 0}, r"column 'delta_spend'.*changes nothing"),
        ({"lift": "big"}, r"column 'lift'.*expected a number"),
        ({"start": 3}, r"column 'start'.*give a date"),
    ],
)
def test_bad_rows_name_the_row_and_column(overrides, message):
    with pytest.raises(ValueError, match=message):
        _validate(_table(**overrides))


def test_errors_name_the_index_label_and_the_bad_row():
    table = pd.concat([_table(), _table(lift_sd=0.0)])
    table.index = ["tv_q1", "tv_q2"]
    with pytest.raises(ValueError, match=r"row 1 \(index label 'tv_q2'\)"):
        _validate(table)


def test_a_holdout_may_remove_all_spend_of_its_smallest_period():
    # search spends 4..7 in periods 4..7: a holdout of -4 is the most it can take
    _validate(_table(channel="search", delta_spend=-4.0))
    with pytest.raises(ValueError, match="negative in period 4"):
        _validate(_table(channel="search", delta_spend=-4.5))


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        _validate({"channel": ["tv"]})
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['lift_sd'\]"):
        _validate(_table().drop(columns="lift_sd"))
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['liftsd'\]"):
        _validate(_table(liftsd=1.0))
    with pytest.raises(ValueError, match="no rows"):
        _validate(_table().iloc[:0])
    with pytest.raises(ValueError, match="'geo' column but the model is national"):
        _validate(_table(geo="north"))


def test_geo_tests_name_known_geos_and_split_national_tests():
    geo_media = np.stack([MEDIA, 3 * MEDIA], axis=2)  # (20, 2, 2)
    geos = ["north", "south"]
    table = pd.concat(
        [_table(geo="south"), _table(geo=None), _table(geo=np.nan)], ignore_index=True
    )
    tests = _validate(table, media=geo_media, geo_names=geos)
    assert tests.geo.tolist() == [1, NATIONAL, NATIONAL]
    with pytest.raises(ValueError, match=r"row 0, column 'geo'.*unknown geo 'east'"):
        _validate(_table(geo="east"), media=geo_media, geo_names=geos)
    # a national holdout is split by spend share: -30 takes -7.5 and -22.5
    _validate(_table(delta_spend=-30.0), media=geo_media, geo_names=geos)
    with pytest.raises(ValueError, match="in geo 'north'"):
        _validate(_table(delta_spend=-41.0), media=geo_media, geo_names=geos)


def test_inputs_are_on_the_internal_scale_and_padded():
    table = pd.concat(
        [_table(measure_end=DATES[9]), _table(channel="search")], ignore_index=True
    )
    tests = _validate(table)
    scale = MEDIA.mean(axis=0)
    inputs = lift_test_inputs(
        tests, media=MEDIA, media_scale=scale, target_scale=np.array(50.0)
    )
    assert inputs.delta.shape == (4, 20, 1) and inputs.window.shape == (4, 20)
    np.testing.assert_allclose(inputs.delta[0, 4:8, 0], 5.0 / scale[0])
    assert inputs.delta[0, :4].sum() == 0 and inputs.delta[0, 8:].sum() == 0
    np.testing.assert_array_equal(
        inputs.window[0], (np.arange(20) >= 4) * 1.0 * (np.arange(20) <= 9)
    )
    np.testing.assert_allclose(inputs.lift[:2], 100.0 / 50.0)
    np.testing.assert_allclose(inputs.lift_sd[:2], 10.0 / 50.0)
    np.testing.assert_array_equal(inputs.valid, [1, 1, 0, 0])
    np.testing.assert_array_equal(inputs.channel[:2], [0, 1])
    assert inputs.delta[2:].sum() == 0 and np.all(inputs.lift_sd[2:] > 0)


def test_geo_inputs_weigh_each_geo_by_its_kpi_scale():
    geo_media = np.stack([MEDIA, 3 * MEDIA], axis=2)
    geos = ["north", "south"]
    table = pd.concat([_table(geo="south"), _table()], ignore_index=True)
    tests = _validate(table, media=geo_media, geo_names=geos)
    kpi = np.array([10.0, 30.0])
    inputs = lift_test_inputs(
        tests, media=geo_media, media_scale=geo_media.mean(axis=0), target_scale=kpi
    )
    # the geo test: that geo only, on its own KPI scale
    np.testing.assert_allclose(inputs.weights[0], [0, 1])
    assert inputs.kpi_scale[0] == 30.0 and inputs.delta[0, :, 0].sum() == 0
    # the national test: split by spend share (1:3), on the geos' mean KPI scale
    np.testing.assert_allclose(inputs.weights[1], kpi / 20.0)
    np.testing.assert_allclose(
        inputs.delta[1, 4, :] * geo_media.mean(axis=0)[0], [1.25, 3.75]
    )


@pytest.mark.parametrize(("n", "size"), [(1, 4), (4, 4), (5, 8), (9, 16)])
def test_padded_size_is_a_power_of_two(n, size):
    assert padded_size(n) == size


def test_a_holdout_switches_the_channels_spend_off():
    media = MEDIA.copy()
    media[:3, 1] = 0.0  # search spent nothing in the first three weeks
    tests = _validate(_table(channel="search", delta_spend="holdout"), media=media)
    assert tests.holdout.tolist() == [True] and np.isnan(tests.delta_spend[0])
    scale = np.array([10.0, 5.0])
    inputs = lift_test_inputs(
        tests, media=media, media_scale=scale, target_scale=np.array(2.0)
    )
    np.testing.assert_allclose(inputs.delta[0, 4:8, 0], -media[4:8, 1] / 5.0)
    assert not inputs.delta[0, :4].any() and not inputs.delta[0, 8:].any()
    assert _validate(_table(delta_spend=" Holdout ")).holdout.tolist() == [True]
    with pytest.raises(ValueError, match="switches off no spend"):
        _validate(
            _table(
                channel="search", start=DATES[0], end=DATES[2], delta_spend="holdout"
            ),
            media=media,
        )
    with pytest.raises(ValueError, match="column 'delta_spend': expected a number"):
        _validate(_table(delta_spend="off"))
