"""The C kernels as a cffi extension (see build_kernels.py), and the wheel's tag.

cffi builds the module for CPython's limited API: its generated C defines
``Py_LIMITED_API`` before including Python.h, and it marks the extension
``py_limited_api``, so the module is ``pyneuron/_kernels.abi3.so``. The wheel's tag says
the same (``cp310-abi3``: one wheel for CPython 3.10 and every later version), except
where cffi cannot use the limited API — a debug or free-threaded interpreter, or PyPy —
and the module and the wheel keep the interpreter's own tag.
"""
import sys
import sysconfig

from setuptools import setup

#: The oldest CPython the abi3 wheel promises to load in: pyproject's requires-python.
LIMITED_API_FLOOR = "cp310"


def limited_api_options():
    """``{"bdist_wheel": {"py_limited_api": "cp310"}}`` when cffi builds this extension for
    the limited API (cffi.setuptools_ext._set_py_limited_api's conditions), else ``{}``."""
    from cffi import recompiler
    if (sys.implementation.name != "cpython" or hasattr(sys, "gettotalrefcount")
            or sysconfig.get_config_var("Py_GIL_DISABLED") or not recompiler.USE_LIMITED_API):
        return {}
    return {"bdist_wheel": {"py_limited_api": LIMITED_API_FLOOR}}


setup(cffi_modules=["build_kernels.py:ffibuilder"], options=limited_api_options())
