"""snapshot(model, into=...) overwrites an earlier snapshot in place when every array
still matches (what fit does between epochs), and makes new copies when one does not."""
import numpy as np

import pyneuron as pn
from pyneuron.callbacks import restore, snapshot


def test_into_a_matching_snapshot_overwrites_it_in_place():
    model = pn.MLP([3, 4, 2], batch_norm=True, seed=0, backend="numpy")
    first = snapshot(model)
    ids = [id(a) for a in first]
    model.layers[0].W += 1.0
    model.layers[0].running_var *= 3.0
    again = snapshot(model, into=first)
    assert again is first and [id(a) for a in again] == ids
    np.testing.assert_array_equal(again[0], model.layers[0].W)
    assert not any(a is p for a, p in zip(again, model.layers[0].parameters()))    # copies, not views
    model.layers[0].W[...] = 0.0
    restore(model, again)
    assert np.all(model.layers[0].W == again[0]) and np.any(again[0] != 0.0)


def test_a_snapshot_that_no_longer_matches_is_not_reused():
    small, other = pn.MLP([3, 4, 2], seed=0), pn.MLP([3, 5, 2], seed=0)
    old = snapshot(small)
    fresh = snapshot(other, into=old)
    assert fresh is not old and fresh[0].shape == (5, 3)
    as32 = pn.MLP([3, 4, 2], seed=0, dtype="float32")
    assert snapshot(as32, into=old) is not old
    assert snapshot(small, into=old[:-1]) is not old
