"""The inference-unit scaling rule (`serving.scaling.Scaler`): within Min..Max, up only after sustained
demand, down one unit at a time after a sustained lull, never below Min; no Max means exactly Min."""

from __future__ import annotations

import pytest

from openrek.serving.scaling import Scaler, ScalingPolicy

POLICY = ScalingPolicy(target_ongoing=2, upscale_after_s=1.0, downscale_after_s=10.0)


def test_demand_must_last_before_units_are_added_and_max_bounds_them() -> None:
    scaler = Scaler(min_units=1, max_units=3, policy=POLICY)
    assert scaler.decide(0.0, current=1, ongoing=16) == 1  # a burst is not yet a trend
    assert scaler.decide(0.5, current=1, ongoing=16) == 1
    assert scaler.decide(1.0, current=1, ongoing=16) == 3  # sustained for 1 s: ceil(16/2)=8, kept to Max
    assert scaler.decide(5.0, current=3, ongoing=16) == 3


def test_a_break_in_demand_restarts_the_clock() -> None:
    scaler = Scaler(min_units=1, max_units=2, policy=POLICY)
    assert scaler.decide(0.0, current=1, ongoing=4) == 1
    assert scaler.decide(0.9, current=1, ongoing=1) == 1  # back within one unit's share
    assert scaler.decide(1.5, current=1, ongoing=4) == 1
    assert scaler.decide(2.5, current=1, ongoing=4) == 2


def test_idle_units_go_one_at_a_time_and_never_below_min() -> None:
    scaler = Scaler(min_units=2, max_units=4, policy=POLICY)
    assert scaler.decide(0.0, current=4, ongoing=0) == 4
    assert scaler.decide(10.0, current=4, ongoing=0) == 3
    assert scaler.decide(15.0, current=3, ongoing=0) == 3  # the next step waits a full delay
    assert scaler.decide(20.0, current=3, ongoing=0) == 2
    assert scaler.decide(99.0, current=2, ongoing=0) == 2


def test_without_max_the_model_keeps_min_units() -> None:
    scaler = Scaler(min_units=2, max_units=0, policy=POLICY)
    assert scaler.decide(0.0, current=2, ongoing=100) == 2
    assert scaler.decide(60.0, current=2, ongoing=100) == 2


def test_a_lost_unit_is_replaced_up_to_min() -> None:
    scaler = Scaler(min_units=2, max_units=2, policy=POLICY)
    assert scaler.decide(0.0, current=1, ongoing=0) == 1
    assert scaler.decide(1.0, current=1, ongoing=0) == 2


def test_a_policy_that_cannot_work_is_refused() -> None:
    with pytest.raises(ValueError, match="TARGET_ONGOING"):
        ScalingPolicy(target_ongoing=0)
