"""from_torch checks batch-norm statistics and parameters as load does (issue 15,
item 3e): a module pyneuron would compute NaN from is refused, naming it."""
import numpy as np
import pytest

import pyneuron as pn

torch = pytest.importorskip("torch")


def network(eps=1e-5, momentum=0.1):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 3, dtype=torch.float64),
                               torch.nn.BatchNorm1d(3, eps=eps, momentum=momentum, dtype=torch.float64),
                               torch.nn.Tanh(), torch.nn.Linear(3, 1, dtype=torch.float64))


def poke(attribute, value, module=1, index=1):
    def mutate(seq):
        with torch.no_grad():
            getattr(seq[module], attribute)[index] = value
    return mutate


BAD = {
    "negative running variance": (poke("running_var", -0.1), r"module 1 .*running_var: expected values >= 0"),
    "NaN running variance": (poke("running_var", float("nan")), "running_var: expected finite"),
    "inf running mean": (poke("running_mean", float("inf")), "running_mean: expected finite"),
    "NaN gamma": (poke("weight", float("nan")), "gamma: expected finite"),
    "-inf beta": (poke("bias", -float("inf")), "beta: expected finite"),
    "NaN weight": (poke("weight", float("nan"), module=0), r"W1\): expected finite"),
    "inf bias": (poke("bias", float("inf"), module=3, index=0), r"b2\): expected finite"),
}


@pytest.mark.parametrize("case", BAD, ids=str)
def test_non_finite_or_negative_values_are_refused(case):
    mutate, message = BAD[case]
    seq = network()
    mutate(seq)
    with pytest.raises(ValueError, match=message):
        pn.from_torch(seq)


@pytest.mark.parametrize("eps, momentum, message", [
    (0.0, 0.1, "eps: expected a number > 0"), (-1e-3, 0.1, "eps: expected a number > 0"),
    (float("nan"), 0.1, "eps: expected a finite number"), (1e-5, 1.5, r"momentum: expected a number in \[0, 1\]"),
    (1e-5, -0.1, r"momentum: expected a number in \[0, 1\]")])
def test_batchnorm_settings_are_checked(eps, momentum, message):
    with pytest.raises(ValueError, match=message):
        pn.from_torch(network(eps, momentum))


def test_the_edges_the_rules_allow_are_accepted():
    seq = network(eps=1e-300, momentum=1.0)
    with torch.no_grad():
        seq[1].running_var.zero_()                        # a variance of exactly 0 is one
        for name in ("weight", "bias", "running_mean"):   # these may be negative
            getattr(seq[1], name).copy_(torch.tensor([-1.0, -2.0, -3.0]))
    model = pn.from_torch(seq)
    assert model.layers[0].gamma.tolist() == [-1.0, -2.0, -3.0] == model.layers[0].running_mean.tolist()
    assert model.layers[0].bn_momentum == 1.0 and model.layers[0].bn_eps == 1e-300
    assert not model.layers[0].running_var.any()
    assert pn.from_torch(network(momentum=0.0)).layers[0].bn_momentum == 0.0
    seq.eval()
    X = np.random.default_rng(0).normal(size=(5, 2))
    np.testing.assert_allclose(model.predict(X), seq(torch.from_numpy(X)).detach().numpy()[:, 0], rtol=1e-12)
