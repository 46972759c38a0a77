"""``pn.plot`` is reachable right after ``import pyneuron as pn`` — with or without
matplotlib (importing the plot package needs none; calling a plot function does)."""
import os
import subprocess
import sys

import pytest

PROGRAM = """
import sys
if {block}:
    sys.modules["matplotlib"] = None          # as if matplotlib were not installed
import pyneuron as pn
names = sorted(n for n in pn.plot.__all__ if n.startswith("plot_"))
print(",".join(names))
try:
    pn.plot.plot_activations()
    print("drawn")
except ImportError as error:
    print("refused:", error)
"""

PLOTS = "plot_activations,plot_curves,plot_decision_boundary,plot_history,plot_network,plot_speed," \
        "plot_weight_histograms"


@pytest.mark.parametrize("block", [False, True])
def test_pn_plot_after_import_pyneuron(block):
    if not block:
        pytest.importorskip("matplotlib")
    proc = subprocess.run([sys.executable, "-c", PROGRAM.format(block=block)], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode == 0, proc.stderr
    listed, outcome = proc.stdout.strip().splitlines()
    assert listed == PLOTS
    if block:
        assert outcome.startswith("refused:") and "pip install" in outcome
    else:
        assert outcome == "drawn"
