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
    actual = {n for n in runtime_members(cls) if not n.startswith("_")}
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
