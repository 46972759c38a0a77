"""What a trace costs when it is off (issue 12: "< 5 % on the fused C path").

With no trace recording, the only trace code a run meets is one test in
``pyneuron.backends.get`` (``_wrap is None``) per backend lookup. Each benchmark fits
``MLP([8, 32, 1])`` on 256 rows (batches of 32) on the fused C plan, once with
``backends.get`` as it is and once with :func:`pyneuron.trace.get_without_hook` (the same
lookup without the test) in its place; both are in one group, so the ratio of their means
is the cost. Figures::

    pytest bench/test_bench_trace.py --benchmark-enable --benchmark-only
    python -c "from pyneuron.trace import overhead; print(overhead(repeats=51))"

(the second: process CPU time, the two interleaved, medians). In the default suite run
each benchmark runs once, as a plain test, on a few epochs.
"""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron import backends
from pyneuron.trace import get_without_hook

EPOCHS = 100


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 8))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("lookup", ["with the trace hook", "without the hook"])
def test_fused_c_fit_with_tracing_off(benchmark, c_backend, monkeypatch, data, lookup):
    if lookup == "without the hook":
        monkeypatch.setattr(backends, "get", get_without_hook)
    X, y = data
    benchmark.group = "trace off: fused c fit, MLP([8, 32, 1]), 256 rows"

    def fit():
        model = pn.MLP([8, 32, 1], seed=0, backend="c")
        return model.fit(X, y, epochs=EPOCHS, batch_size=32, lr=0.1)

    history = benchmark(fit)
    assert len(history["loss"]) == EPOCHS
    assert backends._wrap is None                      # no trace was recording


def test_the_lookups_agree():
    """The baseline is the same lookup: it returns the very object ``get`` does, unwrapped."""
    for name in pn.available_backends():
        assert get_without_hook(name) is backends.get(name)
    with pytest.raises(ValueError, match="backend: expected one of"):
        get_without_hook("gpu")
