"""Rule: no access to frames, namespaces, the garbage collector or inspect."""

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule


class FrameIntrospection(ForbiddenIdentifierRule):
    """Frames, namespaces and the object graph (``globals()``, ``vars()``, ``sys._getframe``,
    ``f_back``, ``gi_frame``, ``tb_frame``, ``gc.get_objects`` ...) let code read or change the harness
    that calls it, timers and expected results included."""

    name = "frame-introspection"
    FORBIDDEN = frozenset({
        "globals", "locals", "vars", "gc", "inspect", "_getframe", "_current_frames", "currentframe",
        "getframeinfo", "getouterframes", "getinnerframes", "get_referrers", "get_referents",
        "get_objects", "settrace", "setprofile", "f_back", "f_globals", "f_locals", "f_builtins",
        "f_code", "f_lasti", "f_trace", "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code",
        "ag_frame", "ag_code", "tb_frame", "tb_next", "co_code", "co_consts", "co_names", "co_varnames",
    })
    MESSAGE = "`{identifier}` inspects frames or namespaces of the caller; use only the arguments you are given"
    VALID = (
        "def f(frame_count):\n    return frame_count + 1",
        "local_total = 0",
    )
    INVALID = (
        "table = globals()",
        "names = locals()",
        "attributes = vars(obj)",
        "caller = sys._getframe(1).f_back",
        "def f():\n    try:\n        raise ValueError\n    except ValueError as error:\n        return error.tb_frame",
        "frame = (x for x in ()).gi_frame",
        "import gc\nobjects = gc.get_objects()",
    )
