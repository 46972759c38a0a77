"""Sphinx configuration of pyneuron's documentation.

Build: ``pip install ".[docs]"`` then
``python -m sphinx -W --keep-going -n -b html docs docs/_build/html`` (warnings are
errors, ``-n`` is nitpicky: a broken cross-reference fails the build), then
``python docs/check_coverage.py docs/_build/html`` (every public name documented).

Generated at build time, never committed: ``docs/api/`` (a page per public module,
from :mod:`pages`) and ``docs/lessons/`` (each lesson's notebook, from its source).
The lessons are executed on the numpy backend with the lessons' quick setting
(``PYNEURON_DOCS_EXECUTE=0`` renders them unexecuted).
"""
from __future__ import annotations

import importlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import offline_math  # noqa: E402  (docs/offline_math.py)
import pages  # noqa: E402  (docs/pages.py)

os.environ.setdefault("PYNEURON_PROGRESS", "0")     # no progress bars in the rendered lessons
os.environ.setdefault("MPLBACKEND", "Agg")

import pyneuron  # noqa: E402
from sphinx.ext.napoleon import docstring as napoleon_docstring  # noqa: E402

project = "pyneuron"
author = "the pyneuron developers"
copyright = "the pyneuron developers, MIT license"
release = pyneuron.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax", "myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
nitpicky = True
# Objects of other libraries: these pages are built offline (no intersphinx), so a reference to
# NumPy, scikit-learn, matplotlib, PyTorch or the standard library is shown as a name, not a link.
nitpick_ignore_regex = [(r"py:.*", r"(abc|csv|collections|typing|numpy|np|sklearn|matplotlib|torch)(\..*)?")]
# README headings jump from the page title (#) to ### where a section is included without its ##.
suppress_warnings = ["myst.header"]
html_theme = "furo"
html_title = f"pyneuron {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "none"                 # the docstrings say the types, shapes and dtypes in words
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_use_param = False                 # "name (type) -- text": types as words, not cross-references
napoleon_use_rtype = False

def _prose_attribute_docstring(self):
    """An attribute's or constant's docstring is prose in pyneuron ("Colours used
    throughout: ..."), never napoleon's "type: description" line."""
    return self._consume_to_end()


def _attributes_as_fields(self, section):
    """An "Attributes" section as a list like "Parameters" ("name (type) -- text"):
    its types are words ("list of ndarray"), not cross-references."""
    return self._format_fields(section, self._consume_fields())


napoleon_docstring.GoogleDocstring._parse_attribute_docstring = _prose_attribute_docstring
napoleon_docstring.GoogleDocstring._parse_attributes_section = _attributes_as_fields

# Formulas typeset offline, from a copy of MathJax inside the site (docs/offline_math.py).
mathjax_path = offline_math.MATHJAX_PATH
mathjax2_config = offline_math.MATHJAX2_CONFIG

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
EXECUTE = os.environ.get("PYNEURON_DOCS_EXECUTE", "1") != "0"
nb_execution_mode = "force" if EXECUTE else "off"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_in_temp = True
smartquotes = False                         # "--fast" stays two hyphens, quotes stay as typed                 # a lesson's files land in a temporary folder, not in docs/
nb_execution_show_tb = True
nb_merge_streams = True

pages.write_api(os.path.join(HERE, "api"))
UNRUNNABLE = pages.write_lessons(os.path.join(HERE, "lessons"), fast=True, executed=EXECUTE)
nb_execution_excludepatterns = [f"lessons/{name}" for name in UNRUNNABLE]


# ------------------------------------------------------------------------------------------------
# Cross-references: docstrings say :class:`MLP` or :meth:`parameters` as a reader would. A
# reference Sphinx cannot place is resolved here when it names exactly one documented object:
# first by importing the name (pyneuron.MLP is pyneuron.network.MLP), then by the short name
# within the referring class, its module, its package, and finally the whole project. Anything
# still ambiguous or missing stays a warning, which fails the build.
def _documented(env):
    return env.get_domain("py").objects


def _by_import(target, objects):
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        name = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        if name in objects:
            return name
        public = pages.home(obj)
        if public and f"{public}.{obj.__qualname__}" in objects:
            return f"{public}.{obj.__qualname__}"
        return None
    return None


def _class_scopes(module, klass):
    """The referring class and its bases (where an inherited method is documented)."""
    if not (module and klass):
        return []
    scopes = [f"{module}.{klass}"]
    try:
        obj = importlib.import_module(module)
        for attr in klass.split("."):
            obj = getattr(obj, attr)
    except (ImportError, AttributeError):
        return scopes
    for base in getattr(obj, "__mro__", ())[1:]:
        scopes.append(f"{base.__module__}.{base.__qualname__}")
    return scopes


def _by_short_name(target, objects, module, klass):
    short = target.lstrip("~.")
    scopes = [s for s in (*_class_scopes(module, klass), module,
                          module.rsplit(".", 1)[0] if module and "." in module else None) if s]
    for scope in scopes:
        found = [name for name in objects if name.startswith(scope + ".") and name.endswith("." + short)]
        if len(found) == 1:
            return found[0]
        exact = f"{scope}.{short}"
        if exact in objects:
            return exact
    found = [name for name in objects if name.endswith("." + short) or name == short]
    return found[0] if len(found) == 1 else None


def resolve_short_names(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    objects = _documented(env)
    name = _by_import(target, objects) if target.startswith("pyneuron") else None
    if name is None:
        name = _by_short_name(target, objects, node.get("py:module"), node.get("py:class"))
    if name is None:
        return None
    return env.get_domain("py").resolve_xref(env, node.get("refdoc"), app.builder, node.get("reftype"),
                                             name, node, contnode)


def skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out members a class gets from another library (scikit-learn's
    ``set_params``, its metadata-routing ``set_fit_request``): their docstrings are
    that library's, with references into its own documentation."""
    module = getattr(obj, "__module__", None) or ""
    if what in ("class", "exception") and module and not module.startswith("pyneuron"):
        return True
    return None


def drop_private_bases(app, name, obj, options, bases):
    """``show-inheritance`` names only public base classes (a private one has no page)."""
    bases[:] = [b for b in bases if b is not object and not any(part.startswith("_") for part in
                                            f"{getattr(b, '__module__', '')}.{getattr(b, '__qualname__', '')}".split("."))]


#: NumPy-style sections whose entries are fields ("name : type" lines).
FIELD_SECTIONS = {"parameters", "params", "other parameters", "attributes", "keyword arguments",
                  "raises", "returns", "yields", "warns"}
FIELD = re.compile(r"^\*{0,2}[A-Za-z_][\w.]*(\s*,\s*\*{0,2}[A-Za-z_][\w.]*)*(\s+:(\s.*)?)?\s*$")


def end_field_sections(app, what, name, obj, options, lines):
    """A NumPy-style section (``Parameters`` then dashes) has no end of its own, so
    napoleon reads a closing paragraph ("Dropout masks ... can also come from ...")
    as more parameters. A paragraph after a blank line that does not start like a
    field ends the section here: it is put under a ``Notes`` heading."""
    out, in_fields = [], False
    for i, line in enumerate(lines):
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and nxt and set(nxt) == {"-"} and len(nxt) >= len(line.strip()):
            in_fields = line.strip().lower() in FIELD_SECTIONS
        elif (in_fields and out and not out[-1].strip() and line.strip() and not line[0].isspace()
              and set(line.strip()) != {"-"} and not FIELD.match(line)):
            out += ["Notes", "-----"]
            in_fields = False
        out.append(line)
    lines[:] = out


def setup(app):
    app.connect("autodoc-process-docstring", end_field_sections, priority=400)   # before napoleon (500)
    app.connect("autodoc-process-bases", drop_private_bases)
    app.connect("missing-reference", resolve_short_names)
    app.connect("autodoc-skip-member", skip_foreign_members)
    app.connect("build-finished", offline_math.copy_mathjax)
