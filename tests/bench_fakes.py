"""Stand-ins for the benchmark report's tests (tests/test_mutants_bench_*.py): a PyTorch
whose networks, optimizers and losses are recorded as the benchmark builds and calls them,
and figures with given medians, so what the report builds and prints is checked without
timing anything."""
import sys
import types

import pytest

from pyneuron import backends
from pyneuron.bench_common import Figure


def figure(*micro):
    """A Figure from rounds given in µs."""
    return Figure([m * 1e-6 for m in micro])


def fake_c_backend(monkeypatch):
    """An empty module standing in for the compiled ``pyneuron.backends.c_backend`` (the
    benchmark imports it by name inside each section), so these tests need no C build:
    the caller gives it the functions a test needs."""
    fake = types.ModuleType("pyneuron.backends.c_backend")
    monkeypatch.setitem(sys.modules, "pyneuron.backends.c_backend", fake)
    monkeypatch.setattr(backends, "c_backend", fake, raising=False)
    return fake


def record_torch(monkeypatch, request):
    """``(torch, rec)``: from now on every ``torch.nn.Sequential`` built is appended to
    ``rec["nets"]`` (its parameters as built in ``rec["initial"]``), every ``torch.optim.Adam``
    or ``SGD`` to ``rec["opts"]`` as ``(name, keyword arguments)``, every call of
    ``binary_cross_entropy_with_logits`` or ``cross_entropy`` to ``rec["losses"]`` as
    ``(name, output shape, output dtype, target shape, target dtype)``. Torch's thread count
    is set to 2 (so setting it to 1 shows) and restored afterwards. Skips without torch."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    request.addfinalizer(lambda: torch.set_num_threads(threads))
    rec = {"nets": [], "opts": [], "losses": []}

    class Sequential(torch.nn.Sequential):
        def __init__(self, *layers):
            super().__init__(*layers)
            rec["nets"].append(self)
            rec["initial"] = [p.detach().clone() for p in self.parameters()]
    monkeypatch.setattr(torch.nn, "Sequential", Sequential)

    def optimizer(base, name):
        class Recording(base):
            def __init__(self, params, **kwargs):
                super().__init__(params, **kwargs)
                rec["opts"].append((name, kwargs))
        return Recording

    def loss(f, name):
        def recording(outputs, targets):
            rec["losses"].append((name, tuple(outputs.shape), outputs.dtype, tuple(targets.shape), targets.dtype))
            return f(outputs, targets)
        return recording

    for name in ("Adam", "SGD"):
        monkeypatch.setattr(torch.optim, name, optimizer(getattr(torch.optim, name), name))
    for name in ("binary_cross_entropy_with_logits", "cross_entropy"):
        monkeypatch.setattr(torch.nn.functional, name, loss(getattr(torch.nn.functional, name), name))
    torch.set_num_threads(2)
    return torch, rec


def layers(net):
    """The layers of a torch Sequential as tuples: Linear's sizes and dtype, BatchNorm1d's
    width and dtype, Dropout's p, else the class name."""
    out = []
    for m in net:
        kind = type(m).__name__
        if kind == "Linear":
            out.append(("Linear", m.in_features, m.out_features, m.weight.dtype))
        elif kind == "BatchNorm1d":
            out.append(("BatchNorm1d", m.num_features, m.weight.dtype))
        elif kind == "Dropout":
            out.append(("Dropout", m.p))
        else:
            out.append((kind,))
    return out
