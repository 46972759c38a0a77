"""Fail when a public name of pyneuron is missing from the built documentation.

    python docs/check_coverage.py [docs/_build/html]

Reads the build's object inventory (``objects.inv``) and checks that

* every public module (:func:`pages.public_modules`) has its page;
* every public name (:func:`pages.public_names`: ``__all__``, else the functions and
  classes a module defines) is documented there or where it is defined, and has a
  docstring of its own (autodoc would otherwise show an empty entry);
* every name in an ``__all__`` exists;
* every lesson has its rendered notebook page.

Exit status 1 with one line per gap, 0 with a count when nothing is missing.
"""
from __future__ import annotations

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pages  # noqa: E402


def documented(build):
    """The ``py:`` names in the inventory of the HTML build at ``build``."""
    from sphinx.util.inventory import InventoryFile
    with open(os.path.join(build, "objects.inv"), "rb") as f:
        inventory = InventoryFile.load(f, "", os.path.join)
    data = inventory.data if hasattr(inventory, "data") else inventory
    names = set()
    for role, entries in data.items():
        if role.startswith("py:"):
            names.update(entries)
    return names


def gaps(build):
    """One line per public module, name or lesson the build at ``build`` lacks."""
    names = documented(build)
    problems, checked = [], 0
    for modname in pages.public_modules():
        module = importlib.import_module(modname)
        if modname not in names:
            problems.append(f"{modname}: the module has no page")
        for missing in [n for n in getattr(module, "__all__", []) if not hasattr(module, n)]:
            problems.append(f"{modname}.{missing}: in __all__ but not defined")
        for name, obj, kind in pages.public_names(modname):
            checked += 1
            if kind == "module":
                if obj.__name__ not in names:
                    problems.append(f"{modname}.{name}: module {obj.__name__} has no page")
                continue
            where = pages.home(obj)
            places = {f"{modname}.{name}"} | ({f"{where}.{obj.__qualname__}"} if where and kind != "data" else set())
            if not places & names:
                problems.append(f"{modname}.{name}: not in the documentation")
            elif kind != "data" and not (getattr(obj, "__doc__", None) or "").strip():
                problems.append(f"{modname}.{name}: no docstring (its entry would be empty)")
    from pyneuron import lessons
    for number, name, _ in lessons.LESSONS:
        if not os.path.exists(os.path.join(build, "lessons", f"{number}_{name}.html")):
            problems.append(f"lesson {number} {name}: no rendered notebook page")
    return problems, checked


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    build = argv[0] if argv else os.path.join(HERE, "_build", "html")
    if not os.path.exists(os.path.join(build, "objects.inv")):
        print(f"check_coverage: no objects.inv in {build}: build the HTML pages first", file=sys.stderr)
        return 2
    problems, checked = gaps(build)
    for line in problems:
        print(f"undocumented: {line}")
    if problems:
        print(f"{len(problems)} gaps in the documentation of {checked} public names", file=sys.stderr)
        return 1
    print(f"documentation coverage: all {checked} public names of "
          f"{len(pages.public_modules())} modules documented, every lesson rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
