"""pyneuron.losses: which loss a model gets (names, aliases, defaults, the output each
needs) and how targets become ``Y`` for each loss, every check on both sides of its edge
(issue 15 item 10: the mutation run of pyneuron/losses.py). Expected matrices by hand."""
import numpy as np
import pytest

from pyneuron.losses import encode_targets, is_classifier, resolve


@pytest.mark.parametrize("output, name", [("sigmoid", "bce"), ("softmax", "cce"), ("linear", "mse"),
                                          ("tanh", "mse"), ("relu", "mse")])
def test_the_default_loss_follows_the_output(output, name):
    assert resolve(None, output) == name


@pytest.mark.parametrize("alias, name", [("mean_squared_error", "mse"), ("binary_crossentropy", "bce"),
                                         ("binary_cross_entropy", "bce"), ("categorical_crossentropy", "cce"),
                                         ("cross_entropy", "cce"), ("categorical_cross_entropy", "cce"),
                                         ("mse", "mse"), ("bce", "bce"), ("cce", "cce")])
def test_names_and_aliases(alias, name):
    assert resolve(alias, "softmax") == name


def test_each_loss_with_the_outputs_it_allows():
    assert resolve("mse", "sigmoid") == "mse" and resolve("mse", "linear") == "mse"
    assert resolve("bce", "sigmoid") == "bce" and resolve("bce", "softmax") == "bce"
    for output in ("linear", "tanh"):
        with pytest.raises(ValueError, match=f"loss: 'bce' needs probabilities in \\(0, 1\\) \\(output='sigmoid'\\), "
                                             f"got output='{output}'"):
            resolve("bce", output)
    for output in ("sigmoid", "linear"):
        with pytest.raises(ValueError, match=f"loss: 'cce' needs output='softmax' .*got output='{output}'"):
            resolve("cross_entropy", output)
    with pytest.raises(ValueError, match="loss: expected one of 'mse', 'bce', 'cce' or None, got 'hinge'"):
        resolve("hinge", "linear")


def test_is_classifier():
    assert is_classifier("bce") and is_classifier("cce") and not is_classifier("mse")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_labels_become_one_hot(dtype):
    Y = encode_targets([2, 0, 1, 2], 3, "cce", dtype=dtype)
    assert Y.dtype == dtype and Y.flags.c_contiguous
    assert Y.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert encode_targets(np.array([1.0, 0.0]), 2, "cce").tolist() == [[0, 1], [1, 0]]   # integral floats


@pytest.mark.parametrize("labels", [[0, 3], [-1, 1], [0.5, 1], [3, 3]])
def test_class_labels_outside_0_to_k_minus_1_are_refused(labels):
    with pytest.raises(ValueError, match=r"y: expected integer class labels in 0..2 for a softmax output of 3 units"):
        encode_targets(labels, 3, "cce")


def test_one_hot_rows_are_kept_and_checked():
    Y = encode_targets([[0, 1, 0], [1, 0, 0]], 3, "cce", dtype=np.float32)
    assert Y.dtype == np.float32 and Y.tolist() == [[0, 1, 0], [1, 0, 0]]
    with pytest.raises(ValueError, match=r"y: expected one-hot rows of length 3, got shape \(2, 2\)"):
        encode_targets([[0, 1], [1, 0]], 3, "cce")
    for bad in ([[0, 1, 1], [1, 0, 0]], [[0, 0, 0], [1, 0, 0]], [[0.5, 0.5, 0], [1, 0, 0]], [[2, -1, 0], [1, 0, 0]]):
        with pytest.raises(ValueError, match=r"y: expected one-hot rows \(a single 1 per row\)"):
            encode_targets(bad, 3, "cce")


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_one_output_takes_a_vector_or_a_column(loss):
    assert encode_targets([1, 0, 1], 1, loss).tolist() == [[1], [0], [1]]
    assert encode_targets([[1], [0]], 1, loss).tolist() == [[1], [0]]
    assert encode_targets([True, False], 1, loss).tolist() == [[1.0], [0.0]]
    with pytest.raises(ValueError, match=r"y: expected 1 target column\(s\) for 1 output unit\(s\), got shape \(2, 2\)"):
        encode_targets([[1, 0], [0, 1]], 1, loss)
    with pytest.raises(ValueError, match=r"y: expected 2 target column\(s\) for 2 output unit\(s\), got shape \(3,\)"):
        encode_targets([1, 0, 1], 2, loss)


def test_bce_needs_0_1_and_mse_takes_any_real():
    assert encode_targets([[1, 0], [0, 0]], 2, "bce").tolist() == [[1, 0], [0, 0]]
    for bad in ([0.5, 1], [2, 0], [-1, 0]):
        with pytest.raises(ValueError, match="y: expected 0/1 labels for a sigmoid output"):
            encode_targets(bad, 1, "bce")
    Y = encode_targets([0.5, -2.0, 3.25], 1, "mse", dtype=np.float32)
    assert Y.dtype == np.float32 and Y.ravel().tolist() == [0.5, -2.0, 3.25]


@pytest.mark.parametrize("loss", ["mse", "bce", "cce"])
def test_bad_targets_are_refused_naming_the_argument(loss):
    with pytest.raises(TypeError, match="y_val: expected numeric targets, got an array of dtype <U1"):
        encode_targets(["a", "b"], 2, loss, name="y_val")
    with pytest.raises(TypeError, match="y: expected numeric targets, got an array of dtype object"):
        encode_targets(np.array([1, None], dtype=object), 2, loss)
    with pytest.raises(TypeError, match="y: expected real targets, got complex dtype complex128"):
        encode_targets([1 + 1j, 0], 2, loss)
    with pytest.raises(TypeError, match="y: expected an array of targets, got Unarrayable"):
        encode_targets(Unarrayable(), 2, loss)
    for bad, shape in [([], r"\(0,\)"), (np.zeros((2, 0)), r"\(2, 0\)"), (np.zeros((1, 1, 2)), r"\(1, 1, 2\)"),
                       (1.0, r"\(\)")]:
        with pytest.raises(ValueError, match=f"y: expected a non-empty 1-D or 2-D array, got shape {shape}"):
            encode_targets(bad, 2, loss)
    for bad in ([0, np.nan], [np.inf, 1]):
        with pytest.raises(ValueError, match="y: expected finite targets, got NaN or inf"):
            encode_targets(bad, 2, loss)


class Unarrayable:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no")


def test_messages_show_at_most_ten_values_or_three_rows():
    with pytest.raises(ValueError) as info:
        encode_targets(np.arange(12), 3, "cce")
    assert str(info.value).endswith(f"got values {np.arange(10)}")
    with pytest.raises(ValueError) as info:
        encode_targets(np.arange(12.0) / 4, 1, "bce")
    assert str(info.value) == f"y: expected 0/1 labels for a sigmoid output, got values {np.arange(10.0) / 4}"
    rows = [[1, 1], [0, 0], [2, 0], [1, 1], [0, 0]]
    with pytest.raises(ValueError) as info:
        encode_targets(rows, 2, "cce")
    assert str(info.value) == ("y: expected one-hot rows (a single 1 per row), got [[1, 1], [0, 0], [2, 0]]...")
