"""Rule: no attribute access by computed name."""

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule


class DynamicAttribute(ForbiddenIdentifierRule):
    """``getattr(__builtins__, "__imp" + "ort__")`` and its relatives reach any attribute from a string
    built at run time, which no static check can follow; use attribute syntax instead."""

    name = "dynamic-attribute"
    FORBIDDEN = frozenset({"getattr", "setattr", "delattr", "attrgetter", "methodcaller"})
    MESSAGE = "`{identifier}` reaches attributes by a name computed at run time; use `obj.name` syntax"
    VALID = (
        "def f(row):\n    return row.count(0)",
        "from operator import itemgetter\nfirst = itemgetter(0)",
        "getattribute_count = 0",
    )
    INVALID = (
        "imp = getattr(__builtins__, '__imp' + 'ort__')",
        "setattr(obj, 'cache', {})",
        "import operator\nglobals_of = operator.attrgetter('__globals__')",
        "from operator import methodcaller",
        "fetch = getattr",
    )
