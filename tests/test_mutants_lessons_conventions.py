"""Lesson 11 (pyneuron.lessons.conventions) for the mutation run (.ci/mutation.py
pyneuron/lessons/conventions.py, issue 15 item 10): the starting losses are the formulas
(mean BCE of the 2-8-1 tanh net from seed 7 on 200 moons, λ·ΣW² and λ/(2m)·ΣW² with λ = 1e-3,
m = 32, their ratio 2m = 64); the momentum comparison and the three runs are the ones its
text describes (lr 0.1, μ 0.9, the book's decay 1e-3, the course's 5× rate, 100·λ, dropout
0.2 with masks rand < 0.8 after np.random.seed(1), 5× the epochs, full batch, no shuffle),
so their numbers equal the same runs set up here by hand; every line prints them."""
from __future__ import annotations

import numpy as np
import pytest

import pyneuron as pn
from pyneuron import optimizers as O
from pyneuron.lessons import conventions

from helpers import require_backend
from lesson_oracle import forward, loss_of, record_fits


def data_and_weights():
    X, y = pn.datasets.make_moons(200, noise=0.2, seed=3)
    return X, y, pn.MLP([2, 8, 1], activation="tanh", seed=7).get_weights()


def net(backend, weights, dropout=0.0):
    model = pn.MLP([2, 8, 1], activation="tanh", output="sigmoid", backend=backend, seed=0, dropout=dropout)
    model.set_weights(weights)
    return model


def first_layer_after_three_epochs(backend, X, y, weights, **options):
    model = net(backend, weights)
    model.fit(X, y, epochs=3, batch_size=32, shuffle=False, optimizer=O.SGD(0.1, momentum=0.9, **options))
    return model.layers[0].W.copy()


def three_ways(backend, X, y, weights, epochs):
    runs = {"torch-style": (net(backend, weights), dict(
                optimizer=O.SGD(0.1, momentum=0.9), l2={"W": 5e-4, "b": 5e-4}, penalty="sum", batch_size=32,
                epochs=epochs)),
            "book": (net(backend, weights), dict(
                optimizer=O.SGD(0.1, momentum=0.9, form="course", decay=1e-3), l2={"W": 1e-3}, penalty="sum",
                batch_size=32, epochs=epochs)),
            "course": (net(backend, weights, dropout=0.2), dict(
                optimizer=O.SGD(0.5), l2=0.1, penalty="mean", batch_size=None, epochs=5 * epochs, shuffle=False,
                dropout_masks=lambda i, shape: (np.random.rand(*shape) < 0.8).astype(float)))}
    out = {}
    for name, (model, options) in runs.items():
        if name == "course":
            np.random.seed(1)
        h = model.fit(X, y, **options)
        out[name] = {"loss": h["loss"][-1], "data_loss": h["data_loss"][-1], "penalty": h["penalty"][-1],
                     "accuracy": model.score(X, y)}
    return out


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_each_number_is_its_formula_or_the_run_its_text_describes(backend, capsys):
    require_backend(backend)
    r = conventions.main(["--fast", "--backend", backend])
    out = capsys.readouterr().out.splitlines()
    X, y, weights = data_and_weights()
    Ws = [np.asarray(w, dtype=float) for w in weights]
    P = forward([(Ws[0], Ws[1]), (Ws[2], Ws[3])], ["tanh", "sigmoid"], X)[-1][1]
    data = loss_of("bce", P, y[:, None])
    squares = float(np.sum(Ws[0] ** 2) + np.sum(Ws[2] ** 2))
    assert r["initial_data_loss"] == pytest.approx(data, rel=1e-12)
    assert r["sum_over_mean"] == pytest.approx(64.0, rel=1e-9)
    assert f"  data loss (mean binary cross-entropy) {data:.6f}; ΣW² = {squares:.4f}" in out
    assert f"  {chr(39) + 'sum' + chr(39) + ', λ = 1e-3          λ·ΣW²':<40} loss on a batch of 32 = data + " \
           f"{1e-3 * squares:.6f}" in out
    assert f"  {chr(39) + 'mean' + chr(39) + ', λ = 1e-3, m = 32  λ/(2m)·ΣW²':<40} loss on a batch of 32 = data + " \
           f"{1e-3 / 64 * squares:.6f}" in out
    assert "  the same λ is 64.0 = 2m times stronger in 'sum' than in 'mean' for m = 32" in out

    same = [first_layer_after_three_epochs(backend, X, y, weights, form=form) for form in ("torch", "course")]
    decayed = [first_layer_after_three_epochs(backend, X, y, weights, form=form, decay=0.5)
               for form in ("torch", "course")]
    assert r["forms_constant_lr"] == float(np.max(np.abs(same[0] - same[1]))) < 1e-12
    assert r["forms_decayed_lr"] == float(np.max(np.abs(decayed[0] - decayed[1]))) > 0.01
    assert f"  largest weight difference after 3 epochs, constant η:   {r['forms_constant_lr']:.1e}" in out
    assert f"  largest weight difference after 3 epochs, η/(1 + 0.5t): {r['forms_decayed_lr']:.1e}" in out

    assert f"Training the three ways ({backend} backend)" in out
    expected = three_ways(backend, X, y, weights, 20)
    for name, want in expected.items():
        assert r[name] == pytest.approx(want, rel=1e-12)
        assert f"  {'':<12} last epoch: loss {want['loss']:.4f} = data {want['data_loss']:.4f} + penalty " \
               f"{want['penalty']:.5f}; accuracy {want['accuracy']:.3f}" in out
        assert out[out.index(f"  {'':<12} last epoch: loss {want['loss']:.4f} = data {want['data_loss']:.4f} + "
                             f"penalty {want['penalty']:.5f}; accuracy {want['accuracy']:.3f}") - 1].startswith(
            f"  {name:<12} ")


def test_without_a_backend_flag_the_global_backend_trains(capsys):
    pn.set_backend("numpy")
    conventions.main(["--fast"])
    assert "Training the three ways (numpy backend)" in capsys.readouterr().out


def test_the_full_setting_trains_200_epochs_and_the_course_1000(capsys, monkeypatch):
    calls = record_fits(monkeypatch, conventions, epochs=1)
    conventions.main(["--backend", "numpy"])
    assert [call["fit"]["epochs"] for call in calls] == [3, 3, 3, 3, 200, 200, 1000]


def test_a_net_without_biases_takes_the_weight_matrices_only():
    _, _, weights = data_and_weights()
    model = conventions._net("numpy", weights, bias=False)
    assert model.bias == [False, False] and model.n_parameters == 2 * 8 + 8
    np.testing.assert_array_equal(model.layers[0].W, weights[0])
    np.testing.assert_array_equal(model.layers[1].W, weights[2])
    np.testing.assert_array_equal(conventions._net("numpy", weights).layers[1].b, weights[3])


def test_the_four_momentum_runs_are_three_epochs_of_batch_32_in_order(capsys, monkeypatch):
    calls = record_fits(monkeypatch, conventions)
    conventions.main(["--fast", "--backend", "numpy"])
    calls = list(calls)                     # the lesson's fits, not the reference's below
    X, y, weights = data_and_weights()
    for call, options in zip(calls[:4], ({"form": "torch"}, {"form": "course"},
                                          {"form": "torch", "decay": 0.5}, {"form": "course", "decay": 0.5})):
        assert {k: call["fit"][k] for k in ("epochs", "batch_size", "shuffle")} == \
            {"epochs": 3, "batch_size": 32, "shuffle": False}
        np.testing.assert_array_equal(call["model"].layers[0].W,
                                      first_layer_after_three_epochs("numpy", X, y, weights, **options))
