"""pyneuron.chunks.outputs on its own (issue 15 item 10: the mutation run of pyneuron/chunks.py):
the chunk bounds it forwards (multiples of ROW_BLOCK, at least one block, the lone last row
joined), the (A, Z) it returns against one whole pass, the caches it clears, ``check`` on both
sides, and the non-finite rows and their source across chunks."""
import numpy as np
import pytest

import pyneuron as pn
from pyneuron import chunks

RNG = np.random.default_rng(3)


def _model(widest=7, activation="tanh", **kw):
    return pn.MLP([4, widest, 3], activation=activation, output="softmax", seed=1, **kw)


def _spy(model, monkeypatch):
    seen = []
    forward = model._forward

    def recording(X):
        seen.append(X.shape[0])
        out = forward(X)
        model.last_forward = out
        return out

    monkeypatch.setattr(model, "_forward", recording)
    return seen


def _whole(model, X):
    a = model._forward(X)
    z = model.layers[-1].cache["Z"].copy()
    for layer in model.layers:
        layer.cache = {}
    return a, z


def test_row_block_is_a_multiple_of_every_blocking():
    assert chunks.ROW_BLOCK == 48
    assert all(chunks.ROW_BLOCK % b == 0 for b in (2, 3, 4, 6, 8, 12, 16))


@pytest.mark.parametrize("chunk_rows, m, sizes", [
    (100, 200, [96, 96, 8]),          # 100 rows a chunk asked: 2 blocks of 48
    (100, 193, [96, 97]),             # a lone last row joins the chunk before
    (100, 194, [96, 96, 2]),
    (100, 97, [97]),                  # 96 + 1: one chunk, not a chunk of one row
    (100, 96, [96]),
    (100, 50, [50]),
    (5, 100, [48, 48, 4]),            # fewer rows than a block asked for: one block
    (48, 145, [48, 48, 49]),
    (1000, 145, [145]),
    (100, 1, [1]),
])
def test_chunk_bounds(monkeypatch, chunk_rows, m, sizes):
    model = _model()
    model.answer_chunk_values = chunk_rows * 7          # 7 = the widest layer
    X = RNG.normal(size=(m, 4))
    expected = _whole(model, X)
    seen = _spy(model, monkeypatch)
    A, Z = chunks.outputs(model, X, "predict")
    assert seen == sizes
    np.testing.assert_array_equal(A, expected[0])
    np.testing.assert_array_equal(Z, expected[1])
    assert A.shape == (m, 3) and Z.shape == (m, 3) and A.dtype == Z.dtype == np.float64
    assert all(layer.cache == {} for layer in model.layers)
    assert (A is model.last_forward) == (len(sizes) == 1)      # one chunk: its own array, no copy


def test_float32_chunks_keep_the_dtype():
    model = _model(dtype="float32")
    model.answer_chunk_values = 48 * 7
    X = RNG.normal(size=(100, 4)).astype(np.float32)
    A, Z = chunks.outputs(model, X, "predict")
    expected = _whole(model, X)
    assert A.dtype == Z.dtype == np.float32
    np.testing.assert_array_equal(A, expected[0])
    np.testing.assert_array_equal(Z, expected[1])


def test_check_false_returns_nan_instead_of_raising():
    model = _model()
    model.layers[0].W[0, 0] = np.nan
    X = RNG.normal(size=(10, 4))
    with pytest.raises(pn.NonFiniteOutputError, match="^predict"):
        chunks.outputs(model, X, "predict")
    A, _ = chunks.outputs(model, X, "predict", check=False)
    assert np.isnan(A).all()
    assert all(layer.cache == {} for layer in model.layers)


@pytest.mark.parametrize("chunk_rows", [1000, 48])
def test_bad_rows_are_numbered_in_the_whole_input_with_the_first_source(chunk_rows):
    model = pn.MLP([4, 7, 1], activation="relu", seed=2)
    model.answer_chunk_values = chunk_rows * 7
    X = RNG.normal(size=(145, 4))
    X[[60, 100]] = 1e308                                # both in later chunks when chunked
    with pytest.raises(pn.NonFiniteOutputError) as err:
        chunks.outputs(model, X, "score")
    assert err.value.rows == [60, 100]
    assert str(err.value).startswith("score")
    assert "layer 1's pre-activation Z = X·Wᵀ + b overflowed" in err.value.source
    assert all(layer.cache == {} for layer in model.layers)


def test_the_source_is_the_first_bad_chunks_even_when_a_later_one_differs():
    # chunk 1 (rows 0-47): huge inputs overflow layer 1; chunk 2: fine inputs, fine
    model = pn.MLP([2, 3, 1], activation="relu", seed=0)
    model.set_weights([np.ones((3, 2)), np.zeros(3), np.full((1, 3), 1e300), np.zeros(1)])
    model.answer_chunk_values = 48 * 3
    X = np.ones((100, 2))
    X[5] = 1e308                                        # layer 1 overflows for row 5
    X[70] = 1e10                                        # layer 2: 2e10 * 3 * 1e300 overflows for row 70
    with pytest.raises(pn.NonFiniteOutputError) as err:
        chunks.outputs(model, X, "predict")
    assert err.value.rows == [5, 70]
    assert "layer 1's pre-activation" in err.value.source
    with pytest.raises(pn.NonFiniteOutputError) as err:
        chunks.outputs(model, X[48:], "predict")
    assert err.value.rows == [22] and "layer 2's pre-activation" in err.value.source


def test_a_network_of_one_layer_names_its_bad_rows():
    model = pn.MLP([2, 1], output="linear", seed=0)
    model.set_weights([np.ones((1, 2)), np.zeros(1)])     # 1e308 + 1e308 overflows
    model.answer_chunk_values = 48
    X = np.ones((60, 2))
    X[50] = 1e308
    with pytest.raises(pn.NonFiniteOutputError) as err:
        chunks.outputs(model, X, "predict")
    assert err.value.rows == [50] and "layer 1's pre-activation" in err.value.source
