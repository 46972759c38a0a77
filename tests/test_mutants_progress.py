"""pyneuron.progress on both sides of each branch (issue 15 item 10: the mutation run of
pyneuron/progress.py): every value of PYNEURON_PROGRESS, the notebook test, the epoch line's
format, the bars' settings (how often they redraw, their length, what they show), where
written lines go, and the per-batch bar's start. The bars are tqdm objects, read directly."""
import io
import sys
import types

import pytest

import pyneuron as pn
from pyneuron import progress

pytest.importorskip("tqdm")


@pytest.mark.parametrize("value, on", [("0", False), ("false", False), (" No ", False), ("OFF", False),
                                       ("1", True), ("yes", True), ("", True), ("2", True)])
def test_each_value_of_the_environment_variable(monkeypatch, value, on):
    monkeypatch.setenv("PYNEURON_PROGRESS", value)
    assert progress.bars_enabled() is on
    assert progress.Progress(3).enabled is on
    assert progress.Progress(3, enabled=not on).enabled is (not on)


def test_the_notebook_test(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert progress._in_notebook() is False
    fake = types.ModuleType("IPython")
    monkeypatch.setitem(sys.modules, "IPython", fake)            # no get_ipython
    assert progress._in_notebook() is False
    fake.get_ipython = lambda: None                              # not under IPython
    assert progress._in_notebook() is False
    fake.get_ipython = lambda: types.SimpleNamespace()           # a terminal IPython: no kernel
    assert progress._in_notebook() is False
    fake.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    assert progress._in_notebook() is True


def test_the_epoch_line_format():
    assert progress._format_logs({"loss": 0.123456, "lr": 0.1, "val_loss": 2, "note": "x"}) == \
        "loss 0.1235  val_loss 2.0000"
    assert progress._format_logs(None) == ""
    cb = progress.Progress(3)
    assert cb.line(7, {"loss": 0.5, "accuracy": 1.0}) == "  epoch     7  loss 0.5000  accuracy 1.0000"
    assert progress.Progress(3, line=lambda e, logs: f"#{e}").line(2, {}) == "#2"


def test_arguments_kept_and_checked():
    cb = progress.Progress(None, desc=5, batch_after=0, leave=1)
    assert (cb.epochs, cb.desc, cb.batch_after, cb.leave) == (None, "5", 0.0, True)
    assert isinstance(cb.batch_after, float)
    assert progress.Progress(1).epochs == 1 and progress.Progress(1).leave is False
    for bad in (float("inf"), -0.5, "1"):
        with pytest.raises(ValueError, match=r"batch_after: expected a number of seconds >= 0, got"):
            progress.Progress(3, batch_after=bad)
    for bad in (0, -1, 2.0, True + 0.5):
        with pytest.raises(ValueError, match=r"epochs: expected an integer >= 1 or None, got"):
            progress.Progress(bad)
    with pytest.raises(TypeError, match="print_epochs: expected epoch numbers or a function epoch -> bool, "
                                        "got float"):
        progress.Progress(3, print_epochs=2.5)
    assert progress.Progress(3, print_epochs=["2", 4.0])._prints(2)
    assert not progress.Progress(3)._prints(1)
    assert progress.Progress(3, print_epochs=lambda e: e % 2 == 0)._prints(4)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_bar_redraws_often_only_where_it_is_redrawn_in_place(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    for stream, interval in [(io.StringIO(), 5.0), (Terminal(), 0.2)]:
        cb = progress.Progress(4, desc="here", enabled=True, file=stream)
        cb.on_train_begin(None)
        bar = cb._epochs_bar
        assert (bar.mininterval, bar.total, bar.desc, bar.unit, bar.leave) == (interval, 4, "here", "epoch", False)
        cb.on_epoch_end(None, 1, {"loss": 0.25, "val_loss": 0.5, "accuracy": 0.75})
        assert bar.n == 1 and bar.postfix == "loss=0.2500, val_loss=0.5000"
        cb.on_train_end(None)
        assert cb._epochs_bar is None and cb._batch_bar is None
    cb = progress.Progress(4, enabled=False)
    cb.on_train_begin(None)
    assert cb._epochs_bar is None


def test_lines_go_to_standard_output_with_or_without_a_bar(capsys):
    cb = progress.Progress(2, enabled=True, file=io.StringIO(), print_epochs=[2])
    cb.on_train_begin(None)
    cb.on_epoch_end(None, 1, {"loss": 1.0})
    cb.on_epoch_end(None, 2, {"loss": 0.5})
    cb.on_train_end(None)
    assert capsys.readouterr().out == "  epoch     2  loss 0.5000\n"
    quiet = progress.Progress(2, enabled=False, print_epochs=lambda e: True)
    quiet.on_train_begin(None)
    quiet.on_epoch_end(None, 1, None)
    assert capsys.readouterr().out == "  epoch     1  \n"


def test_the_batch_bar_starts_after_batch_after_seconds(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    stream = io.StringIO()
    cb = progress.BatchProgress(2, enabled=True, file=stream, batch_after=1.0)
    cb.on_train_begin(None)
    cb.on_epoch_begin(None, 1)
    clock[0] = 1.0                                  # not more than 1 s yet: no bar
    cb.on_batch_end(None, 0, {"loss": 0.5})
    assert cb._batch_bar is None
    clock[0] = 1.5
    cb.on_batch_end(None, 1, {"loss": 0.25})
    bar = cb._batch_bar
    assert bar is not None and (bar.n, bar.total, bar.desc, bar.leave) == (2, None, "  batches", False)
    assert bar.postfix == "loss=0.2500"
    cb.on_batch_end(None, 2, None)                  # no logs: the loss shown stays
    assert bar.n == 3 and bar.postfix == "loss=0.2500"
    cb.on_epoch_end(None, 1, {"loss": 0.3})
    assert cb._batch_bar is None and cb._batches_per_epoch == 3
    cb.on_epoch_begin(None, 2)
    clock[0] = 10.0
    cb.on_batch_end(None, 0, {})
    assert cb._batch_bar.total == 3 and cb._batch_bar.n == 1       # the first epoch's count
    cb.on_epoch_end(None, 2, {"loss": 0.3})
    assert cb._batches_per_epoch == 3
    cb.on_train_end(None)
    off = progress.BatchProgress(2, enabled=False, batch_after=0.0)
    off.on_train_begin(None)
    off.on_epoch_begin(None, 1)
    off.on_batch_end(None, 0, {"loss": 1.0})
    assert off._batch_bar is None and off._batches == 1


def test_progress_for_picks_by_backend():
    assert type(progress.progress_for(pn.MLP([2, 1], backend="scalar"), 3)) is progress.BatchProgress
    cb = progress.progress_for(pn.MLP([2, 1], backend="numpy"), 3, desc="d", leave=True)
    assert type(cb) is progress.Progress and (cb.epochs, cb.desc, cb.leave) == (3, "d", True)
    assert progress.progress_for(pn.MLP([2, 1], backend="numpy"), 3).desc == "training"


def test_the_defaults_and_a_bar_that_follows_the_window_width():
    cb = progress.Progress()
    assert (cb.epochs, cb.desc, cb.batch_after, cb.enabled is not None, cb.file, cb.leave) == \
        (None, "training", 1.0, True, None, False)
    cb = progress.Progress(2, enabled=True, file=io.StringIO())
    cb.on_train_begin(None)
    assert cb._epochs_bar.dynamic_ncols      # tqdm keeps a function that reads the width (False when off)
    cb.on_train_end(None)


def test_lines_go_through_tqdm_write_only_under_a_bar(monkeypatch, capsys):
    import tqdm
    written = []
    monkeypatch.setattr(tqdm.tqdm, "write", classmethod(lambda cls, text, file=None: written.append((text, file))))
    cb = progress.Progress(2, enabled=True, file=io.StringIO())
    cb.on_train_begin(None)
    cb.write("under the bar")
    cb.on_train_end(None)
    cb.write("no bar now")
    assert written == [("under the bar", sys.stdout)]
    assert capsys.readouterr().out == "no bar now\n"


class Writer:
    """A stream with write and flush but no isatty: not a terminal."""

    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_a_stream_without_isatty_is_not_live(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    cb = progress.Progress(2, enabled=True, file=Writer())
    cb.on_train_begin(None)
    assert cb._epochs_bar.mininterval == 5.0
    cb.on_train_end(None)


def test_the_shown_loss_waits_for_the_next_redraw():
    """set_postfix(refresh=False): a new loss does not force a redraw of its own (into a log
    file a bar redraws every 5 s)."""
    cb = progress.BatchProgress(2, enabled=True, file=io.StringIO(), batch_after=0.0)
    cb.on_train_begin(None)
    redraws = []
    cb._epochs_bar.refresh = lambda *a, **k: redraws.append("epochs")
    cb.on_epoch_begin(None, 1)
    cb.on_batch_end(None, 0, {"loss": 1.0})                    # the batch bar appears
    cb._batch_bar.refresh = lambda *a, **k: redraws.append("batches")
    cb.on_batch_end(None, 1, {"loss": 0.5})
    cb.on_epoch_end(None, 1, {"loss": 0.75})
    cb.on_train_end(None)
    assert redraws == []
