"""pyneuron.plot.speed read back from the artists (issue 15 item 10: the mutation run of
pyneuron/plot/speed.py): bar heights, positions and widths per group computed by hand, the
percentages of a baseline and of a reference with their labels and 100 % line, the axis
limits on log and linear scales, the refusals, and ladder_rows' filter."""
import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from pyneuron.plot import ladder_rows, plot_speed          # noqa: E402
from pyneuron.plot.speed import _percent_text              # noqa: E402


def _bars(ax):
    return [(p.get_x() + p.get_width() / 2, p.get_height(), p.get_width()) for p in ax.patches]


def _labels(ax):
    return [t.get_text() for t in ax.texts]


def test_plain_dict_linear_scale():
    fig = plot_speed({"a": 2.0, "b": 0.5}, log=False, title="T")
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == (6.0, 4.0)
    assert _bars(ax) == [(0.0, 2.0, 0.8), (1.0, 0.5, 0.8)]
    assert ax.get_yscale() == "linear" and ax.get_legend() is None and len(ax.texts) == 0
    assert (ax.get_title(), ax.get_ylabel()) == ("T", "seconds")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert all(t.get_rotation() == 20 and t.get_ha() == "right" for t in ax.get_xticklabels())
    assert {line.get_alpha() for line in ax.yaxis.get_gridlines()} == {0.3}
    assert not any(line.get_visible() for line in ax.xaxis.get_gridlines())
    assert len(ax.get_lines()) == 0


def test_default_is_log_with_plain_labels():
    ax = plot_speed({"a": 0.02, "b": 0.5}).axes[0]
    assert ax.get_yscale() == "log"
    assert ax.yaxis.get_major_formatter()(0.05, 0) == "0.05"


def test_groups_side_by_side_with_a_legend():
    rows = [{"name": "x", "n": 1, "seconds": 1.0}, {"name": "y", "n": 1, "seconds": 2.0},
            {"name": "x", "n": 2, "seconds": 3.0}, {"name": "z", "n": 2, "seconds": 4.0}]
    fig = plot_speed(rows, group="n", log=False, xlabel="time")
    ax = fig.axes[0]
    # 3 names, 2 groups: width 0.4, group k shifted by (k - 0.5) * 0.4; absent cells are NaN bars
    assert tuple(fig.get_size_inches()) == pytest.approx((max(6, 0.9 * 3 * 1), 4.0))
    got = _bars(ax)
    expected = [(-0.2, 1.0), (0.8, 2.0), (1.8, math.nan), (0.2, 3.0), (1.2, math.nan), (2.2, 4.0)]
    assert len(got) == 6
    for (x, h, w), (ex, eh) in zip(got, expected):
        assert x == pytest.approx(ex) and w == pytest.approx(0.4)
        assert (math.isnan(h) and math.isnan(eh)) or h == eh
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["n 1", "n 2"]
    assert ax.get_ylabel() == "time"


def test_many_groups_widen_the_figure():
    rows = [{"name": name, "g": g, "seconds": 1.0} for name in "abcdefgh" for g in range(4)]
    fig = plot_speed(rows, group="g")
    assert tuple(fig.get_size_inches()) == pytest.approx((0.9 * 8 * 2, 4.0))
    assert _bars(fig.axes[0])[0][2] == pytest.approx(0.2)


def test_baseline_gives_percent_of_its_speed():
    rows = [{"name": "numpy", "seconds": 2.0}, {"name": "c", "seconds": 0.5}, {"name": "scalar", "seconds": 40.0}]
    fig = plot_speed(rows, baseline="numpy")
    ax = fig.axes[0]
    assert [h for _, h, _ in _bars(ax)] == [400.0, 5.0]          # 100 * 2 / 0.5, 100 * 2 / 40
    assert [t.get_text() for t in ax.get_xticklabels()] == ["c", "scalar"]
    assert _labels(ax) == ["400 %", "5 %"] and all(t.get_fontsize() == 7 for t in ax.texts)
    (line,) = ax.get_lines()
    assert list(line.get_ydata()) == [100.0, 100.0] and line.get_linestyle() == "--"
    assert line.get_color() == "black" and line.get_linewidth() == 1.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["numpy = 100 %"]
    assert ax.get_ylim() == pytest.approx((2.5, 800.0))
    assert ax.get_ylabel() == "speed, % of numpy's (higher is faster)"
    assert ax.yaxis.get_major_formatter()(50, 0) == "50 %"


def test_percent_of_a_reference_linear():
    ax = plot_speed({"naive": 0.25, "blocked": 0.5}, percent_of="NumPy", log=False).axes[0]
    assert [h for _, h, _ in _bars(ax)] == [25.0, 50.0]
    assert _labels(ax) == ["25 %", "50 %"]
    assert ax.get_ylim() == pytest.approx((0.0, 115.0))           # the 100 % line in view
    ax = plot_speed({"fast": 3.0}, percent_of="NumPy", log=False).axes[0]
    assert ax.get_ylim() == pytest.approx((0.0, 345.0))


@pytest.mark.parametrize("h, text", [(math.nan, ""), (250.4, "250 %"), (10.0, "10 %"), (9.96, "10 %"),
                                     (5.0, "5 %"), (0.123, "0.12 %"), (0.0456, "0.046 %")])
def test_percent_text(h, text):
    assert _percent_text(h) == text


@pytest.mark.parametrize("data, kw, error, message", [
    ({"a": 1.0}, {"baseline": "a", "percent_of": "a"}, ValueError, r"^baseline and percent_of: give one"),
    ([], {}, TypeError, r"^data: expected a dict \{name: value\} or a non-empty list of row dicts, got list$"),
    ([{"name": "a", "seconds": 1.0}, 3], {}, TypeError, r"got list$"),
    ("a", {}, TypeError, r"got str$"),
    ([{"name": "a"}], {}, ValueError, r"^data: every row needs 'name' and 'seconds', got keys \['name'\]$"),
    ([{"seconds": 1.0}], {}, ValueError, r"^data: every row needs 'name' and 'seconds'"),
    ({"a": 0.0}, {}, ValueError, r"^data: 'seconds' must be a positive finite number, got 0.0"),
    ({"a": -1.0}, {}, ValueError, r"must be a positive finite number"),
    ({"a": math.inf}, {}, ValueError, r"must be a positive finite number"),
    ([{"name": "a", "seconds": "fast"}], {}, ValueError, r"^data: 'seconds' must be a number, got 'fast'"),
    ({"a": 1.0}, {"baseline": "b"}, ValueError, r"^baseline: expected one of the bars' names \['a'\], got 'b'$"),
    ([{"name": "a", "n": 1, "seconds": 1.0}, {"name": "b", "n": 2, "seconds": 1.0}], {"baseline": "a", "group": "n"},
     ValueError, r"^baseline: 'a' has no 'seconds' for n 2$"),
])
def test_refusals(data, kw, error, message):
    with pytest.raises(error, match=message):
        plot_speed(data, **kw)


def test_ladder_rows_keep_one_dtype():
    results = {("float64", 64, "naive"): 0.5, ("float32", 64, "naive"): 0.25, ("float64", 128, "blocked"): 2}
    assert ladder_rows(results) == [{"name": "naive", "n": 64, "of numpy": 0.5},
                                    {"name": "blocked", "n": 128, "of numpy": 2.0}]
    assert ladder_rows(results, "float32") == [{"name": "naive", "n": 64, "of numpy": 0.25}]


def test_many_names_in_one_group_widen_the_figure_by_name():
    fig = plot_speed({name: 1.0 for name in "abcdefgh"})
    assert tuple(fig.get_size_inches()) == pytest.approx((0.9 * 8, 4.0))


def test_bar_labels_sit_one_point_above_their_bars():
    ax = plot_speed({"a": 0.5}, percent_of="NumPy").axes[0]
    assert tuple(ax.texts[0].xyann) == (0, 1)


def test_all_bars_above_100_percent_keep_the_line_in_view():
    ax = plot_speed({"fast": 3.0, "faster": 6.0}, percent_of="NumPy").axes[0]
    assert ax.get_ylim() == pytest.approx((50.0, 1200.0))        # low = the 100 % line
