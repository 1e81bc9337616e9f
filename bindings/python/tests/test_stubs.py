"""The type stubs and docstrings stay true: every public name in shmkit/_shmkit.pyi exists at
run time with the same members, every run-time member is in the stubs, and every public class,
function, method and property says what it does."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import shmkit
from shmkit import _shmkit

STUB = Path(shmkit.__file__).with_name("_shmkit.pyi")
IGNORED = {"__init__", "__buffer__", "__enter__", "__exit__", "__repr__", "__getitem__", "__setitem__",
           "__contains__", "__len__", "__iter__"}


def stub_classes():
    tree = ast.parse(STUB.read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def members(node):
        out = set()
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in classes:
                out |= members(classes[base.id])
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                out.add(item.name)
        return out

    return {name: members(node) for name, node in classes.items() if not name.startswith("_")}


def stub_functions():
    tree = ast.parse(STUB.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def runtime_members(cls):
    return {n for n in dir(cls) if not n.startswith("_") or n in IGNORED} - {"__init__"} - set(dir(object))


@pytest.mark.parametrize("cls_name", sorted(stub_classes()))
def test_stub_class_matches_runtime(cls_name):
    cls = getattr(_shmkit, cls_name)
    stubbed = stub_classes()[cls_name] - IGNORED
    # Private members need no stub, but those the stub declares (for the package's own modules)
    # must exist.
    actual = {n for n in runtime_members(cls) if not n.startswith("_")} | (stubbed & set(dir(cls)))
    assert stubbed - actual == set(), f"in the stub but not at run time: {sorted(stubbed - actual)}"
    assert actual - stubbed == set(), f"at run time but not in the stub: {sorted(actual - stubbed)}"


def test_stub_functions_match_runtime():
    functions = {n for n, v in vars(_shmkit).items() if callable(v) and not isinstance(v, type) and not n.startswith("_")}
    assert functions == stub_functions()


def test_every_native_class_is_stubbed_and_exported():
    native = {n for n, v in vars(_shmkit).items() if isinstance(v, type) and not n.startswith("_")}
    assert native == set(stub_classes())
    assert native <= set(shmkit.__all__)


def _doc_of(obj):
    doc = inspect.getdoc(obj) or ""
    # pybind11 puts the signature first; what matters is the text after it.
    signature = re.compile(r"^\w*\(.*\)( -> .*)?$")
    lines = [l for l in doc.splitlines() if l.strip() and not signature.match(l.strip())]
    return "\n".join(lines)


@pytest.mark.parametrize("cls_name", sorted(stub_classes()))
def test_everything_public_is_documented(cls_name):
    cls = getattr(_shmkit, cls_name)
    assert _doc_of(cls), f"{cls_name} has no docstring"
    undocumented = []
    for member in sorted(runtime_members(cls) - IGNORED):
        if member.startswith("_"):
            continue
        attr = inspect.getattr_static(cls, member)
        target = attr.fget if isinstance(attr, property) else getattr(cls, member)
        if not _doc_of(target) and not _doc_of(attr):
            undocumented.append(member)
    assert undocumented == [], f"{cls_name}: undocumented {undocumented}"


def test_functions_are_documented():
    for fn in stub_functions():
        assert _doc_of(getattr(_shmkit, fn)), fn


def test_every_timeout_defaults_to_forever():
    """One default for every timeout: None (wait forever), in the stubs and at run time.
    (ready_timeout, how long open() waits for a creator to finish, is not a call timeout.)"""
    tree = ast.parse(STUB.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        a = node.args
        positional = a.posonlyargs + a.args
        defaults = dict(zip([p.arg for p in positional][len(positional) - len(a.defaults):], a.defaults))
        defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        for arg, default in defaults.items():
            if arg in ("timeout", "lock_timeout"):
                assert isinstance(default, ast.Constant) and default.value is None, f"{node.name}({arg}=...)"
    checked = 0
    pattern = re.compile(r"\b(?:lock_)?timeout: [^=,)]+= ([^,)]+)")
    for cls_name in stub_classes():
        cls = getattr(_shmkit, cls_name)
        for member in runtime_members(cls):
            fn = getattr(cls, member, None)
            if not callable(fn):
                continue
            try:
                params = inspect.signature(fn).parameters.values()  # the Python-level helpers
                found = [str(p.default) for p in params if p.name in ("timeout", "lock_timeout")]
            except (TypeError, ValueError):  # a native method: its signature is in the docstring
                found = pattern.findall(inspect.getdoc(fn) or "")
            for default in found:
                assert default == "None", f"{cls_name}.{member}: timeout defaults to {default}"
                checked += 1
    assert checked > 20


def _parameters(args):
    """(name, default) of a signature's parameters in order, "*" where the keyword-only ones
    begin; a default is its value when it is a literal, else its expression."""
    positional = getattr(args, "posonlyargs", []) + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = list(zip((a.arg for a in positional), defaults))
    if args.kwonlyargs:
        out.append(("*", None))
    out += list(zip((a.arg for a in args.kwonlyargs), args.kw_defaults))

    def value(default):
        if default is None:
            return "(required)"
        try:
            return ast.literal_eval(default)
        except ValueError:
            return ast.dump(default)

    return [(arg, value(default)) for arg, default in out if arg != "self"]


def test_stub_signatures_match_runtime():
    """Every native method's stub takes the parameters it takes at run time, in the same order,
    keyword-only from the same place, with the same defaults (so that a keyword added to a
    create() and not to its stub fails here). Dunders (pybind11 names their parameters arg0...)
    and overloads are left out."""
    tree = ast.parse(STUB.read_text())
    signature = re.compile(r"^(\w+)\((.*)\)( -> .*)?$")
    checked = 0
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
            continue
        cls = getattr(_shmkit, node.name)
        for item in node.body:
            if not isinstance(item, ast.FunctionDef) or item.name.startswith("__"):
                continue
            if any(isinstance(d, ast.Name) and d.id == "overload" for d in item.decorator_list):
                continue
            first_line = (getattr(getattr(cls, item.name), "__doc__", None) or "").split("\n", 1)[0]
            m = signature.match(first_line)
            if not m or m.group(1) != item.name:
                continue  # a property, or a Python-level helper
            try:
                runtime = ast.parse(f"def f({m.group(2)}): pass").body[0]
            except SyntaxError:
                continue  # a default pybind11 renders as no Python expression
            assert _parameters(item.args) == _parameters(runtime.args), f"{node.name}.{item.name}"
            checked += 1
    assert checked > 100


def test_every_create_that_prefaults_can_skip_reserving_memory():
    """reserve_memory follows prefault wherever a create() takes prefault, at run time."""
    checked = 0
    for cls_name in stub_classes():
        for member in ("create", "open_or_create"):
            fn = getattr(getattr(_shmkit, cls_name), member, None)
            first_line = (getattr(fn, "__doc__", None) or "").split("\n", 1)[0]
            if "prefault" in first_line:
                assert "prefault: bool = False, reserve_memory: bool = True," in first_line, f"{cls_name}.{member}"
                checked += 1
    assert checked >= 12
