"""The pages of the documentation that are generated at build time, and the list of
what must be documented.

* :func:`public_modules` — every module of pyneuron whose dotted name has no part
  starting with ``_`` (the lessons' own modules are rendered as notebooks instead);
* :func:`public_names` — a module's public names: its ``__all__`` if it has one,
  else the functions and classes it defines whose names do not start with ``_``;
* :func:`write_api` — one page per public module (its docstring, then each public
  name through autodoc) and an index grouped by topic;
* :func:`write_lessons` — every lesson as a notebook, made from the lesson's source
  by :mod:`pyneuron.lessons.notebook` (the project's own generator).

``conf.py`` calls the two writers; ``check_coverage.py`` uses the two lists. The
written files (``docs/api/``, ``docs/lessons/``) are build products, not sources.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re

#: Topics of the API index, in reading order; a public module not named here is
#: listed under "Other modules", so none is ever left out.
GROUPS = [
    ("The model", ["pyneuron", "pyneuron.network", "pyneuron.layers", "pyneuron.neuron", "pyneuron.activations",
                   "pyneuron.initializers", "pyneuron.losses", "pyneuron.penalties", "pyneuron.nonfinite"]),
    ("Training", ["pyneuron.training", "pyneuron.training_plan", "pyneuron.optimizers", "pyneuron.schedules",
                  "pyneuron.progress", "pyneuron.metrics", "pyneuron.gradcheck", "pyneuron.explain"]),
    ("Data and files", ["pyneuron.datasets", "pyneuron.io", "pyneuron.validation"]),
    ("Figures and notebook displays", ["pyneuron.plot", "pyneuron.display"]),
    ("Backends and the tools to check them", [
        "pyneuron.backends", "pyneuron.backends.base", "pyneuron.backends.scalar", "pyneuron.backends.numpy_backend",
        "pyneuron.backends.numpy_plan", "pyneuron.backends.c_backend", "pyneuron.backends.c_checks",
        "pyneuron.backends.c_plan", "pyneuron.backends.registry", "pyneuron.testing", "pyneuron.kernel_cases",
        "pyneuron.trace", "pyneuron.compare", "pyneuron.precision", "pyneuron.ulps"]),
    ("scikit-learn and PyTorch", ["pyneuron.sklearn", "pyneuron.interop_torch"]),
    ("Command line, lessons and benchmarks", ["pyneuron.cli", "pyneuron.lessons", "pyneuron.lessons.notebook",
                                              "pyneuron.lessons.timing", "pyneuron.bench_report",
                                              "pyneuron.bench_fit", "pyneuron.bench_common"]),
]


def lesson_modules():
    """The dotted names of the lessons' own modules (rendered as notebooks)."""
    from pyneuron import lessons
    return {f"pyneuron.lessons.{name}" for _, name, _ in lessons.LESSONS}


def public_modules():
    """Every public module of pyneuron, the package itself first, lessons left out."""
    import pyneuron
    skip = lesson_modules()
    names = ["pyneuron"]
    for info in pkgutil.walk_packages(pyneuron.__path__, "pyneuron."):
        if not any(part.startswith("_") for part in info.name.split(".")) and info.name not in skip:
            names.append(info.name)
    return names


def _kind(obj):
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.ismodule(obj):
        return "module"
    if callable(obj):
        return "function"
    return "data"


def public_data(modname):
    """The module's public constants that carry a ``#:`` doc comment and are not
    already among its public names: documented too, so a docstring can refer to them."""
    try:
        from sphinx.pycode import ModuleAnalyzer
    except ImportError:                     # outside a docs build (the tests): no constants
        return []
    named = {name for name, _, _ in public_names(modname)}
    try:
        commented = ModuleAnalyzer.for_module(modname).find_attr_docs()
    except Exception:                       # no source (a compiled module): nothing to add
        return []
    return [name for scope, name in commented
            if scope == "" and not name.startswith("_") and name not in named]


def public_names(modname):
    """``[(name, object, kind)]``: the public names of module ``modname``."""
    module = importlib.import_module(modname)
    if hasattr(module, "__all__"):
        names = list(module.__all__)
    else:
        names = [name for name, obj in vars(module).items()
                 if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                 and getattr(obj, "__module__", None) == modname]
    # a name in __all__ that the module lacks is left to check_coverage.py to report
    return [(name, getattr(module, name), _kind(getattr(module, name))) for name in names if hasattr(module, name)]


def home(obj):
    """The public module that documents ``obj`` in full (its defining module), or
    ``None`` when that module is private or not a page of its own."""
    modname = getattr(obj, "__module__", None)
    if modname in public_modules() and getattr(obj, "__qualname__", "").count(".") == 0:
        return modname
    return None


def _title(text, char="="):
    return f"{text}\n{char * len(text)}\n"


def module_page(modname):
    """The reST of the page for ``modname``."""
    lines = [_title(f"``{modname}``"), f".. automodule:: {modname}", "   :no-members:", ""]
    elsewhere = []
    for name, obj, kind in public_names(modname):
        if kind == "module":
            elsewhere.append(f"* :mod:`{obj.__name__}` — {_summary(obj)}")
            continue
        where = home(obj) if kind != "data" else None
        if where is not None and where != modname:
            role = "func" if kind == "function" else ("exc" if kind == "exception" else "class")
            elsewhere.append(f"* :{role}:`{modname}.{name} <{where}.{obj.__qualname__}>` — {_summary(obj)}")
            continue
        directive = {"class": "autoclass", "exception": "autoexception", "function": "autofunction",
                     "data": "autodata"}[kind]
        lines += [f".. {directive}:: {modname}.{name}"]
        if kind in ("class", "exception"):
            lines += ["   :members:", "   :undoc-members:", "   :show-inheritance:"]
        elif kind == "data":
            lines += ["   :no-value:"]
        lines.append("")
    for name in public_data(modname):
        lines += [f".. autodata:: {modname}.{name}", "   :no-value:", ""]
    if elsewhere:
        lines[4:4] = [".. rubric:: Also here, documented where they are defined", "", *elsewhere, ""]
    return "\n".join(lines)


def _summary(obj):
    """The first paragraph of ``obj``'s docstring, on one line (markup stays balanced
    within a paragraph)."""
    doc = inspect.getdoc(obj) or ""
    text = " ".join(doc.split("\n\n", 1)[0].split()) or "(no docstring)"
    # a cross-reference resolves against its own module, not this page's: keep its words only
    return re.sub(r":[a-z:]+:`(~?)([^`<]*?)\s*(<[^>]*>)?`",
                  lambda m: "``" + (m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2)).strip() + "``", text)


def write_api(directory):
    """Write ``index.rst`` and one page per public module into ``directory``."""
    os.makedirs(directory, exist_ok=True)
    modules = public_modules()
    grouped = {m for _, members in GROUPS for m in members}
    groups = [(title, [m for m in members if m in modules]) for title, members in GROUPS]
    others = [m for m in modules if m not in grouped]
    if others:
        groups.append(("Other modules", others))
    index = [_title("API reference"),
             "Generated from the docstrings of every public module (``import pyneuron as pn`` gives the "
             "names of :mod:`pyneuron`). Shapes follow NumPy: ``X`` is ``(n_samples, n_features)``, "
             "a weight matrix ``W`` is ``(n_out, n_in)``, one row per neuron. \"Seed 000\" to \"seed 004\" in "
             "a docstring are the five tutorials pyneuron grew from (:doc:`the learning path </learning>` "
             "says what each one is).", ""]
    for title, members in groups:
        index += [_title(title, "-"), ".. toctree::", "   :maxdepth: 1", ""]
        index += [f"   {m}" for m in members]
        index.append("")
    _write(os.path.join(directory, "index.rst"), "\n".join(index))
    for modname in modules:
        _write(os.path.join(directory, f"{modname}.rst"), module_page(modname))


#: Optional packages a lesson may import; a lesson that needs one that is missing is
#: rendered without running it.
LESSON_PACKAGES = {"torch": "PyTorch", "sklearn": "scikit-learn", "matplotlib": "matplotlib"}


def missing_packages(lesson):
    """The optional packages lesson ``lesson`` imports that cannot be imported here."""
    import importlib.util
    import re
    from pyneuron import lessons
    source = inspect.getsource(lessons.load(lesson))
    return [LESSON_PACKAGES[name] for name in LESSON_PACKAGES
            if re.search(rf"^\s*(import|from) {name}\b", source, re.M) and importlib.util.find_spec(name) is None]


def write_lessons(directory, fast=True, executed=True):
    """Write every lesson as ``NN_name.ipynb`` into ``directory`` (numpy backend,
    ``FAST`` as given), and an ``index.md`` listing them in learning order. Returns
    the notebooks that cannot run here (a package they import is missing)."""
    from pyneuron import lessons
    from pyneuron.lessons import notebook
    os.makedirs(directory, exist_ok=True)
    entries, unrunnable, notes = [], [], []
    for number, name, summary in lessons.LESSONS:
        path = notebook.write(name, directory, backend="numpy", fast=fast)
        entries.append(os.path.splitext(os.path.basename(path))[0])
        missing = missing_packages(name)
        if missing:
            unrunnable.append(os.path.basename(path))
            notes.append(f"Lesson {number} is shown without its outputs: it needs {', '.join(missing)}, "
                         "which these pages were built without.")
    index = ["# Lessons", "",
             "The tutorials pyneuron grew from, as runnable lessons, in learning order. Each page is the "
             "lesson's notebook, generated from its source in `pyneuron/lessons/` when these pages were "
             "built; `pyneuron lessons --notebook NN` writes the same notebook for you to run "
             "(`--backend scalar` to step through the loops). " + (
                 "Here they ran on numpy with the lessons' quick setting (`FAST = True`)." if executed else
                 "Here they are shown without running them (the pages were built with "
                 "`PYNEURON_DOCS_EXECUTE=0`)."), "", *(f"{line}\n" for line in notes),
             "```{toctree}", ":maxdepth: 1", "", *entries, "```", ""]
    _write(os.path.join(directory, "index.md"), "\n".join(index))
    return unrunnable


def _write(path, text):
    """Write ``text`` unless the file already holds it (so Sphinx rebuilds only what changed)."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
