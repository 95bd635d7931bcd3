"""The static-analysis rules, one per module, each a ``LintRule`` with its own examples."""

from runtime.rewards.rules.attribute_state import AttributeState
from runtime.rewards.rules.class_state import ClassState
from runtime.rewards.rules.comparison_override import ComparisonOverride
from runtime.rewards.rules.dunder_access import DunderAccess
from runtime.rewards.rules.dynamic_attribute import DynamicAttribute
from runtime.rewards.rules.dynamic_code import DynamicCode
from runtime.rewards.rules.frame_introspection import FrameIntrospection
from runtime.rewards.rules.global_statement import GlobalStatement
from runtime.rewards.rules.import_outside_allowlist import ImportOutsideAllowlist
from runtime.rewards.rules.memoising_decorator import MemoisingDecorator
from runtime.rewards.rules.module_attribute_assignment import ModuleAttributeAssignment
from runtime.rewards.rules.module_attribute_outside_api import ModuleAttributeOutsideApi
from runtime.rewards.rules.module_state import ModuleState
from runtime.rewards.rules.mutable_default import MutableDefault
from runtime.rewards.rules.process_exit import ProcessExit
from runtime.rewards.rules.system_access import SystemAccess

ALL_RULES = (
    ImportOutsideAllowlist,
    ModuleAttributeOutsideApi,
    DynamicCode,
    DynamicAttribute,
    FrameIntrospection,
    DunderAccess,
    ModuleAttributeAssignment,
    AttributeState,
    ModuleState,
    ClassState,
    MutableDefault,
    GlobalStatement,
    MemoisingDecorator,
    SystemAccess,
    ProcessExit,
    ComparisonOverride,
)
"""Every rule, in the order their findings are reported for the same line."""

__all__ = [
    "ALL_RULES",
    "AttributeState",
    "ClassState",
    "ComparisonOverride",
    "DunderAccess",
    "DynamicAttribute",
    "DynamicCode",
    "FrameIntrospection",
    "GlobalStatement",
    "ImportOutsideAllowlist",
    "MemoisingDecorator",
    "ModuleAttributeAssignment",
    "ModuleAttributeOutsideApi",
    "ModuleState",
    "MutableDefault",
    "ProcessExit",
    "SystemAccess",
]
