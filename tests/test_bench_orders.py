"""The benchmark's rounds: every engine runs right after every other equally often, so no
engine always inherits the same predecessor's spent caches (pyneuron.bench_common)."""
from collections import Counter

import pytest

from pyneuron.bench_common import balanced_orders, interleaved


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7])
def test_each_order_is_a_permutation_and_each_pair_follows_equally_often(n):
    orders = balanced_orders(n)
    assert len(orders) == (n if n % 2 == 0 else 2 * n)
    assert all(sorted(order) == list(range(n)) for order in orders)
    follows = Counter((a, b) for order in orders for a, b in zip(order, order[1:]))
    pairs = {(a, b) for a in range(n) for b in range(n) if a != b}
    assert set(follows) == pairs
    assert len(set(follows.values())) <= 1            # every ordered pair equally often
    firsts = Counter(order[0] for order in orders)
    assert set(firsts) == set(range(n)) and len(set(firsts.values())) == 1


def test_four_engines_by_hand():
    assert balanced_orders(4) == [[0, 1, 3, 2], [1, 2, 0, 3], [2, 3, 1, 0], [3, 0, 2, 1]]


def test_no_engines():
    assert balanced_orders(0) == [[]]
    assert interleaved({}, 3) == {}


def test_interleaved_runs_the_rounds_in_those_orders():
    ran = []
    engines = {name: (lambda name=name: ran.append(name)) for name in "abcd"}
    ticks = iter(range(10 ** 6))
    figures = interleaved(engines, 8, clock=lambda: next(ticks))
    expected = [["abcd"[i] for i in order] for order in balanced_orders(4)] * 2
    assert ran == [name for order in expected for name in order]
    assert all(len(figures[name].samples) == 8 for name in "abcd")
