"""Rule: no access to frames, code objects or namespaces."""

from __future__ import annotations

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule


class FrameIntrospection(ForbiddenIdentifierRule):
    """Frames lead to the harness that runs the code: its globals hold the real builtins and its modules
    (``sys``, ``os``), from which any module of the standard library can be imported. Generators,
    coroutines and tracebacks (``__exit__`` receives one) hand out frames (``gi_frame``, ``cr_frame``,
    ``ag_frame``, ``tb_frame``), frames their callers (``f_back``) and namespaces (``f_globals``,
    ``f_builtins``, ``f_locals``); ``globals()``, ``locals()`` and ``vars()`` are the namespaces themselves,
    and ``vars(type(x))`` a class's, with ``__getattribute__`` in it. All are rejected."""

    name = "frame-introspection"
    FORBIDDEN_NAMES = frozenset({"globals", "locals", "vars"})
    FORBIDDEN_ATTRIBUTES = frozenset({
        "f_back", "f_builtins", "f_code", "f_globals", "f_locals", "f_trace", "f_trace_lines",
        "f_trace_opcodes",
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "cr_origin", "ag_frame",
        "ag_code", "ag_await", "tb_frame", "tb_next", "co_code", "co_consts", "co_names", "co_varnames",
        "co_freevars", "co_cellvars",
    })
    MESSAGE = ("`{identifier}` reaches frames, code or namespaces of the caller; use only the arguments you "
               "are given")
    VALID = (
        "def f(frame_count):\n    return frame_count + 1",
        "def f(rows):\n    vars = [row[0] for row in rows]\n    return vars",
        "def rows(n):\n    yield from range(n)\nfirst = next(rows(3))",
    )
    INVALID = (
        "table = globals()",
        "names = locals()",
        "attributes = vars(type(1))",
        "frame = (x for x in ()).gi_frame",
        "class Guard:\n    def __exit__(self, kind, error, trace):\n        return trace.tb_frame.f_back",
        "def f(gen):\n    match gen:\n        case object(gi_frame=frame):\n            return frame",
        "def f(gen):\n    return getattr(gen, 'gi_frame')",
        "text = '{0.gi_frame.f_globals}'.format(gen)",
        "def f():\n    [0 for vars in ()]\n    return vars()",
    )
