"""What every plot shares: the matplotlib check with its install hint, the ``Figure``
class (built without pyplot, displayed in notebooks), the colours, and readable log axes."""
from __future__ import annotations

import io
import math
import os
from typing import Union

#: Where a figure may be saved: a file name or path.
PathLike = Union[str, "os.PathLike[str]"]

INSTALL_HINT = 'plotting needs matplotlib: pip install matplotlib (or, from the checkout, pip install ".[plot]")'

#: Colours used throughout: positive / negative weights.
POSITIVE, NEGATIVE = "#1f77b4", "#d62728"

#: How opaque a decision region is: the class's own colour, lighter, so the points stay visible.
REGION_ALPHA = 0.35


def require_matplotlib():
    """Raise ``ImportError`` with the install hint unless matplotlib can be imported
    (the command line calls it before training, so a missing extra costs no run)."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise ImportError(INSTALL_HINT) from None


_FIGURE_CLASS = None


def figure_class():
    """matplotlib's ``Figure`` with a PNG rich display, so a figure that is a
    notebook cell's last value is drawn (no ``%matplotlib inline`` needed):
    these figures are built without pyplot, so no backend hook would show them."""
    global _FIGURE_CLASS
    require_matplotlib()            # every call: matplotlib may have gone since the class was made
    if _FIGURE_CLASS is None:
        from matplotlib.figure import Figure as _Base

        class Figure(_Base):
            """A matplotlib ``Figure`` that Jupyter displays as a PNG."""

            def _repr_png_(self):
                buffer = io.BytesIO()
                self.savefig(buffer, format="png")
                return buffer.getvalue()

        Figure.__module__, Figure.__qualname__ = __name__, "Figure"
        globals()["Figure"] = _FIGURE_CLASS = Figure    # importable by name, so figures pickle
    return _FIGURE_CLASS


def new_figure(width, height):
    """A figure of ``width`` × ``height`` inches at 100 dpi with constrained layout
    (titles, tick labels and legends are placed so they do not overlap), on matplotlib's
    Agg canvas, so ``fig.canvas.draw()`` lays it out and ``fig.canvas.buffer_rgba()``
    gives its pixels without pyplot or a display."""
    fig = figure_class()(figsize=(width, height), dpi=100, layout="constrained")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    return fig


def finish(fig, path):
    """Save ``fig`` as a PNG at ``path`` (if given) and return it."""
    if path is not None:
        fig.savefig(path, format="png")
    return fig


def class_colours(n):
    """``n`` distinct colours (RGBA tuples), one per class, in class order: matplotlib's
    ``tab10`` (up to 10 classes), ``tab20`` (up to 20), else evenly spaced over ``turbo``."""
    from matplotlib import colormaps
    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    return [colormaps["turbo"](i / (n - 1)) for i in range(n)]


def plain_number(value):
    """A tick label without powers of ten: 0.001, 0.5, 20, 1e+06 only beyond 10⁵."""
    if value == 0:
        return "0"
    return f"{value:g}" if 1e-4 <= abs(value) < 1e6 else f"{value:.0e}"


def readable_log_axis(axis, suffix=""):
    """A log axis whose ticks read as plain numbers (``0.01``, ``0.2``, ``5``, with
    ``suffix`` such as ``" %"``) instead of powers of ten, labelled at 1, 2 and 5 per
    decade when the data span up to three decades (so a narrow range still shows
    labelled ticks) and at the powers of ten beyond that."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    low, high = sorted(axis.get_view_interval())
    decades = math.log10(high / low) if low > 0 and high > 0 else math.inf
    subs = (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: plain_number(v) + suffix))
    axis.set_minor_formatter(NullFormatter())
