"""The documentation site's own machinery (docs/pages.py, docs/check_coverage.py).

The build itself (Sphinx, warnings as errors, the lessons executed) is CI's docs stage;
these tests check in seconds what that stage relies on: the README sections the pages
include still exist, every public module gets a page with every public name on it, and
the coverage check really fails on a missing or empty entry."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))

import check_coverage  # noqa: E402
import pages  # noqa: E402


def includes():
    """``(page, start_after, end_before)`` for every README include of the docs' pages."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```\{include\} \.\./README\.md\n(.*?)```", text, re.S):
            options = dict(re.findall(r'^:([a-z-]+): "(.*)"$', block, re.M))
            unescape = lambda s: s.replace("\\n", "\n") if s else s  # noqa: E731
            found.append((page.name, unescape(options.get("start-after")), unescape(options.get("end-before"))))
    return found


def test_the_pages_include_readme_sections_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = includes()
    assert {page for page, _, _ in found} >= {"index.md", "speed.md", "learning.md", "architecture.md"}
    for page, start, end in found:
        assert start is None or readme.count(start) == 1, f"{page}: {start!r} is not once in the README"
        assert end is None or readme.count(end) == 1, f"{page}: {end!r} is not once in the README"
        if start and end:
            assert readme.index(start) < readme.index(end), page


def test_the_architecture_page_is_the_readmes_section():
    assert ("architecture.md", "## Architecture\n", None) in includes()


def test_every_public_module_gets_a_page_with_every_public_name(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    pages.write_api(str(tmp_path))
    modules = pages.public_modules()
    assert "pyneuron" in modules and "pyneuron.network" in modules and "pyneuron.backends.base" in modules
    assert not any(part.startswith("_") for m in modules for part in m.split("."))
    assert "pyneuron.lessons.xor" not in modules                  # a lesson is a notebook page
    index = (tmp_path / "index.rst").read_text()
    for modname in modules:
        assert index.count(f"   {modname}\n") == 1, modname
        page = (tmp_path / f"{modname}.rst").read_text()
        assert f".. automodule:: {modname}" in page
        for name, obj, kind in pages.public_names(modname):
            where = pages.home(obj) if kind not in ("data", "module") else None
            if kind == "module":
                assert f":mod:`{obj.__name__}`" in page
            elif where is not None and where != modname:
                assert f"<{where}.{obj.__qualname__}>" in page, (modname, name)
            else:
                assert re.search(rf"\.\. auto\w+:: {re.escape(modname)}\.{name}\n", page), (modname, name)
    network = (tmp_path / "pyneuron.network.rst").read_text()
    assert ".. autoclass:: pyneuron.network.MLP\n   :members:" in network
    top = (tmp_path / "pyneuron.rst").read_text()
    assert "* :class:`pyneuron.MLP <pyneuron.network.MLP>` — " in top   # pn.MLP links to where it is defined
    assert ".. autofunction:: pyneuron.use_backend" in top         # defined in a private module: here


@pytest.fixture
def fake_module(monkeypatch):
    """A public module with a documented function, one without a docstring, and a
    name in ``__all__`` it does not define; lessons reduced to one."""
    module = types.ModuleType("fakepkg")
    exec("def good():\n    'Documented.'\n\ndef bare():\n    pass\n", module.__dict__)
    module.good.__module__ = module.bare.__module__ = "fakepkg"
    module.__all__ = ["good", "bare", "ghost"]
    monkeypatch.setitem(sys.modules, "fakepkg", module)
    monkeypatch.setattr(pages, "public_modules", lambda: ["fakepkg"])
    from pyneuron import lessons
    monkeypatch.setattr(lessons, "LESSONS", [("01", "single_neuron", "one neuron")])
    return module


def test_the_coverage_check_fails_on_each_kind_of_gap(fake_module, tmp_path, monkeypatch):
    (tmp_path / "lessons").mkdir()
    monkeypatch.setattr(check_coverage, "documented", lambda build: {"fakepkg", "fakepkg.good", "fakepkg.bare"})
    problems, checked = check_coverage.gaps(str(tmp_path))
    assert checked == 2
    assert "fakepkg.ghost: in __all__ but not defined" in problems
    assert "fakepkg.bare: no docstring (its entry would be empty)" in problems
    assert "lesson 01 single_neuron: no rendered notebook page" in problems
    assert not any(p.startswith("fakepkg.good") for p in problems)

    monkeypatch.setattr(check_coverage, "documented", lambda build: {"fakepkg.bare"})
    problems, _ = check_coverage.gaps(str(tmp_path))
    assert "fakepkg: the module has no page" in problems and "fakepkg.good: not in the documentation" in problems


def test_the_coverage_check_passes_a_complete_build(fake_module, tmp_path, monkeypatch):
    fake_module.__all__ = ["good"]
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01_single_neuron.html").write_text("<html></html>")
    monkeypatch.setattr(check_coverage, "documented", lambda build: {"fakepkg", "fakepkg.good"})
    assert check_coverage.gaps(str(tmp_path)) == ([], 1)


def test_the_coverage_check_without_a_build_says_so(tmp_path, capsys):
    assert check_coverage.main([str(tmp_path)]) == 2
    assert "build the HTML pages first" in capsys.readouterr().err


def test_a_lesson_whose_package_is_missing_is_rendered_without_running(tmp_path, monkeypatch):
    pytest.importorskip("jupytext")
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert pages.missing_packages("graduating") == ["PyTorch"]      # it imports torch
    assert pages.missing_packages("xor") == []
    unrunnable = pages.write_lessons(str(tmp_path))
    assert unrunnable == ["13_graduating.ipynb"]
    index = (tmp_path / "index.md").read_text()
    assert "Lesson 13 is shown without its outputs: it needs PyTorch" in index
    from pyneuron import lessons
    for number, name, _ in lessons.LESSONS:
        assert (tmp_path / f"{number}_{name}.ipynb").exists() and f"\n{number}_{name}\n" in index


def test_every_public_name_has_a_docstring():
    """What the docs stage's coverage check asks of the code, in seconds and without
    Sphinx: a public function or class without a docstring fails here first."""
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    bare = []
    for modname in pages.public_modules():
        module = __import__(modname, fromlist=["_"])
        if not (module.__doc__ or "").strip():
            bare.append(f"{modname} (the module)")
        bare += [f"{modname}.{missing}: in __all__ but not defined"
                 for missing in getattr(module, "__all__", []) if not hasattr(module, missing)]
        for name, obj, kind in pages.public_names(modname):
            if kind in ("function", "class", "exception") and not (getattr(obj, "__doc__", None) or "").strip():
                bare.append(f"{modname}.{name}")
    assert not bare, "public names without a docstring: " + ", ".join(bare)




def test_formulas_are_typeset_from_a_copy_inside_the_site(tmp_path, monkeypatch):
    """MathJax comes with the docs extra and is copied into the built site, so pages opened
    without network show typeset formulas (Sphinx's default would load it from a CDN). CI's
    docs stage checks the real build; here a stand-in for the package's folder."""
    import offline_math
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert "mathjax_path = offline_math.MATHJAX_PATH" in conf
    assert 'app.connect("build-finished", offline_math.copy_mathjax)' in conf
    script, config = offline_math.MATHJAX_PATH.split("?config=")
    assert not script.startswith(("http:", "https:", "//"))
    package = tmp_path / "package"
    (package / "config").mkdir(parents=True)
    (package / "MathJax.js").write_text("// MathJax")
    (package / "config" / f"{config}.js").write_text("// config")
    monkeypatch.setattr(offline_math, "mathjax_folder", lambda: str(package))
    html = types.SimpleNamespace(outdir=str(tmp_path / "html"), builder=types.SimpleNamespace(format="html"))
    offline_math.copy_mathjax(html, None)
    static = tmp_path / "html" / "_static"
    assert (static / script).read_text() == "// MathJax"
    assert (static / script).parent.joinpath("config", f"{config}.js").is_file()
    offline_math.copy_mathjax(html, None)                      # a second build over the first
    failed = types.SimpleNamespace(outdir=str(tmp_path / "failed"), builder=html.builder)
    offline_math.copy_mathjax(failed, RuntimeError("the build failed"))
    latex = types.SimpleNamespace(outdir=str(tmp_path / "tex"), builder=types.SimpleNamespace(format="latex"))
    offline_math.copy_mathjax(latex, None)
    assert not (tmp_path / "failed").exists() and not (tmp_path / "tex").exists()


def test_without_the_package_the_docs_say_how_to_get_it(monkeypatch):
    import offline_math
    monkeypatch.setitem(sys.modules, "jupyter_server_mathjax", None)
    with pytest.raises(ImportError, match=r'pip install "\.\[docs\]"'):
        offline_math.mathjax_folder()
