"""The static-analysis rules, one per module, each a ``LintRule`` with its own examples.

What the rules look for: imports outside the task's allowlist (laziness), and every way Python code walks from
the objects it is given to the interpreter's internals, where the real builtins and any module of the standard
library are: dunders, frames, code run from strings, and attributes named by strings computed at run time
(including the allowed modules' functions that take attribute names from data). The OS sandbox is the wall;
these rules are the readable reasons and the first line, and what an escape would still buy once the sandbox
holds (native code through ctypes) is what they keep out.

What they no longer look for, and why: state kept between calls (module-level caches, ``lru_cache``,
attributes on functions, mutable defaults, ``global``/``nonlocal``, metaclasses, and their side-steps such as
``ValueError({}).args[0]``, ``{}.setdefault``, ``typing.OrderedDict()``, ``typing.Deque()``,
``operator.call(dict)``, a module-level ``except ... as e``, ``matmul = Obj().run``, an ``__mro_entries__``
base returning ``type``) is harmless, since the parent sends one fresh random input per call; patched clocks,
builtins or allowed modules change only the child, while the parent times each call from outside and checks
each result itself; exits, signals and forged replies only end or garble the child's side, which the parent
rejects; results that fake equality are never compared, because only plain data crosses back; files,
processes and the network are the OS sandbox's.
"""

from runtime.rewards.rules.dunder_access import DunderAccess
from runtime.rewards.rules.dynamic_attribute import DynamicAttribute
from runtime.rewards.rules.dynamic_code import DynamicCode
from runtime.rewards.rules.frame_introspection import FrameIntrospection
from runtime.rewards.rules.import_outside_allowlist import ImportOutsideAllowlist
from runtime.rewards.rules.module_attribute_outside_api import ModuleAttributeOutsideApi

ALL_RULES = (
    ImportOutsideAllowlist,
    ModuleAttributeOutsideApi,
    DynamicCode,
    DynamicAttribute,
    FrameIntrospection,
    DunderAccess,
)
"""Every rule, in the order their findings are reported for the same position."""

__all__ = [
    "ALL_RULES",
    "DunderAccess",
    "DynamicAttribute",
    "DynamicCode",
    "FrameIntrospection",
    "ImportOutsideAllowlist",
    "ModuleAttributeOutsideApi",
]
