"""Pictures of what a network does: training curves, decision boundaries,
activations, weight and gradient histograms, the network as a diagram, and
the speed chart.

Needs matplotlib (``pip install matplotlib``, or ``pip install ".[plot]"`` from the
checkout); importing this package does not, only calling a plot function does. Every
function builds a :class:`matplotlib.figure.Figure` directly (no pyplot, so it works
without a display and leaves no global state), returns it, and with ``path=`` also saves
it as a PNG. The models may be :class:`pyneuron.MLP` or fitted :mod:`pyneuron.sklearn`
estimators, the labels numbers or strings.

One module per kind of picture: :mod:`.curves` (history, curves, activations),
:mod:`.boundary`, :mod:`.network` (diagram, weight histograms), :mod:`.speed`; what
they share is in ``_figure`` and ``_models``.
"""
from ._figure import INSTALL_HINT, NEGATIVE, POSITIVE, require_matplotlib
from .boundary import plot_decision_boundary
from .curves import plot_activations, plot_curves, plot_history
from .network import plot_network, plot_weight_histograms
from .speed import ladder_rows, plot_speed

__all__ = ["plot_history", "plot_curves", "plot_decision_boundary", "plot_activations",
           "plot_weight_histograms", "plot_network", "plot_speed", "ladder_rows", "INSTALL_HINT",
           "require_matplotlib"]
