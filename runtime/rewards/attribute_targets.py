"""Helpers for rules about attribute assignments: which attributes are written, and on what."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ExpressionContext

WRITE_CONTEXTS = (ExpressionContext.STORE, ExpressionContext.DEL)
"""Expression contexts in which an attribute is assigned or deleted (``a.b = ...``, ``del a.b``,
``a.b += ...``, ``for a.b in ...``, ``with ... as a.b``)."""


def root_name(node: cst.BaseExpression) -> cst.Name | None:
    """The name an attribute/subscript/call chain starts from (``time`` in ``time.perf_counter``), if any."""
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node if isinstance(node, cst.Name) else None
