"""pyneuron.summary (issue 15 item 10: the mutation run of pyneuron/summary.py): the whole
table of a small model, character by character (column widths, left- and right-aligned
cells, the rules), and each optional line on both sides: batch-norm statistics over several
layers, the optimizer line, the backend named or global. Counts by hand from the sizes."""
import numpy as np

import pyneuron as pn
from pyneuron.summary import layer_rows, summary_text


def test_the_whole_table_of_a_one_layer_model():
    model = pn.MLP([2, 1], backend="numpy")
    # widths: layer0 6, "Dense 2->1, sigmoid" 19, "Output shape" 12, "Params" 6, "Trainable" 9, "Frozen" 6
    rule = "-" * (6 + 19 + 12 + 6 + 9 + 6 + 5 * 2)
    assert summary_text(model) == "\n".join([
        'MLP "2-1": loss bce, float64, backend numpy',
        rule,
        "Layer   Type                 Output shape  Params  Trainable  Frozen",
        rule,
        "input   2 features           (None, 2)",
        "layer0  Dense 2->1, sigmoid  (None, 1)          3          3       0",
        rule,
        "Total params: 3",
        "Trainable params: 3",
        "Frozen params: 0"])


def test_rows_counts_and_the_optional_lines():
    model = pn.MLP([30, 40, 4, 1], batch_norm=True, dropout=[0.5, 0.0], bias=[True, False, True], seed=0)
    model.freeze("layer0/W")
    # layer0: W 1200 (frozen), b 40 (asked for), gamma/beta 80; layer1: W 160, gamma/beta 8, no bias;
    # layer2: W 4, b 1
    assert layer_rows(model) == [
        ("layer0", "Dense 30->40, relu, batch norm, dropout 0.5", "(None, 40)", 1320, 120, 1200),
        ("layer1", "Dense 40->4, relu, batch norm, no bias", "(None, 4)", 168, 168, 0),
        ("layer2", "Dense 4->1, sigmoid", "(None, 1)", 5, 5, 0)]
    text = summary_text(model)
    assert "1,320" in text and "Total params: 1,493" in text and "Trainable params: 293" in text
    assert "Frozen params: 1,200" in text
    assert "Batch-norm running statistics: 88 values (saved; not parameters)" in text    # 2·(40 + 4)
    assert "backend global (" in text.splitlines()[0] and "Optimizer" not in text
    plain = pn.MLP([2, 3, 1], bias=[False, True], dropout=0.125, seed=0, backend="numpy")
    assert layer_rows(plain)[0][1] == "Dense 2->3, relu, dropout 0.125, no bias"
    assert "Batch-norm" not in summary_text(plain)
    plain.fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=2, batch_size=2, lr=0.5)
    assert summary_text(plain).splitlines()[-1] == "Optimizer: SGD(lr=0.5, momentum=0.0, nesterov=False), " \
                                                   "4 steps; epochs trained: 2"
