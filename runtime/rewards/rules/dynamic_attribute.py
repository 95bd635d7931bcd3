"""Rule: attributes are named in the code, never by strings computed at run time."""

from __future__ import annotations

import ast

from runtime.rewards.attribute_names import (
    FORMAT_METHODS,
    literal_name,
    module_function,
    naming_callable,
    template_names_read,
)
from runtime.rewards.lint_rule import LintRule, RuleContext, source_of
from runtime.rewards.scopes import BUILTIN

NAME_GADGETS = frozenset({
    ("operator", "attrgetter"), ("operator", "methodcaller"), ("functools", "update_wrapper"),
    ("functools", "cached_property"), ("dataclasses", "asdict"), ("dataclasses", "astuple"),
    ("dataclasses", "replace"), ("dataclasses", "fields"), ("dataclasses", "make_dataclass"),
    ("copy", "replace"),
})
"""Functions of allowed modules that read or write attributes named by data: their arguments
(``attrgetter(name)``; ``type(attrgetter("x"))(name)`` builds a new one), a ``Field``'s mutable ``name``,
the name ``__set_name__`` receives (computed when ``type()`` builds the class), or the ``assigned`` and
``updated`` lists of ``update_wrapper``, which also hands ``wrapped.__dict__`` to the wrapper."""

WRAPS = frozenset({("functools", "wraps")})
CACHED_PROPERTY = frozenset({("functools", "cached_property")})

SELF_MATCHING_BUILTINS = frozenset({"bool", "bytearray", "bytes", "dict", "float", "frozenset", "int", "list",
                                    "set", "str", "tuple"})
"""Builtin classes whose one positional pattern matches the subject itself (``case int(n)``)."""


class DynamicAttribute(LintRule):
    """Whatever uses an attribute named by a string computed at run time can read any attribute, and so
    reach any object: ``getattr(x, "__glo" + "bals__")``, ``setattr``/``__setattr__`` with a computed name, a
    ``str.format`` template built at run time (``"{0." + name + "}"``; the AttributeError of a missing field
    even hands back the object reached), a positional class pattern (it reads the attributes named by the
    class's ``__match_args__``, which can be computed), and the allowed modules' functions that take
    attribute names from data (``NAME_GADGETS``). Accepted forms name their attributes in the code, where
    the other rules check them like attributes: ``getattr``/``setattr``/``delattr``/``__setattr__`` called
    with a string literal, ``.format`` on a string literal, ``case C(name=...)``, ``case int(n)``,
    ``@functools.wraps(function)`` on a ``def``, and ``@functools.cached_property`` on a method written in a
    class body (its attribute name is then the method's)."""

    name = "dynamic-attribute"
    VALID = (
        "def f(options):\n    return getattr(options, 'block', 16)",
        "class Frozen:\n    def __init__(self, rows):\n        object.__setattr__(self, 'rows', rows)",
        "label = '{0:.3f} {name}'.format(1.5, name='x')",
        "import functools\ndef log(function):\n    @functools.wraps(function)\n    def wrapper(*args):\n"
        "        return function(*args)\n    return wrapper",
        "def f(x):\n    match x:\n        case int(n) | [int(n)]:\n            return n",
        "def f(text):\n    return text.replace('a', 'b')",
        "import functools\nclass Matrix:\n    @functools.cached_property\n    def columns(self):\n"
        "        return list(zip(*self.rows))",
    )
    INVALID = (
        "imp = getattr(__builtins__, '__imp' + 'ort__')",
        "fetch = getattr",
        "def f(thing, name):\n    setattr(thing, name, None)",
        "def f(thing, name):\n    object.__setattr__(thing, name, None)",
        "import operator\nrows = operator.attrgetter('rows')",
        "from operator import methodcaller as call\nrun = call('x')",
        "template = '{0.' + name + '}'\ntext = template.format(f)",
        "text = str.format('{0.x}', f)",
        "import functools\nfunctools.update_wrapper(box, f)",
        "import functools\ncopy = functools.wraps(f, assigned=names)",
        "from dataclasses import *\nclone = replace(thing)",
        "import functools\nSpy = type('Spy', (), {name: functools.cached_property(len)})",
        "def f(x):\n    match x:\n        case Probe(frame):\n            return frame",
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._written_out: set[int] = set()

    def visit_Call(self, node: ast.Call) -> None:
        named = literal_name(node, self.context.scopes)
        if named is None:
            return
        self._written_out.add(id(node.func))
        if named[1] in FORMAT_METHODS:
            self.report(node, f"`{source_of(node)}` reaches `{named[1]}` on an object that may not be a "
                              "string literal; call it on a literal template")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            if (isinstance(decorator, ast.Call) and not decorator.keywords
                    and module_function(decorator.func, WRAPS, self.context.scopes)
                    and len(decorator.args) == 1 and not isinstance(decorator.args[0], ast.Starred)):
                self._written_out.add(id(decorator.func))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for method in node.body:
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in method.decorator_list:
                    if module_function(decorator, CACHED_PROPERTY, self.context.scopes):
                        self._written_out.add(id(decorator))

    def visit_Name(self, node: ast.Name) -> None:
        self._check_reference(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_reference(node)
        if node.attr in FORMAT_METHODS:
            if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                self.report(node, f"`{source_of(node)}` formats with a template computed at run time, whose "
                                  "fields can read any attribute; call .format on a string literal or use "
                                  "an f-string")
            elif template_names_read(node.value.value) is None:
                self.report(node, "this format template is malformed, and str.format reads fields before it "
                                  "fails; fix the template")

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        if node.patterns and not self._is_self_matching_builtin(node.cls):
            self.report(node, f"the positional pattern `{source_of(node)}` reads the attributes named by "
                              "`__match_args__`, which can be computed; match keywords (`C(name=...)`) "
                              "instead")

    def _check_reference(self, node: ast.Name | ast.Attribute) -> None:
        if id(node) in self._written_out:
            return
        scopes = self.context.scopes
        naming = naming_callable(node, scopes)
        if naming is not None:
            self.report(node, f"`{naming}` used other than called with a string literal names attributes at "
                              "run time; write `obj.name`, or pass the name as a literal")
        gadget = module_function(node, NAME_GADGETS, scopes)
        if gadget is not None:
            self.report(node, f"`{gadget}` uses attributes named by data, which can be computed at run time; "
                              "write the attribute accesses out")
        if module_function(node, WRAPS, scopes) is not None:
            self.report(node, "`functools.wraps` reads the attributes its `assigned` and `updated` arguments "
                              "name and hands one object's namespace to another; only "
                              "`@functools.wraps(function)` on a def is allowed")

    def _is_self_matching_builtin(self, node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id in SELF_MATCHING_BUILTINS
                and self.context.scopes.meanings(node) == {BUILTIN})
