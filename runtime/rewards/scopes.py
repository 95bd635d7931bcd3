"""What each name of a module may refer to, by Python's own scope rules, and which blocks never run.

The rules ask two questions of a name that is read: may it be a module (``typing`` in ``typing.sys``), and may
it be a builtin or a global the interpreter sets (``vars``, ``__builtins__``)? The answers over-approximate:
a name read in a function is resolved exactly as the compiler does (a name bound anywhere in a function is
local to it, unless declared ``global`` or ``nonlocal``), while a name read at module or class level may be
any of its bindings in that namespace, or unbound and so a builtin. Over-approximating only makes rules look
at more; it never hides a use.

A block under ``if __name__ == "__main__":`` never runs in the sandbox (the code runs under another module
name), and neither does one under ``if TYPE_CHECKING:`` (``typing.TYPE_CHECKING`` is False): such a block
is *inert*, and the rules skip it, as long as the module never rebinds the names the guard reads.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

Scope = ast.AST
"""A node that opens a namespace: the module, a function, a lambda, a class or a comprehension."""
Chain = tuple[Scope, ...]
"""The scopes around a node, outermost (the module) first."""

_FUNCTION_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                    ast.DictComp, ast.GeneratorExp)
"""Scopes whose names the compiler resolves statically (comprehensions are functions of their own)."""
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Meaning:
    """One thing a name may refer to: ``kind`` is ``"module"`` (bound by ``import module``),
    ``"from-import"`` (``from module import name``), ``"other"`` (any other binding: assignment, ``def``,
    parameter ...) or ``"builtin"`` (unbound in the module, so a builtin or a global the interpreter sets)."""

    kind: Literal["module", "from-import", "other", "builtin"]
    module: str = ""
    name: str = ""


OTHER = Meaning("other")
BUILTIN = Meaning("builtin")


class Scopes:
    """The bindings of one parsed module and the meanings of the names it reads."""

    def __init__(
        self, tree: ast.Module, star_exports: Callable[[str], Iterable[str]] = lambda module: ()
    ) -> None:
        """``star_exports(module)`` says which names ``from module import *`` binds."""
        self._module = tree
        self._star_exports = star_exports
        self._raw: dict[Scope, dict[str, set[Meaning]]] = defaultdict(lambda: defaultdict(set))
        self._global: dict[Scope, set[str]] = defaultdict(set)
        self._nonlocal: dict[Scope, set[str]] = defaultdict(set)
        self._reads: dict[int, Chain] = {}
        self._written_attributes: set[str] = set()
        self._walrus_targets: set[int] = set()
        self._scope_chains: dict[Scope, Chain] = {}
        for node, chain in walk_with_scopes(tree):
            self._record(node, chain)
        self._bindings = self._resolve_declarations()

    def meanings(self, name: ast.Name) -> frozenset[Meaning]:
        """What a name that is read may refer to (empty for a name this module does not read)."""
        chain = self._reads.get(id(name))
        if chain is None:
            return frozenset()
        identifier, found, also_global = name.id, set(), False
        for depth, scope in enumerate(reversed(chain)):
            if scope is self._module or identifier in self._global[scope]:
                break
            if isinstance(scope, ast.ClassDef):
                if depth == 0 and identifier in self._bindings[scope]:
                    # A class body looks names up in its own namespace, then in the globals.
                    found |= self._bindings[scope][identifier]
                    also_global = True
                continue
            if identifier in self._nonlocal[scope]:
                continue
            if identifier in self._bindings[scope]:
                found |= self._bindings[scope][identifier]
                return frozenset(found | (self._globally(identifier) if also_global else set()))
        return frozenset(found | self._globally(identifier))

    def may_be_builtin(self, name: ast.Name) -> bool:
        """Whether a name that is read may be a builtin (or a global the interpreter sets)."""
        return BUILTIN in self.meanings(name)

    def modules(self, name: ast.Name) -> frozenset[str]:
        """The modules a name that is read may be bound to by an ``import``."""
        return frozenset(meaning.module for meaning in self.meanings(name) if meaning.kind == "module")

    def is_inert_guard(self, node: ast.AST) -> bool:
        """Whether ``node`` is an ``if`` whose body never runs in the sandbox (see the module docstring)."""
        return isinstance(node, ast.If) and (
            self._is_main_guard(node.test) or self._is_type_checking(node.test))

    def _globally(self, identifier: str) -> set[Meaning]:
        return self._bindings[self._module].get(identifier, set()) | {BUILTIN}

    def _is_main_guard(self, test: ast.expr) -> bool:
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
            return False
        operands = {type(operand) for operand in (test.left, test.comparators[0])}
        if operands != {ast.Name, ast.Constant}:
            return False
        name, constant = sorted((test.left, test.comparators[0]),
                                key=lambda operand: isinstance(operand, ast.Constant))
        return (name.id == "__name__" and constant.value == "__main__"
                and self.meanings(name) == {BUILTIN} and not self._bound_anywhere("__name__"))

    def _is_type_checking(self, test: ast.expr) -> bool:
        if "TYPE_CHECKING" in self._written_attributes:
            return False
        if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
            flag = Meaning("from-import", "typing", "TYPE_CHECKING")
            return flag in self.meanings(test) <= {flag, BUILTIN}
        if (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
                and isinstance(test.value, ast.Name)):
            typing = Meaning("module", "typing")
            return typing in self.meanings(test.value) <= {typing, BUILTIN}
        return False

    def _bound_anywhere(self, identifier: str) -> bool:
        return any(identifier in names for names in self._raw.values())

    def _record(self, node: ast.AST, chain: Chain) -> None:
        scope = chain[-1]
        if isinstance(node, (*_FUNCTION_SCOPES, ast.ClassDef)):
            self._scope_chains[node] = chain + (node,)
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                self._reads[id(node)] = chain
            elif id(node) not in self._walrus_targets:
                self._raw[scope][node.id].add(OTHER)
        elif isinstance(node, ast.NamedExpr):
            # `(x := ...)` binds x in the nearest scope that is not a comprehension.
            self._walrus_targets.add(id(node.target))
            binder = next(outer for outer in reversed(chain) if not isinstance(outer, _COMPREHENSIONS))
            self._raw[binder][node.target.id].add(OTHER)
        elif isinstance(node, ast.AnnAssign) and not node.simple and node.value is None:
            # `(x): int` annotates without binding anything.
            self._walrus_targets.add(id(node.target))
        elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            self._written_attributes.add(node.attr)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module = alias.name if alias.asname else alias.name.partition(".")[0]
                self._raw[scope][alias.asname or module].add(Meaning("module", module))
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                names = self._star_exports(module) if alias.name == "*" else (alias.name,)
                for name in names:
                    self._raw[scope][alias.asname or name].add(Meaning("from-import", module, name))
        elif isinstance(node, ast.Global):
            self._global[scope].update(node.names)
        elif isinstance(node, ast.Nonlocal):
            self._nonlocal[scope].update(node.names)
        else:
            for where, identifier in _names_bound_by(node, chain):
                self._raw[where][identifier].add(OTHER)

    def _resolve_declarations(self) -> dict[Scope, dict[str, set[Meaning]]]:
        """Bindings per scope, with those of names declared ``global`` or ``nonlocal`` moved to the
        scope the declaration refers to."""
        bindings: dict[Scope, dict[str, set[Meaning]]] = defaultdict(dict)
        for scope, names in self._raw.items():
            for identifier, meanings in names.items():
                bindings[self._owner(scope, identifier)].setdefault(identifier, set()).update(meanings)
        return bindings

    def _owner(self, scope: Scope, identifier: str) -> Scope:
        if identifier in self._global[scope]:
            return self._module
        if identifier not in self._nonlocal[scope]:
            return scope
        for outer in reversed(self._scope_chains[scope][:-1]):
            if isinstance(outer, _FUNCTION_SCOPES) and identifier in self._raw.get(outer, {}) and not (
                identifier in self._global[outer] or identifier in self._nonlocal[outer]
            ):
                return outer
        return scope  # the compiler rejects a nonlocal without a binding; compile() has checked that


def walk_with_scopes(tree: ast.Module) -> Iterator[tuple[ast.AST, Chain]]:
    """Every node of ``tree``, parents before children, with the scopes its code runs in.

    Decorators, default values, annotations and base classes run in the scope around the function or
    class; the first iterable of a comprehension runs in the scope around the comprehension."""
    pending: list[tuple[ast.AST, Chain]] = [(tree, (tree,))]
    while pending:
        node, chain = pending.pop()
        yield node, chain
        pending.extend(reversed(list(_scoped_children(node, chain))))


def _scoped_children(node: ast.AST, chain: Chain) -> Iterator[tuple[ast.AST, Chain]]:
    inner = chain + (node,)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield from ((decorator, chain) for decorator in node.decorator_list)
        yield from _argument_children(node.args, chain, inner)
        if node.returns is not None:
            yield node.returns, chain
        yield from ((statement, inner) for statement in node.body)
    elif isinstance(node, ast.Lambda):
        yield from _argument_children(node.args, chain, inner)
        yield node.body, inner
    elif isinstance(node, ast.ClassDef):
        yield from ((child, chain) for child in (*node.decorator_list, *node.bases, *node.keywords))
        yield from ((statement, inner) for statement in node.body)
    elif isinstance(node, _COMPREHENSIONS):
        first, *rest = node.generators
        yield first.iter, chain
        yield from ((child, inner) for child in (first.target, *first.ifs, *rest))
        elements = (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,)
        yield from ((element, inner) for element in elements)
    elif isinstance(node, ast.arg):
        if node.annotation is not None:
            yield node.annotation, chain[:-1]
    else:
        yield from ((child, chain) for child in ast.iter_child_nodes(node))


def _argument_children(
    arguments: ast.arguments, outer: Chain, inner: Chain
) -> Iterator[tuple[ast.AST, Chain]]:
    defaults = (*arguments.defaults, *arguments.kw_defaults)
    yield from ((default, outer) for default in defaults if default is not None)
    parameters = (*arguments.posonlyargs, *arguments.args, arguments.vararg, *arguments.kwonlyargs,
                  arguments.kwarg)
    yield from ((parameter, inner) for parameter in parameters if parameter is not None)


def _names_bound_by(node: ast.AST, chain: Chain) -> Iterator[tuple[Scope, str]]:
    """(scope, name) for the bindings a node makes that are not `ast.Name` targets or imports."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield chain[-1], node.name
    elif isinstance(node, ast.arg):
        yield chain[-1], node.arg
    elif isinstance(node, ast.ExceptHandler) and node.name is not None:
        yield chain[-1], node.name
    elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name is not None:
        yield chain[-1], node.name
    elif isinstance(node, ast.MatchMapping) and node.rest is not None:
        yield chain[-1], node.rest
