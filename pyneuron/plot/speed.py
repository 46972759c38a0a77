"""The speed chart: bars of measured timings or speeds, optionally as a percentage of a
reference (NumPy) with the 100 % line drawn, on a log axis that reads as plain numbers."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..validation import check_bool
from ._figure import PathLike, finish, new_figure, plain_number, readable_log_axis

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _speed_rows(data, value):
    if isinstance(data, dict):
        return [{"name": str(k), value: float(v)} for k, v in data.items()]
    if isinstance(data, (list, tuple)) and data and all(isinstance(r, dict) for r in data):
        return [dict(r) for r in data]
    raise TypeError("data: expected a dict {name: value} or a non-empty list of row dicts, "
                    f"got {type(data).__name__}")


def _number(row, value):
    try:
        number = float(row[value])
    except (TypeError, ValueError):
        raise ValueError(f"data: {value!r} must be a number, got {row[value]!r} in {row}") from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"data: {value!r} must be a positive finite number, got {row[value]!r} in {row}")
    return number


def _percent_text(h):
    """A bar's percentage: whole numbers from 10 % up, two significant digits below."""
    if not np.isfinite(h):
        return ""
    return f"{h:.0f} %" if h >= 10 else f"{plain_number(float(f'{h:.2g}'))} %"


def plot_speed(data: Mapping[str, float] | Sequence[Mapping[str, Any]], path: PathLike | None = None,
               value: str = "seconds", label: str = "name", group: str | None = None, log: bool = True,
               title: str = "Speed", xlabel: str | None = None, *, baseline: str | None = None,
               percent_of: str | None = None) -> Figure:
    """A bar chart of measured speeds: the matmul ladder or the backends compared.

    ``data`` is ``{name: value}`` or a list of rows (dicts) such as
    ``{"name": "blocked", "size": 256, "seconds": 0.004}``. ``value`` names the
    number to draw, ``label`` the bar's name; with ``group`` (e.g. ``"size"``)
    bars of the same label are drawn side by side, one colour per group value.
    ``xlabel`` is the value axis' label (default: ``value``).

    Relative speed, in percent, with the reference drawn as a dashed 100 % line:

    * ``baseline="numpy"`` — the values are *times* (lower is faster) and one bar's
      label is the baseline: each bar shows ``100 · t_baseline / t`` (its speed as a
      percentage of the baseline's, in the same group); the baseline's own bars are
      the line.
    * ``percent_of="NumPy"`` — the values already are *fractions* of the named
      reference's speed (as :func:`ladder_rows` gives them): each bar shows ``100 · value``.

    Raises ``ValueError`` for a missing key, a value that is not a positive number, a
    ``baseline`` missing from a group, or both ``baseline`` and ``percent_of``.
    """
    log = check_bool(log, "log")
    if baseline is not None and percent_of is not None:
        raise ValueError(f"baseline and percent_of: give one (times relative to a bar, or fractions of a "
                         f"reference), got baseline={baseline!r} and percent_of={percent_of!r}")
    rows = _speed_rows(data, value)
    for r in rows:
        if label not in r or value not in r:
            raise ValueError(f"data: every row needs {label!r} and {value!r}, got keys {sorted(r)}")
    groups = list(dict.fromkeys(r[group] for r in rows)) if group else [None]

    def cell(name, g):
        match = [_number(r, value) for r in rows if str(r[label]) == name and (group is None or r[group] == g)]
        return match[0] if match else np.nan

    names = list(dict.fromkeys(str(r[label]) for r in rows))
    reference = None
    if baseline is not None:
        reference = str(baseline)
        if reference not in names:
            raise ValueError(f"baseline: expected one of the bars' names {names}, got {baseline!r}")
        base = {g: cell(reference, g) for g in groups}
        missing = [g for g, t in base.items() if np.isnan(t)]
        if missing:
            raise ValueError(f"baseline: {reference!r} has no {value!r} for {group} {missing[0]!r}")
        names = [n for n in names if n != reference]
        heights = {g: [100.0 * base[g] / cell(n, g) for n in names] for g in groups}
    elif percent_of is not None:
        reference = str(percent_of)
        heights = {g: [100.0 * cell(n, g) for n in names] for g in groups}
    else:
        heights = {g: [cell(n, g) for n in names] for g in groups}

    fig = new_figure(max(6, 0.9 * len(names) * max(1, len(groups) / 2)), 4)
    ax = fig.subplots()
    width = 0.8 / len(groups)
    for k, g in enumerate(groups):
        positions = np.arange(len(names)) + (k - (len(groups) - 1) / 2) * width
        bars = ax.bar(positions, heights[g], width=width, label=None if g is None else f"{group} {g}")
        if reference is not None:
            ax.bar_label(bars, labels=[_percent_text(h) for h in heights[g]], fontsize=7, padding=1)
    ax.set_xticks(np.arange(len(names)), names, rotation=20, ha="right")
    if reference is not None:
        ax.axhline(100.0, color="black", linestyle="--", linewidth=1.0, label=f"{reference} = 100 %")
    if log:
        ax.set_yscale("log")
    if reference is not None:
        top = np.nanmax([np.nanmax(h) for h in heights.values()] + [100.0])
        low = np.nanmin([np.nanmin(h) for h in heights.values()] + [100.0])
        ax.set_ylim((low / 2, top * 2) if log else (0, top * 1.15))   # the 100 % line always in view
    if log:
        readable_log_axis(ax.yaxis, suffix=" %" if reference is not None else "")
    ylabel = xlabel or (f"speed, % of {reference}'s (higher is faster)" if reference is not None else value)
    ax.set(title=title, ylabel=ylabel)
    ax.grid(alpha=0.3, axis="y")
    if group or reference is not None:
        ax.legend()
    return finish(fig, path)


def ladder_rows(results: Mapping[tuple[str, int, str], float], dtype: str = "float64") -> list[dict[str, Any]]:
    """Rows for :func:`plot_speed` from the matmul ladder's figures as
    ``pyneuron.bench_report.ladder_section`` returns them
    (``{(dtype, n, rung): fraction of NumPy's speed}``), one dtype at a time:
    ``plot_speed(ladder_rows(results), value="of numpy", group="n", percent_of="NumPy")``."""
    return [{"name": rung, "n": n, "of numpy": float(value)}
            for (dt, n, rung), value in results.items() if dt == dtype]
