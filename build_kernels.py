"""Build pyneuron's C kernels with cffi in API (out-of-line) mode.

``pip install .`` runs this through ``setup.py`` (``cffi_modules``); during
development ``python build_kernels.py`` rebuilds ``pyneuron/_kernels*.so`` in
place. The module is *optional*: where no compiler exists the package still
installs and runs on the ``scalar`` and ``numpy`` backends -- unless the
environment sets ``PYNEURON_REQUIRE_C=1`` (as CI does), which makes a failed
build a hard error.

No ``-march=native``: the AVX2/FMA code is selected at run time inside the C
code, so a wheel built here runs on any x86-64. OpenMP (the threads rung) is used where
the compiler links it; ``PYNEURON_NO_OPENMP=1`` builds without it.

A sanitizer build (AddressSanitizer + UBSan, so an overrun fails loudly instead of
relying on the allocator's luck): ``PYNEURON_SANITIZE=1``. Build it in a copy of the tree
(the in-place module is shared by everything that imports pyneuron here) and preload the
runtimes::

    cp -r kernels pyneuron tests build_kernels.py setup.py pyproject.toml /tmp/san/
    cd /tmp/san && PYNEURON_SANITIZE=1 python build_kernels.py
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
    ASAN_OPTIONS=detect_leaks=0 PYTHONPATH=/tmp/san python -m pytest tests/test_c_*.py tests/test_fused_*.py
"""
import os
import re
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join("kernels", "pyneuron_kernels.h")
SOURCES = [os.path.join("kernels", "pyneuron_kernels.c")]
DEPENDS = [HEADER, os.path.join("kernels", "vector_exp.c")] + [os.path.join("kernels", f"typed_{topic}.c")
                      for topic in ("kernels", "ladder", "narrow", "avx512", "small", "gemm", "layers",
                                    "toolkit", "sgd_step", "fit_pass", "fit_update", "fit")]
REQUIRE_C = os.environ.get("PYNEURON_REQUIRE_C", "") not in ("", "0")


def cdef_text(header_path):
    """The header as cffi's cdef() accepts it: no preprocessor lines except
    integer ``#define NAME 123`` constants (the error codes)."""
    keep = []
    with open(header_path, encoding="utf-8") as f:
        for line in f:
            if not line.lstrip().startswith("#") or re.match(r"#define PYN_\w+ \d+", line):
                keep.append(line)
    return "".join(keep)


def openmp_flags():
    """``["-fopenmp"]`` if the C compiler builds and links an OpenMP program, else ``[]``:
    the kernels then run on one thread (the threads rung's clean fallback)."""
    if sys.platform == "win32" or os.environ.get("PYNEURON_NO_OPENMP"):
        return []
    import shutil
    import subprocess
    import sysconfig
    import tempfile
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    if not shutil.which(cc[0]):
        return []
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        try:
            ok = subprocess.run(cc + ["-fopenmp", src, "-o", os.path.join(tmp, "omp")],
                                capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
    return ["-fopenmp"] if ok else []


OPENMP = openmp_flags()


SANITIZE = (["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
            if os.environ.get("PYNEURON_SANITIZE", "") not in ("", "0") and sys.platform != "win32"
            else [])


def compile_args():
    if sys.platform == "win32":
        return ["/O2"]
    return ["-O3", "-std=gnu11", "-fno-math-errno", "-falign-loops=64"] + OPENMP + SANITIZE


ffibuilder = FFI()
ffibuilder.cdef(cdef_text(os.path.join(HERE, HEADER)))
ffibuilder.set_source(
    "pyneuron._kernels",
    '#include "pyneuron_kernels.h"',
    sources=SOURCES,
    depends=DEPENDS,
    include_dirs=["kernels"],
    extra_compile_args=compile_args(),
    extra_link_args=OPENMP + SANITIZE,
    libraries=[] if sys.platform == "win32" else ["m"],
    optional=not REQUIRE_C,
)


def _remove_stale_modules(fresh):
    """An older in-place build (e.g. ``_kernels.abi3.so`` from ``pip install -e``)
    could shadow the fresh one: remove every other ``pyneuron/_kernels*`` binary.
    Called only after a successful build, so a failed one leaves the old module working."""
    pkg = os.path.join(HERE, "pyneuron")
    for name in os.listdir(pkg):
        path = os.path.join(pkg, name)
        if (name.startswith("_kernels") and name.endswith((".so", ".pyd", ".dylib"))
                and os.path.abspath(path) != os.path.abspath(fresh)):
            os.remove(path)


if __name__ == "__main__":
    os.chdir(HERE)
    # compile() writes pyneuron/_kernels.c and the .so next to it (tmpdir=".").
    _remove_stale_modules(ffibuilder.compile(tmpdir=".", verbose=True))
