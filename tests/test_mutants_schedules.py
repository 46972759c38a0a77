"""Every schedule's formula, default and argument check, on both sides of each branch
(issue 15 item 10: the mutation run of pyneuron/schedules.py). Expected values are the
table in the module's docstring written out with math, by hand."""
import math

import pytest

from pyneuron.schedules import (Constant, CosineDecay, ExponentialDecay, InverseTimeDecay, Schedule,
                                StepDecay)


def test_defaults_are_the_documented_ones():
    assert Constant().per == "epoch"
    assert InverseTimeDecay().decay == 0.01
    s = StepDecay()
    assert (s.step_size, s.gamma) == (10, 0.5)
    assert ExponentialDecay().gamma == 0.99
    c = CosineDecay()
    assert (c.total, c.min_lr) == (100, 0.0)
    # the defaults in use: values from the formulas by hand
    assert InverseTimeDecay()(1.0, 100) == pytest.approx(0.5)
    assert StepDecay()(1.0, 9) == 1.0 and StepDecay()(1.0, 10) == 0.5
    assert ExponentialDecay()(2.0, 2) == pytest.approx(2.0 * 0.9801)
    assert CosineDecay()(1.0, 50) == pytest.approx(0.5)
    assert CosineDecay()(1.0, 100) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("per", ["epoch", "step"])
def test_per_is_kept_and_anything_else_refused(per):
    for cls in (Constant, InverseTimeDecay, StepDecay, ExponentialDecay, CosineDecay):
        assert cls(per=per).per == per
        with pytest.raises(ValueError, match="per: expected one of 'epoch', 'step', got 'batch'"):
            cls(per="batch")


def test_the_base_class_has_no_formula():
    with pytest.raises(NotImplementedError):
        Schedule()(0.1, 0)


def test_constant():
    assert Constant()(0.3, 0) == 0.3 and Constant()(0.3, 1000) == 0.3


@pytest.mark.parametrize("k", [0, 1, 3, 50])
def test_inverse_time_decay(k):
    assert InverseTimeDecay(decay=0.25)(2.0, k) == pytest.approx(2.0 / (1 + 0.25 * k), rel=1e-15)


def test_inverse_time_decay_bounds():
    assert InverseTimeDecay(decay=0.0)(0.7, 99) == 0.7          # 0 is allowed: no decay
    assert InverseTimeDecay(decay=0.5).decay == 0.5              # below 1 is allowed
    with pytest.raises(ValueError, match="decay: expected a number >= 0.0, got -0.1"):
        InverseTimeDecay(decay=-0.1)


@pytest.mark.parametrize("k, factor", [(0, 1), (2, 1), (3, 0.2), (5, 0.2), (6, 0.04), (7, 0.04)])
def test_step_decay(k, factor):
    assert StepDecay(step_size=3, gamma=0.2)(1.5, k) == pytest.approx(1.5 * factor, rel=1e-14)


def test_step_decay_bounds():
    assert StepDecay(step_size=1, gamma=0.5)(1.0, 2) == 0.25     # step_size 1 is allowed
    assert StepDecay(gamma=0.001).gamma == 0.001                 # a tiny positive gamma is allowed
    with pytest.raises(ValueError, match="step_size: expected an integer >= 1, got 0"):
        StepDecay(step_size=0)
    with pytest.raises(ValueError, match=r"gamma: expected a number > 0.0, got 0"):
        StepDecay(gamma=0)
    with pytest.raises(ValueError, match=r"gamma: expected a number > 0.0, got -0.5"):
        StepDecay(gamma=-0.5)


@pytest.mark.parametrize("k", [0, 1, 2, 7])
def test_exponential_decay(k):
    assert ExponentialDecay(gamma=0.5)(3.0, k) == 3.0 / 2 ** k


def test_exponential_decay_bounds():
    assert ExponentialDecay(gamma=0.001).gamma == 0.001
    with pytest.raises(ValueError, match=r"gamma: expected a number > 0.0, got 0"):
        ExponentialDecay(gamma=0)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, 5, 9])
def test_cosine_decay(k):
    lr0, low, total = 1.0, 0.2, 4
    progress = min(k, total) / total
    expected = low + (lr0 - low) * (1 + math.cos(math.pi * progress)) / 2
    assert CosineDecay(total=total, min_lr=low)(lr0, k) == pytest.approx(expected, rel=1e-14, abs=1e-15)


def test_cosine_decay_by_hand():
    c = CosineDecay(total=4, min_lr=0.2)
    assert c(1.0, 0) == pytest.approx(1.0)
    assert c(1.0, 1) == pytest.approx(0.2 + 0.8 * (1 + math.sqrt(0.5)) / 2)
    assert c(1.0, 2) == pytest.approx(0.6)
    assert c(1.0, 4) == pytest.approx(0.2) and c(1.0, 40) == pytest.approx(0.2)   # held at min_lr after total


def test_cosine_decay_bounds():
    assert CosineDecay(total=1)(1.0, 1) == pytest.approx(0.0, abs=1e-15)   # total 1 is allowed
    assert CosineDecay(min_lr=0.5).min_lr == 0.5
    with pytest.raises(ValueError, match="total: expected an integer >= 1, got 0"):
        CosineDecay(total=0)
    with pytest.raises(ValueError, match="min_lr: expected a number >= 0.0, got -0.1"):
        CosineDecay(min_lr=-0.1)


def test_repr_names_the_settings():
    assert repr(StepDecay(step_size=3, gamma=0.2)) == "StepDecay(per='epoch', step_size=3, gamma=0.2)"
