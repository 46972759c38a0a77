"""pyneuron._slope on its own (issue 15 item 10: the mutation run of pyneuron/_slope.py):
the default slope, each name on both sides (given / not given), the lower bound 0 for each
name, the both-names error, and the warnings attributed to the caller's line."""
import warnings

import pytest

from pyneuron._slope import DEFAULT_NEGATIVE_SLOPE, slope_argument, warn_alpha_attribute


def _wrapper(**kw):
    """Stands for a public entry point (MLP, Neuron, ...) that calls slope_argument:
    the default stacklevel 3 must name the line that called this wrapper."""
    return slope_argument("Owner", kw.get("negative_slope"), kw.get("alpha"))


def test_default_is_torchs_001():
    assert DEFAULT_NEGATIVE_SLOPE == 0.01
    assert slope_argument("Owner", None, None) == 0.01
    assert slope_argument("Owner", None, None, default=0.25) == 0.25


@pytest.mark.parametrize("value", [0.0, 0.2, 3])
def test_negative_slope_given_is_used_and_silent(value):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = slope_argument("Owner", value, None, default=0.7)
    assert got == float(value) and type(got) is float


@pytest.mark.parametrize("name", ["negative_slope", "alpha"])
def test_zero_is_allowed_and_below_zero_refused_under_its_own_name(name):
    args = {"negative_slope": None, "alpha": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        args[name] = 0.0
        assert slope_argument("Owner", **args) == 0.0
        args[name] = 0.5
        assert slope_argument("Owner", **args) == 0.5
        args[name] = -0.1
        with pytest.raises(ValueError, match=rf"^{name}: expected a number >= 0.0, got -0.1"):
            slope_argument("Owner", **args)


def test_alpha_warns_at_the_callers_line_and_is_used():
    with pytest.warns(DeprecationWarning, match=r"^Owner\(alpha=\.\.\.\) is deprecated.*negative_slope") as rec:
        line = _line() + 1
        got = _wrapper(alpha=0.3)
    assert got == 0.3
    assert len(rec) == 1
    assert rec[0].filename == __file__ and rec[0].lineno == line


def test_stacklevel_counts_from_slope_argument():
    with pytest.warns(DeprecationWarning) as rec:
        slope_argument("Owner", None, 0.3, stacklevel=1)   # 1 = slope_argument's own line
    assert rec[0].filename.endswith("_slope.py")
    with pytest.warns(DeprecationWarning) as rec:
        line = _line() + 1
        slope_argument("Owner", None, 0.3, stacklevel=2)        # 2 = this line, its caller
    assert rec[0].filename == __file__ and rec[0].lineno == line


def test_both_names_is_an_error_naming_both():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^negative_slope and alpha: give only negative_slope .*"
                                             r"got negative_slope=0.2 and alpha=0.3$"):
            slope_argument("Owner", 0.2, 0.3)
        # both given, even an equal value, is refused (not silently taken)
        with pytest.raises(ValueError, match="give only negative_slope"):
            slope_argument("Owner", 0.0, 0.0)


def test_attribute_warning_is_attributed_to_the_reader():
    class Owner:
        @property
        def alpha(self):
            warn_alpha_attribute("Owner")
            return 1.0

    with pytest.warns(DeprecationWarning, match=r"^Owner\.alpha is deprecated.*Owner\.negative_slope") as rec:
        line = _line() + 1
        Owner().alpha
    assert len(rec) == 1 and rec[0].filename == __file__ and rec[0].lineno == line


def _line():
    import inspect
    return inspect.currentframe().f_back.f_lineno
