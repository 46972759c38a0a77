"""pyneuron.backends.c_checks on its own (issue 15 item 10: the mutation run of the checks in
front of every C call). Each check is tripped with exactly one bad property and its message
asserted; each is also passed on the good side of its branch, so a check that refuses
everything (or nothing) fails here: dtype, C-contiguity (Fortran vs strided wording), shape,
writability, alignment of what C writes, aliasing of outputs and of optimizer state, the
number checks, the step plan's layer bound and cache test, the per-thread workspace, and the
import error when the compiled module is missing."""
from __future__ import annotations

import importlib
import sys
import threading

import numpy as np
import pytest

from helpers import c_backend_module

c_backend_module()  # skip the file, or fail under PYNEURON_REQUIRE_C

from pyneuron import backends  # noqa: E402
from pyneuron.backends import c_checks as cc  # noqa: E402

F64, F32 = cc._TYPED[np.dtype(np.float64)], cc._TYPED[np.dtype(np.float32)]


def misaligned(shape, dtype=np.float64):
    """A C-contiguous array at an odd byte offset (np.frombuffer of a sliced buffer)."""
    n = int(np.prod(shape))
    raw = np.zeros(n * np.dtype(dtype).itemsize + 1, np.uint8)[1:]
    out = np.frombuffer(raw.data, dtype, n).reshape(shape)
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


def readonly(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def address(pointer):
    return int(cc.ffi.cast("uintptr_t", pointer))


# ---------------------------------------------------------------- _array
def test_array_refuses_a_non_array_naming_the_type():
    with pytest.raises(TypeError, match=r"^X: expected a numpy\.ndarray of float32 or float64, got list$"):
        cc._array("X", [[1.0]])


@pytest.mark.parametrize("dtype", ["int64", ">f8", "float16"])
def test_array_refuses_other_dtypes(dtype):
    with pytest.raises(TypeError, match=rf"^W: expected dtype float32 or float64 \(native byte order\), "
                                        rf"got {np.dtype(dtype)}$"):
        cc._array("W", np.zeros((2, 2), dtype))


@pytest.mark.parametrize("dtype,typed", [(np.float64, F64), (np.float32, F32)])
def test_array_returns_the_typed_functions_of_its_dtype(dtype, typed):
    assert cc._array("X", np.zeros((2, 3), dtype)) is typed
    assert cc._array("X", np.zeros((2, 3), dtype), ndim=2) is typed
    assert typed.dtype == np.dtype(dtype)


@pytest.mark.parametrize("ndim,shape", [(2, (3,)), (1, (2, 3)), (2, (1, 2, 3))])
def test_array_checks_the_number_of_dimensions_only_when_asked(ndim, shape):
    a = np.zeros(shape)
    with pytest.raises(ValueError, match=rf"^b: expected a {ndim}-D array, got shape {re_shape(shape)}$"):
        cc._array("b", a, ndim)
    assert cc._array("b", a) is F64            # ndim=None: any number of dimensions


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_array_says_fortran_ordered_or_strided():
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"^A: expected a C-contiguous array \(np\.ascontiguousarray makes "
                                         r"one\), got a Fortran-ordered array of shape \(2, 3\)$"):
        cc._array("A", fortran)
    strided = np.arange(12.0).reshape(2, 6)[:, ::2]
    with pytest.raises(ValueError, match=r"^A: expected a C-contiguous array .*got a non-contiguous "
                                         r"\(a strided view\) array of shape \(2, 3\)$"):
        cc._array("A", strided)


def test_a_misaligned_array_is_read_but_never_written():
    a = misaligned((2, 3))
    assert cc._array("X", a) is F64                     # an input: copied by ptr later
    with pytest.raises(ValueError, match=r"^out: expected an aligned array \(it is written in place\), "
                                         r"got a misaligned buffer$"):
        cc._array("out", a, written=True)
    assert cc._array("out", np.zeros((2, 3)), written=True) is F64


# ---------------------------------------------------------------- _Typed.ptr
def test_ptr_points_at_an_aligned_array_itself_and_copies_a_misaligned_one():
    a = np.arange(6.0).reshape(2, 3)
    assert address(F64.ptr(a)) == a.ctypes.data               # no copy
    m = misaligned((2, 3))
    m[...] = a
    p = F64.ptr(m)
    assert address(p) != m.ctypes.data
    assert address(p) % 8 == 0                                   # an aligned copy ...
    assert [p[i] for i in range(6)] == a.ravel().tolist()       # ... of the same numbers


# ---------------------------------------------------------------- _arrays, _shape
def test_arrays_returns_the_common_dtype_and_names_the_first_that_differs():
    x64, x32 = np.zeros((2, 2)), np.zeros((2, 2), np.float32)
    assert cc._arrays(A=(x64, 2), B=(x64, 2)) is F64
    assert cc._arrays(A=(x32, 2), B=(x32, 2), C=(x32[0].copy(), 1)) is F32
    with pytest.raises(TypeError, match=r"^B: expected dtype float64 like A, got float32$"):
        cc._arrays(A=(x64, 2), B=(x32, 2))
    with pytest.raises(TypeError, match=r"^C: expected dtype float32 like A, got float64$"):
        cc._arrays(A=(x32, 2), B=(x32, 2), C=(x64, 2))
    with pytest.raises(ValueError, match=r"^B: expected a 1-D array"):
        cc._arrays(A=(x64, 2), B=(x64, 1))


def test_shape():
    assert cc._shape("b", np.zeros(3), (3,)) is None
    with pytest.raises(ValueError, match=r"^b: expected shape \(4,\), got \(3,\)$"):
        cc._shape("b", np.zeros(3), (4,))


# ---------------------------------------------------------------- _output
def test_output_accepts_a_fresh_array_of_the_right_kind():
    A = np.ones((2, 3))
    assert cc._output("out", np.empty((2, 3)), F64, (2, 3), {"A": A}) is None


def test_output_refuses_each_wrong_property():
    A = np.ones((2, 3))
    with pytest.raises(TypeError, match=r"^out: expected a numpy\.ndarray"):
        cc._output("out", [[0.0] * 3] * 2, F64, (2, 3), {"A": A})
    with pytest.raises(TypeError, match=r"^out: expected dtype float64, got float32$"):
        cc._output("out", np.empty((2, 3), np.float32), F64, (2, 3), {"A": A})
    with pytest.raises(ValueError, match=r"^out: expected shape \(2, 3\), got \(3, 2\)$"):
        cc._output("out", np.empty((3, 2)), F64, (2, 3), {"A": A})
    with pytest.raises(ValueError, match=r"^out: expected a writable array, got a read-only one$"):
        cc._output("out", readonly(np.empty((2, 3))), F64, (2, 3), {"A": A})
    with pytest.raises(ValueError, match=r"^out: expected an aligned array"):
        cc._output("out", misaligned((2, 3)), F64, (2, 3), {"A": A})
    with pytest.raises(ValueError, match=r"^out: expected a C-contiguous array"):
        cc._output("out", np.empty((3, 2)).T, F64, (2, 3), {"A": A})


def test_output_names_the_input_it_overlaps():
    A, B = np.ones((2, 3)), np.ones((2, 3))
    with pytest.raises(ValueError, match=r"^out: must not share memory with the input B$"):
        cc._output("out", B, F64, (2, 3), {"A": A, "B": B})
    big = np.zeros(12)
    with pytest.raises(ValueError, match=r"^out: must not share memory with the input A$"):
        cc._output("out", big[6:].reshape(2, 3), F64, (2, 3), {"A": big[3:9].reshape(2, 3)})
    # adjacent halves of one buffer do not overlap
    assert cc._output("out", big[6:].reshape(2, 3), F64, (2, 3), {"A": big[:6].reshape(2, 3)}) is None


# ---------------------------------------------------------------- names and numbers
def test_activation_codes_match_the_c_enum():
    # kernels/pyneuron_kernels.h: linear 0, sigmoid 1, tanh 2, relu 3, leaky_relu 4, softmax 5
    expected = {"linear": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "softmax": 5}
    assert {name: cc._activation(name) for name in expected} == expected
    assert set(expected) == set(cc.ACTIVATIONS)


@pytest.mark.parametrize("bad", ["swish", 3, None, "Sigmoid"])
def test_activation_refuses_other_names(bad):
    with pytest.raises(ValueError, match=rf"^activation: expected one of sigmoid, tanh, relu, leaky_relu, "
                                         rf"softmax, linear, got {re_escape(repr(bad))}$"):
        cc._activation(bad)


def re_escape(text):
    import re
    return re.escape(text)


@pytest.mark.parametrize("value", [0, 2, 2.5, np.float32(0.25), np.int64(3), -1e300])
def test_real_takes_any_real_number_as_a_float(value):
    got = cc._real("lr", value)
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize("value,kind", [(True, "bool"), (False, "bool"), ("0.1", "str"),
                                        (1j, "complex"), (None, "NoneType")])
def test_real_refuses_bools_and_non_numbers(value, kind):
    with pytest.raises(TypeError, match=rf"^lr: expected a real number, got {kind}$"):
        cc._real("lr", value)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_finite_refuses_nan_and_inf(value):
    with pytest.raises(ValueError, match=rf"^eps: expected a finite number, got {re_escape(repr(value))}$"):
        cc._finite("eps", value)


def test_finite_passes_finite_numbers_and_type_errors():
    assert cc._finite("eps", 1e-8) == 1e-8 and type(cc._finite("eps", 1)) is float
    assert cc._finite("eps", -1e308) == -1e308
    with pytest.raises(TypeError, match=r"^eps: expected a real number, got bool$"):
        cc._finite("eps", True)


def test_step_count():
    assert cc._step_count(1) == 1 and type(cc._step_count(np.int64(7))) is int
    with pytest.raises(ValueError, match=r"^t: expected a step count >= 1, got 0$"):
        cc._step_count(0)
    with pytest.raises(ValueError, match=r"^t: expected a step count >= 1, got -3$"):
        cc._step_count(-3)
    for bad, kind in ((True, "bool"), (1.0, "float"), ("1", "str")):
        with pytest.raises(TypeError, match=rf"^t: expected an integer step count, got {kind}$"):
            cc._step_count(bad)


def test_ok_raises_on_any_nonzero_code():
    assert cc._ok(0) is None
    for code in (1, 3, -2):
        with pytest.raises(RuntimeError, match=rf"^pyneuron\._kernels: internal error code {code}$"):
            cc._ok(code)


# ---------------------------------------------------------------- _same, _in_place
def test_in_place_checks_dtype_shape_and_alignment_of_the_state():
    g = np.zeros(3)
    with pytest.raises(TypeError, match=r"^m: expected dtype float64 like grad, got float32$"):
        cc._in_place(g, param=np.zeros(3), m=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"^m: expected shape \(3,\), got \(4,\)$"):
        cc._in_place(g, param=np.zeros(3), m=np.zeros(4))
    with pytest.raises(ValueError, match=r"^m: expected an aligned array"):
        cc._in_place(g, param=np.zeros(3), m=misaligned((3,)))


def test_in_place_returns_the_typed_functions_and_grad_itself_when_apart():
    p, g, v = np.zeros(3), np.ones(3), np.zeros(3)
    t, grad = cc._in_place(g, param=p, velocity=v)
    assert t is F64 and grad is g
    t, grad = cc._in_place(readonly(np.ones(3, np.float32)), param=np.zeros(3, np.float32))
    assert t is F32


def test_in_place_copies_a_grad_that_is_the_param():
    p = np.arange(3.0)
    t, grad = cc._in_place(p, param=p)
    assert grad is not p and not np.shares_memory(grad, p) and grad.tolist() == [0.0, 1.0, 2.0]
    buf = np.arange(6.0)        # a grad overlapping param only in part is copied too
    t, grad = cc._in_place(buf[2:5], param=buf[:3])
    assert not np.shares_memory(grad, buf) and grad.tolist() == [2.0, 3.0, 4.0]


def test_in_place_refuses_a_read_only_state_naming_it():
    g = np.ones(3)
    with pytest.raises(ValueError, match=r"^param: expected a writable array \(updated in place\), "
                                         r"got a read-only one$"):
        cc._in_place(g, param=readonly(np.zeros(3)))
    with pytest.raises(ValueError, match=r"^v: expected a writable array"):
        cc._in_place(g, param=np.zeros(3), m=np.zeros(3), v=readonly(np.zeros(3)))


def test_in_place_refuses_states_that_share_memory_naming_both():
    g, buf = np.ones(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"^velocity: must not share memory with param "
                                         r"\(both are updated in place\)$"):
        cc._in_place(g, param=buf, velocity=buf)
    with pytest.raises(ValueError, match=r"^v: must not share memory with m \(both"):
        cc._in_place(g, param=np.zeros(3), m=buf, v=buf)
    with pytest.raises(ValueError, match=r"^v: must not share memory with param \(both"):
        cc._in_place(g, param=buf, m=np.zeros(3), v=buf)


def test_in_place_refuses_a_state_array_inside_grad():
    g = np.ones(3)
    with pytest.raises(ValueError, match=r"^velocity: must not share memory with grad "
                                         r"\(it is updated in place\)$"):
        cc._in_place(g, param=np.zeros(3), velocity=g)
    with pytest.raises(ValueError, match=r"^v: must not share memory with grad"):
        cc._in_place(g, param=np.zeros(3), m=np.zeros(3), v=g)


def test_in_place_checks_each_state_against_grad():
    g = np.ones(3)
    with pytest.raises(TypeError, match=r"^velocity: expected dtype float64 like grad, got float32$"):
        cc._in_place(g, param=np.zeros(3), velocity=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"^param: expected shape \(3,\), got \(2,\)$"):
        cc._in_place(g, param=np.zeros(2))
    with pytest.raises(TypeError, match=r"^grad: expected a numpy\.ndarray"):
        cc._in_place([1.0], param=np.zeros(1))


# ---------------------------------------------------------------- _workspace (per thread)
def _in_a_new_thread(fn):
    out = {}

    def run():
        out["value"] = fn()
    th = threading.Thread(target=run)
    th.start()
    th.join()
    return out["value"]


def test_workspace_is_reused_until_a_bigger_one_is_needed():
    def calls():
        first = cc._workspace(F64, 10)
        same = cc._workspace(F64, 10)
        smaller = cc._workspace(F64, 4)
        other_dtype = cc._workspace(F32, 10)
        bigger = cc._workspace(F64, 11)
        return first, same, smaller, other_dtype, bigger
    first, same, smaller, other_dtype, bigger = _in_a_new_thread(calls)
    assert first[1] == 10 and same == first and smaller == first
    assert other_dtype[1] == 10 and other_dtype[0] != first[0]
    assert bigger[1] == 11 and bigger[0] != first[0]


def test_workspace_of_nothing_is_one_element():
    ptr, n = _in_a_new_thread(lambda: cc._workspace(F64, 0))
    assert n == 1 and address(ptr) != 0


def test_workspaces_are_per_thread():
    a = _in_a_new_thread(lambda: cc._workspace(F64, 5))
    b = _in_a_new_thread(lambda: cc._workspace(F64, 5))
    assert a[1] == b[1] == 5


# ---------------------------------------------------------------- _StepPlan
def layers(n_layers, dtype=np.float64):
    Ws = [np.full((1, 1), 0.5, dtype) for _ in range(n_layers)]
    bs = [np.zeros(1, dtype) for _ in range(n_layers)]
    return Ws, bs, ["linear"] * n_layers


def test_step_plan_takes_1_to_64_layers():
    assert cc._MAX_LAYERS == 64        # PYN_ERR_LAYERS in kernels/pyneuron_kernels.h
    for n in (1, 64):
        Ws, bs, acts = layers(n)
        plan = cc._StepPlan(Ws, bs, acts, "mse")
        assert (plan.L, plan.n_in, plan.n_out) == (n, 1, 1)
    Ws, bs, acts = layers(65)
    with pytest.raises(ValueError, match=r"^weights, biases, activations: expected 1 to 64 layers "
                                         r"\(the C step's limit\), got 65$"):
        cc._StepPlan(Ws, bs, acts, "mse")
    with pytest.raises(ValueError, match=r"^weights, biases, activations: expected one of each per layer "
                                         r"and 1 or more layers, got 0, 0, 0$"):
        cc._StepPlan([], [], [], "mse")


def test_64_layers_train_and_65_are_refused_by_the_c_backend():
    C = backends.get("c")
    X, Y = np.ones((1, 1)), np.zeros((1, 1))
    Ws, bs, acts = layers(64)
    loss = C.sgd_train_step(X, Y, Ws, bs, acts, "mse", 0.0)
    assert loss == pytest.approx(0.5 ** 128, rel=1e-12)          # product of 64 weights 0.5, squared
    Ws, bs, acts = layers(65)
    with pytest.raises(ValueError, match="expected 1 to 64 layers"):
        C.sgd_train_step(X, Y, Ws, bs, acts, "mse", 0.0)


@pytest.mark.parametrize("n_b,n_a", [(1, 2), (2, 1)])
def test_step_plan_needs_one_bias_and_activation_per_layer(n_b, n_a):
    Ws, bs, acts = layers(2)
    with pytest.raises(ValueError, match=rf"got 2, {n_b}, {n_a}$"):
        cc._StepPlan(Ws, bs[:n_b], acts[:n_a], "mse")


def test_step_plan_refuses_non_lists_and_unknown_losses():
    Ws, bs, acts = layers(1)
    with pytest.raises(TypeError, match=r"^weights, biases: expected lists of arrays, got ndarray, list$"):
        cc._StepPlan(Ws[0], bs, acts, "mse")
    with pytest.raises(TypeError, match=r"^weights, biases: expected lists of arrays, got list, dict$"):
        cc._StepPlan(Ws, {}, acts, "mse")
    assert cc._StepPlan(tuple(Ws), tuple(bs), acts, "bce").loss_code == 1
    with pytest.raises(ValueError, match=r"^loss: expected one of mse, bce, cce, got 'hinge'$"):
        cc._StepPlan(Ws, bs, acts, "hinge")
    assert [cc._StepPlan(Ws, bs, acts, loss).loss_code for loss in ("mse", "bce", "cce")] == [0, 1, 2]


def test_step_plan_refuses_read_only_and_misaligned_parameters():
    Ws, bs, acts = layers(2)
    with pytest.raises(ValueError, match=r"^biases\[1\]: expected a writable array \(updated in place\), "
                                         r"got a read-only one$"):
        cc._StepPlan(Ws, [bs[0], readonly(bs[1])], acts, "mse")
    with pytest.raises(ValueError, match=r"^weights\[0\]: expected a writable array"):
        cc._StepPlan([readonly(Ws[0]), Ws[1]], bs, acts, "mse")
    bad = misaligned((1, 1))
    with pytest.raises(ValueError, match=r"^weights\[1\]: expected an aligned array"):
        cc._StepPlan([Ws[0], bad], bs, acts, "mse")


def test_step_plan_checks_each_layers_shape_against_the_previous_one():
    W1, W2 = np.zeros((4, 3)), np.zeros((2, 4))
    b1, b2 = np.zeros(4), np.zeros(2)
    plan = cc._StepPlan([W1, W2], [b1, b2], ["relu", "sigmoid"], "bce")
    assert (plan.L, plan.n_in, plan.n_out) == (2, 3, 2)
    assert [plan.c_sizes[i] for i in range(3)] == [3, 4, 2]
    assert [plan.c_acts[i] for i in range(2)] == [3, 1]
    with pytest.raises(ValueError, match=r"^weights\[1\]: expected shape \(2, 4\), got \(2, 5\)$"):
        cc._StepPlan([W1, np.zeros((2, 5))], [b1, b2], ["relu", "sigmoid"], "bce")
    with pytest.raises(ValueError, match=r"^biases\[0\]: expected shape \(4,\), got \(3,\)$"):
        cc._StepPlan([W1, W2], [np.zeros(3), b2], ["relu", "sigmoid"], "bce")


def test_step_plan_matches_only_the_same_arrays_unchanged():
    Ws, bs, acts = layers(2)
    plan = cc._StepPlan(Ws, bs, acts, "mse")
    assert plan.matches(Ws, bs, acts, "mse")
    assert plan.matches(list(Ws), tuple(bs), tuple(acts), "mse")
    assert not plan.matches(Ws, bs, acts, "bce")
    assert not plan.matches(Ws, bs, ["linear", "tanh"], "mse")
    assert not plan.matches(Ws[:1], bs, acts, "mse")
    assert not plan.matches(Ws, bs[:1], acts, "mse")
    assert not plan.matches([Ws[0], Ws[1].copy()], bs, acts, "mse")
    assert not plan.matches(Ws, [bs[0].copy(), bs[1]], acts, "mse")
    bs[1].flags.writeable = False
    assert not plan.matches(Ws, bs, acts, "mse")
    bs[1].flags.writeable = True
    Ws[0].shape = (1, 1, 1)
    assert not plan.matches(Ws, bs, acts, "mse")
    Ws[0].shape = (1, 1)
    assert plan.matches(Ws, bs, acts, "mse")


def test_step_plan_grows_its_workspace_to_the_batch():
    Ws, bs, acts = layers(2)
    plan = cc._StepPlan(Ws, bs, acts, "mse")
    assert (plan.m_cap, plan.work, plan.work_len) == (-1, None, 0)
    plan.grow(5)
    assert plan.m_cap == 5
    assert plan.work_len == plan.t.train_step_workspace(plan.L, plan.c_sizes, 5) == plan._work_array.size


# ---------------------------------------------------------------- the import
def test_a_missing_compiled_module_is_an_import_error_that_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyneuron._kernels", None)       # import of it raises ImportError
    monkeypatch.delitem(sys.modules, "pyneuron.backends.c_checks")
    with pytest.raises(ImportError, match=r"^the compiled module pyneuron\._kernels is missing or broken: "):
        importlib.import_module("pyneuron.backends.c_checks")
