"""pyneuron.backends.slope_name's edges (issue 15 item 10: the mutation run of
pyneuron/backends/slope_name.py): the deprecation warning of the old ``alpha=`` keyword is
attributed to the exact line that called the kernel (not a frame above it), and
:func:`old_named_kernels` lists only kernels whose slope is still called ``alpha`` — not
one that says neither name, nor one that takes both.

Oracles: the line numbers of this file (``inspect.currentframe().f_lineno``) and signatures
written by hand."""
import inspect
import warnings

import numpy as np
import pytest

from pyneuron.backends.slope_name import old_named_kernels

Z = np.array([[1.0, -2.0], [-0.5, 3.0]])


def _call_with_old_keyword(kernels):
    """Call a kernel with ``alpha=``; the warnings and the line number of the call."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        kernels.activation_forward("leaky_relu", Z, alpha=0.2)
    return [w for w in rec if w.category is DeprecationWarning], line


def test_the_old_keyword_warning_points_at_the_calling_line(kernels):
    warned, line = _call_with_old_keyword(kernels)
    assert len(warned) == 1
    assert (warned[0].filename, warned[0].lineno) == (__file__, line)


def test_old_named_kernels_lists_only_kernels_still_saying_alpha():
    def old(self, name, Z, alpha=0.01):
        return Z

    def new(self, name, Z, negative_slope=0.01):
        return Z

    def neither(self, name, Z, slope=0.01):
        return Z

    def both(self, name, Z, negative_slope=0.01, *, alpha=None):
        return Z

    assert old_named_kernels({"activation_forward": neither, "activation_backward": both,
                              "dense_forward": new}) == []
    assert old_named_kernels({"activation_forward": old, "activation_backward": neither,
                              "dense_forward": both, "output_gradient": old}) == \
        ["activation_forward", "output_gradient"]
    # a kernel that does not take the slope is never listed, whatever its parameters say
    assert old_named_kernels({"loss": old}) == []
