"""pyneuron.optimizers, every option on both sides of its branch (issue 15 item 10: the
mutation run of pyneuron/optimizers.py): three steps of each optimizer and form on every
backend against its docstring's update rule written out in NumPy, the decay of the rate
per step, the defaults, each argument bound at and beside its edge, the settings shown and
saved, state that follows the parameters' shapes, and ``get``."""
import numpy as np
import pytest

from pyneuron import optimizers as O

P0 = [np.array([[0.5, -1.0, 2.0]]), np.array([0.25])]
GRADS = [[np.array([[0.3, -0.6, 1.2]]), np.array([-0.5])],
         [np.array([[-0.1, 0.4, 0.8]]), np.array([0.2])],
         [np.array([[0.7, 0.0, -2.0]]), np.array([1.5])]]


def run(kernels, optimizer, steps=3):
    params = [p.copy() for p in P0]
    for grads in GRADS[:steps]:
        optimizer.step(kernels, params, [g.copy() for g in grads])
    return params


def reference(rule, lrs=(None,) * 3, **h):
    """The docstring's update rules, one array at a time; ``lrs[k]`` the rate of step k."""
    out = []
    for a in range(2):
        p = P0[a].copy()
        s1, s2 = np.zeros_like(p), np.zeros_like(p)
        for k, grads in enumerate(GRADS):
            g, lr = grads[a], lrs[k] if lrs[k] is not None else h["lr"]
            if rule == "sgd":
                p = p - lr * g
            elif rule == "sgd_torch":
                s1 = h["mu"] * s1 + g
                p = p - lr * (g + h["mu"] * s1 if h["nesterov"] else s1)
            elif rule == "course":
                s1 = h["mu"] * s1 - lr * g
                p = p + s1
            elif rule == "average":
                s1 = h["mu"] * s1 + (1 - h["mu"]) * g
                p = p - lr * s1
            elif rule == "adagrad":
                s1 = s1 + g * g
                p = p - lr * g / (np.sqrt(s1) + h["eps"])
            elif rule == "rmsprop":
                s1 = h["rho"] * s1 + (1 - h["rho"]) * g * g
                p = p - lr * g / (np.sqrt(s1) + h["eps"])
            elif rule == "adam":
                t = k + 1
                p = p * (1 - lr * h.get("wd", 0.0))
                s1 = h["b1"] * s1 + (1 - h["b1"]) * g
                s2 = h["b2"] * s2 + (1 - h["b2"]) * g * g
                p = p - lr * (s1 / (1 - h["b1"] ** t)) / (np.sqrt(s2 / (1 - h["b2"] ** t)) + h["eps"])
        out.append(p)
    return out


CASES = [
    (lambda: O.SGD(lr=0.1), "sgd", {"lr": 0.1}),
    (lambda: O.SGD(lr=0.1, momentum=0.5), "sgd_torch", {"lr": 0.1, "mu": 0.5, "nesterov": False}),
    (lambda: O.SGD(lr=0.1, momentum=0.5, nesterov=True), "sgd_torch", {"lr": 0.1, "mu": 0.5, "nesterov": True}),
    (lambda: O.SGD(lr=0.1, momentum=0.5, form="course"), "course", {"lr": 0.1, "mu": 0.5}),
    (lambda: O.Momentum(lr=0.1, beta=0.6), "average", {"lr": 0.1, "mu": 0.6}),
    (lambda: O.Momentum(lr=0.1, beta=0.6, form="course"), "course", {"lr": 0.1, "mu": 0.6}),
    (lambda: O.Adagrad(lr=0.1, eps=0.5), "adagrad", {"lr": 0.1, "eps": 0.5}),
    (lambda: O.RMSprop(lr=0.1, rho=0.7, eps=0.5), "rmsprop", {"lr": 0.1, "rho": 0.7, "eps": 0.5}),
    (lambda: O.Adam(lr=0.1, beta1=0.6, beta2=0.8, eps=0.5), "adam", {"lr": 0.1, "b1": 0.6, "b2": 0.8, "eps": 0.5}),
    (lambda: O.AdamW(lr=0.1, beta1=0.6, beta2=0.8, eps=0.5, weight_decay=0.3), "adam",
     {"lr": 0.1, "b1": 0.6, "b2": 0.8, "eps": 0.5, "wd": 0.3}),
]


@pytest.mark.parametrize("make, rule, h", CASES, ids=[f"{c[1]}{i}" for i, c in enumerate(CASES)])
def test_three_steps_are_the_update_rule(kernels, make, rule, h):
    optimizer = make()
    got = run(kernels, optimizer)
    for mine, theirs in zip(got, reference(rule, **h)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-15)
    assert optimizer.t == 3


@pytest.mark.parametrize("make, rule, h", [CASES[0], CASES[3], CASES[8]], ids=["sgd", "course", "adam"])
def test_decay_lowers_the_rate_per_step(kernels, make, rule, h):
    """Step k (from 0) uses η₀ / (1 + decay·k): 0.1, 0.1/1.5, 0.1/2 with decay 0.5."""
    optimizer = make()
    optimizer.decay = 0.5
    got = run(kernels, optimizer)
    for mine, theirs in zip(got, reference(rule, lrs=(0.1, 0.1 / 1.5, 0.05), **h)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-15)
    assert optimizer.lr == pytest.approx(0.05) and optimizer.initial_lr == 0.1
    assert optimizer.lr_at(3) == pytest.approx(0.04) and optimizer.lr_at(0) == 0.1


def test_without_decay_lr_at_is_the_current_rate():
    opt = O.SGD(lr=0.1)
    opt.lr = 0.03                        # as a schedule sets it
    assert opt.lr_at(10) == 0.03 and opt.lr_at(0) == 0.03


def test_defaults():
    sgd = O.SGD()
    assert (sgd.lr, sgd.momentum, sgd.nesterov, sgd.form, sgd.decay, sgd.t) == (0.01, 0.0, False, "torch", 0.0, 0)
    assert sgd.state_names == () and O.SGD(momentum=0.5).state_names == ("velocity",)
    m = O.Momentum()
    assert (m.lr, m.beta, m.form, m.decay) == (0.01, 0.9, "average", 0.0)
    a = O.Adagrad()
    assert (a.lr, a.eps, a.decay) == (0.01, 1e-10, 0.0)
    r = O.RMSprop()
    assert (r.lr, r.rho, r.eps) == (0.001, 0.9, 1e-8)
    adam = O.Adam()
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps, adam.decoupled_weight_decay) == (0.001, 0.9, 0.999, 1e-8, 0.0)
    w = O.AdamW()
    assert (w.lr, w.beta1, w.beta2, w.eps, w.decoupled_weight_decay, w.decay) == (0.001, 0.9, 0.999, 1e-8, 0.01, 0.0)


@pytest.mark.parametrize("cls, name", [(O.SGD, "momentum"), (O.Momentum, "beta"), (O.RMSprop, "rho"),
                                       (O.Adam, "beta1"), (O.Adam, "beta2"), (O.AdamW, "beta1")])
def test_rates_in_zero_to_one(cls, name):
    assert getattr(cls(**{name: 0.0}), name) == 0.0
    assert getattr(cls(**{name: 0.999}), name) == 0.999
    for bad, message in [(1.0, "< 1.0, got 1.0"), (1.5, "< 1.0, got 1.5"), (-0.1, ">= 0.0, got -0.1")]:
        with pytest.raises(ValueError, match=f"{name}: expected a number {message}"):
            cls(**{name: bad})


@pytest.mark.parametrize("cls", [O.SGD, O.Momentum, O.Adagrad, O.RMSprop, O.Adam, O.AdamW])
def test_lr_decay_and_eps_bounds(cls):
    assert cls(lr=0.5).lr == 0.5 and cls(lr=2.0).lr == 2.0
    for bad, message in [(0.0, "lr: expected a number > 0.0, got 0.0"), (-1.0, "lr: expected a number > 0.0")]:
        with pytest.raises(ValueError, match=message):
            cls(lr=bad)
    assert cls(decay=0.5).decay == 0.5 and cls(decay=0.0).decay == 0.0
    with pytest.raises(ValueError, match="decay: expected a number >= 0.0, got -0.5"):
        cls(decay=-0.5)
    if cls in (O.Adagrad, O.RMSprop, O.Adam, O.AdamW):
        assert cls(eps=0.5).eps == 0.5
        with pytest.raises(ValueError, match="eps: expected a number > 0.0, got 0.0"):
            cls(eps=0.0)


def test_weight_decay_bounds():
    assert O.AdamW(weight_decay=0.0).decoupled_weight_decay == 0.0
    assert O.AdamW(weight_decay=0.5).decoupled_weight_decay == 0.5
    with pytest.raises(ValueError, match="weight_decay: expected a number >= 0.0, got -0.1"):
        O.AdamW(weight_decay=-0.1)


def test_nesterov_and_form_checks():
    assert O.SGD(momentum=0.5, nesterov=True).nesterov is True
    assert O.SGD(momentum=0.5, form="course").form == "course"
    with pytest.raises(ValueError, match="nesterov: Nesterov momentum needs momentum > 0, got momentum=0"):
        O.SGD(nesterov=True)
    with pytest.raises(ValueError, match="nesterov: Nesterov momentum is written in PyTorch's form"):
        O.SGD(momentum=0.5, nesterov=True, form="course")
    with pytest.raises(TypeError, match="nesterov: expected True or False, got 'no'"):
        O.SGD(momentum=0.5, nesterov="no")
    with pytest.raises(ValueError, match="form: expected one of 'torch', 'course', got 'average'"):
        O.SGD(form="average")
    with pytest.raises(ValueError, match="form: expected one of 'average', 'course', got 'torch'"):
        O.Momentum(form="torch")


@pytest.mark.parametrize("optimizer, text", [
    (O.SGD(lr=0.1), "SGD(lr=0.1, momentum=0.0, nesterov=False)"),
    (O.SGD(lr=0.1, momentum=0.5, form="course", decay=0.25),
     "SGD(lr=0.1, momentum=0.5, nesterov=False, form='course', decay=0.25)"),
    (O.Momentum(lr=0.1), "Momentum(lr=0.1, beta=0.9)"),
    (O.Momentum(lr=0.1, form="course"), "Momentum(lr=0.1, beta=0.9, form='course')"),
    (O.Adagrad(lr=0.1), "Adagrad(lr=0.1, eps=1e-10)"),
    (O.RMSprop(), "RMSprop(lr=0.001, rho=0.9, eps=1e-08)"),
    (O.Adam(), "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08)"),
    (O.AdamW(), "AdamW(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.01)"),
])
def test_repr_shows_the_settings_that_differ_from_the_form_default(optimizer, text):
    assert repr(optimizer) == text


def test_get_config_keeps_the_initial_rate_and_the_decay(kernels):
    opt = O.SGD(lr=0.1, decay=0.5)
    run(kernels, opt)
    assert opt.lr != 0.1
    assert opt.get_config() == {"lr": 0.1, "momentum": 0.0, "nesterov": False, "decay": 0.5}
    assert O.Adam(lr=0.2).get_config() == {"lr": 0.2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def test_reset_forgets_state_and_count(kernels):
    opt = O.Adam(lr=0.1)
    run(kernels, opt, steps=2)
    assert opt.t == 2 and len(opt.state) == 2
    opt.reset()
    assert opt.t == 0 and opt.state == []


def test_state_follows_the_parameters(kernels):
    """State for other shapes or another number of arrays is started again at zero."""
    opt = O.Momentum(lr=0.1, beta=0.5)
    run(kernels, opt, steps=1)
    one = [np.array([1.0, 2.0])]                      # fewer arrays
    opt.step(kernels, one, [np.array([1.0, 1.0])])
    np.testing.assert_allclose(one[0], [1.0 - 0.1 * 0.5, 2.0 - 0.1 * 0.5])      # v = 0.5 g from v = 0
    other = [np.array([[1.0], [2.0]]), np.array([0.0])]   # as many arrays as before, other shape
    opt.state = [{"velocity": np.ones(3)}, {"velocity": np.ones(1)}]
    opt.step(kernels, other, [np.array([[2.0], [2.0]]), np.array([2.0])])
    np.testing.assert_allclose(other[0], [[0.9], [1.9]])
    np.testing.assert_allclose(other[1], [-0.1])
    assert [s["velocity"].shape for s in opt.state] == [(2, 1), (1,)]
    same = [np.array([[0.0], [0.0]]), np.array([0.0])]     # same shapes: the state is kept
    opt.step(kernels, same, [np.array([[0.0], [0.0]]), np.array([0.0])])
    np.testing.assert_allclose(same[1], [-0.1 * 0.5])      # v = 0.5 · 1 from the kept v = 1


def test_the_base_class_has_no_update(kernels):
    base = O.Optimizer(0.1)
    assert (base.lr, base.initial_lr, base.decay, base.t, base.state, base.state_names) == (0.1, 0.1, 0.0, 0, [], ())
    with pytest.raises(NotImplementedError):
        base.step(kernels, [np.zeros(1)], [np.zeros(1)])


def test_get():
    adam = O.Adam()
    assert O.get(adam) is adam
    assert O.get(adam, lr=0.5) is adam
    for name, cls in O.OPTIMIZERS.items():
        assert type(O.get(name)) is cls and type(O.get(name.upper())) is cls
        assert O.get(name, lr=0.25).lr == 0.25
    assert O.get("sgd").lr == 0.01 and O.get("adam").lr == 0.001
    for bad in ("adamax", 3, None):
        with pytest.raises(ValueError, match="optimizer: expected an Optimizer or one of 'sgd', 'momentum', "
                                             f"'rmsprop', 'adam', 'adamw', 'adagrad', got {bad!r}"):
            O.get(bad)


def test_adam_bias_correction_makes_the_first_step_lr_sized(kernels):
    """t = 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps) ≈ lr·sign(g) (by hand)."""
    p = [np.array([1.0, -1.0])]
    O.Adam(lr=0.1, eps=1e-12).step(kernels, p, [np.array([4.0, -0.001])])
    np.testing.assert_allclose(p[0], [0.9, -0.9], rtol=1e-9)


def test_course_form_without_momentum_is_plain_sgd(kernels):
    """v ← 0·v − η g, θ ← θ + v is θ − η g; no velocity is kept."""
    opt = O.SGD(lr=0.1, form="course")
    got = run(kernels, opt)
    for mine, theirs in zip(got, reference("sgd", lr=0.1)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-14)
    assert opt.state == [{}, {}]
