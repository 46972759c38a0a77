"""Lesson 13 (graduating to PyTorch) beyond its key results (tests/test_examples.py):
without torch it says what to install, and its worker can be spawned from a notebook."""
import sys

import pytest

from pyneuron import lessons
from pyneuron.lessons import graduating


def test_without_torch_the_lesson_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        lessons.run("graduating", ["--fast"])


def test_a_notebooks_copy_of_the_worker_is_replaced_by_the_modules():
    namespace = {"__name__": "__main__"}
    exec("def train_rank(rank):\n    return rank\n", namespace)      # as a notebook cell defines it
    assert namespace["train_rank"].__module__ == "__main__"
    assert graduating.importable(namespace["train_rank"]) is graduating.train_rank
    assert graduating.importable(graduating.train_rank) is graduating.train_rank


def test_every_epoch_has_one_order_shared_by_all_processes():
    first, again = graduating.batch_orders(3, 10), graduating.batch_orders(3, 10)
    assert len(first) == 3 and all(sorted(o.tolist()) == list(range(10)) for o in first)
    assert all((a == b).all() for a, b in zip(first, again))
    assert not (first[0] == first[1]).all()


def test_the_lesson_gives_back_the_callers_thread_count():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        graduating.main(["--fast", "--backend", "numpy"])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
