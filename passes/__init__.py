"""Graph passes, one per file, each named as on the command line (`--passes flex_sink,kv_offset`).

`CANONICAL_ORDER` is the default pipeline: every pass the project has, in the order they compose.
"""

from rewrite.report import GraphPass

from . import flex_sink, kv_offset, linear_modules

REGISTRY: dict[str, GraphPass] = {module.PASS.name: module.PASS for module in (flex_sink, kv_offset, linear_modules)}

CANONICAL_ORDER: list[str] = list(REGISTRY)

__all__ = ["CANONICAL_ORDER", "REGISTRY"]
