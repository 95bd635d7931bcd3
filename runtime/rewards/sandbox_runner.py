"""The child side of the sandbox: load one submission, then answer the parent's calls one at a time.

Started by ``runtime.rewards.sandbox_launch`` as ``python -I -S -B sandbox_runner.py SETUP`` (inside
bubblewrap, or as a plain subprocess in the weak sandbox) with an empty environment, the request pipe on
stdin and the reply pipe on stdout; SETUP is a JSON object: the allowlisted modules, the resource limits, the
reply limit, the seccomp program to install (hex, empty in the weak sandbox) and whether to install the
audit hook (the weak sandbox's only wall). Uses the standard library only. In order, it:

1. moves the two pipes to private descriptors;
2. imports the allowlisted modules, lowers its resource limits (CPU, address space, file size, open files,
   no processes, no core files), installs the seccomp program (no exec), points 0, 1 and 2 at /dev/null
   (so that the submission's prints go nowhere), and installs the audit hook if asked;
3. replies ``{"status": "armed"}``, reads ``{"id", "source", "entry_point"}``, executes the source as the
   module ``"submission"`` (so ``if __name__ == "__main__":`` blocks do not run), registered in
   ``sys.modules`` as an imported module is (``dataclasses`` looks a class's module up there to read string
   annotations), with restricted builtins, and replies ``{"id", "status": "ready"}``;
4. for each request ``{"id", "arguments"}`` (arguments decoded afresh), calls the entry point and replies
   ``{"id", "status": "ok", "output": ...}``; exits when the parent closes the pipe.

Every reply carries the id of the request it answers. Any failure of the submission becomes
``{"id", "status": "error", "error", "line"}``. Nothing here is trusted by the parent, which times each call
from outside and checks every output: a reply only says what the call returned. Outputs must be built of
exact list/tuple/int/float/bool/str/None objects: anything else (a subclass, a generator, a lazy object) is
an error.
"""

import builtins
import importlib
import itertools
import json
import os
import resource
import sys
import types

_BLOCKED_EVENT_PREFIXES = (
    "open", "os.", "subprocess.", "socket.", "ctypes.", "_thread.", "shutil.", "resource.", "signal.",
    "mmap.", "sqlite3.", "urllib.", "http.", "ftplib.", "smtplib.", "webbrowser.", "syslog.", "pty.",
    "fcntl.", "winreg.", "msvcrt.", "sys.addaudithook",
)
_REMOVED_BUILTINS = (
    "open", "eval", "exec", "compile", "globals", "locals", "vars", "input", "breakpoint", "help",
    "exit", "quit", "copyright", "credits", "license",
)
_COMPILER_MODULES = ("unicodedata",)
"""Modules CPython imports by itself while compiling ordinary code (``unicodedata`` normalises non-ASCII
identifiers): loaded at start-up, since once armed the sandbox maps no new native code."""
_SUBMISSION = "submission"
_CONTAINERS = frozenset({list, tuple})
_PLAIN_TYPES = _CONTAINERS | {int, float, bool, str, type(None)}
_MAX_DEPTH = 64
_OPEN_FILES = 64
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def main(setup_json):
    setup = json.loads(setup_json)
    requests, replies = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    allowed = frozenset(setup["allowed_modules"])
    modules = {name: importlib.import_module(name) for name in allowed}
    for name in _COMPILER_MODULES:
        importlib.import_module(name)
    _limit_resources(setup["limits"])
    if setup["seccomp"]:
        _install_seccomp(bytes.fromhex(setup["seccomp"]))
    _silence_standard_streams()  # only now: start-up errors above reach the parent on stderr
    if setup["audit_hook"]:
        sys.addaudithook(_audit_hook_allowing(allowed))
    _reply(replies, {"status": "armed"})
    program = json.loads(requests.readline())
    entry, failure = _load(program["source"], program["entry_point"], modules)
    _reply(replies, {"id": program["id"], **(failure or {"status": "ready"})})
    if entry is None:  # stay until the parent, which reads this process's CPU clock after each reply, is done
        requests.read()
        os._exit(0)
    for line in requests:
        request = json.loads(line)
        reply = _call(entry, request["arguments"], setup["output_bytes"])
        _reply(replies, {"id": request["id"], **reply})
    os._exit(0)


def _silence_standard_streams():
    devnull = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(devnull, descriptor)
    os.close(devnull)


def _limit_resources(limits):
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"]))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (_OPEN_FILES, _OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _install_seccomp(program):
    """Install the BPF ``program`` on this process, for good (it stays through everything that follows)."""
    import ctypes

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    instructions = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.addressof(instructions))
    if (libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0
            or libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0):
        raise OSError(ctypes.get_errno(), "cannot install the seccomp filter")


def _audit_hook_allowing(allowed):
    def refuse_outside_sandbox(event, args):
        if event == "import" and args[0] not in allowed and args[0] not in sys.modules:
            raise ImportError(f"module {args[0]!r} is not allowed in the sandbox")
        if event.startswith(_BLOCKED_EVENT_PREFIXES):
            raise PermissionError(f"{event} is not allowed in the sandbox")
    return refuse_outside_sandbox


def _restricted_builtins(modules):
    def limited_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0:
            raise ImportError("relative imports are not allowed for this task")
        if name not in modules:  # as Python's import says of a module it cannot find, so fallbacks catch it
            raise ModuleNotFoundError(f"module {name!r} is not allowed for this task", name=name)
        if not fromlist:  # `import a.b` binds the package `a`, as Python's own import does
            package = name.partition(".")[0]
            if package not in modules:
                raise ImportError(f"module {package!r} is not allowed for this task; import from {name!r}")
            return modules[package]
        module = modules[name]
        for attribute in fromlist:  # a module only when allowed itself (`from collections import abc`)
            value = getattr(module, attribute, None)
            if type(value) is type(module) and value is not modules.get(f"{name}.{attribute}"):
                raise ImportError(f"{name}.{attribute} is a module, which is not allowed for this task")
        return module

    namespace = {name: value for name, value in vars(builtins).items() if name not in _REMOVED_BUILTINS}
    namespace["__import__"] = limited_import
    return namespace


def _load(source, entry_point, modules):
    """``(entry point, None)``, or ``(None, error reply)`` when the code does not compile, run or define
    it."""
    try:
        code = compile(source, "<submission>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return None, {"status": "error", "error": f"{type(error).__name__}: {error}",
                      "line": getattr(error, "lineno", 0) or 0}
    try:
        module = types.ModuleType(_SUBMISSION)
        module.__builtins__ = _restricted_builtins(modules)
        sys.modules[_SUBMISSION] = module
        exec(code, module.__dict__)
        entry = module.__dict__.get(entry_point)
        if callable(entry):
            return entry, None
        return None, {"status": "error", "line": 0,
                      "error": f"the code does not define a function {entry_point!r}"}
    except BaseException as error:  # the sandbox boundary: SystemExit, MemoryError ... all become replies
        return None, _error_reply("load", error)


def _call(entry, arguments, output_bytes):
    try:
        output = entry(*arguments)
        _check_plain(output, output_bytes // 2)
        return {"status": "ok", "output": output}
    except BaseException as error:
        return _error_reply("call", error)


def _check_plain(value, budget):
    """Raise TypeError unless ``value`` is built of exact builtin types (which JSON writes as they are, tuples
    as lists), at most ``_MAX_DEPTH`` deep, of at most ``budget`` items (each takes at least two bytes of the
    reply, so more would exceed its limit anyway). This runs inside the parent's timed window, so it looks at
    one level of nesting at a time, its types in bulk: a program that answered the parent itself would skip
    little."""
    level = [value]
    for _ in range(_MAX_DEPTH):
        budget -= len(level)
        if budget < 0:
            raise TypeError("the result is larger than the sandbox's reply limit")
        kinds = set(map(type, level))
        odd = kinds - _PLAIN_TYPES
        if odd:
            raise TypeError(f"the result contains a {odd.pop().__name__!r}; return plain lists of floats")
        if kinds.isdisjoint(_CONTAINERS):
            return
        level = list(itertools.chain.from_iterable(item for item in level if type(item) in _CONTAINERS))
    if level:
        raise TypeError(f"the result is nested more than {_MAX_DEPTH} levels deep")


def _error_reply(phase, error):
    try:  # a hostile exception (its __str__, its class's __name__) must not take the reply down with it
        description = f"{phase}: {type(error).__name__}: {str(error)[:500]}"
    except BaseException:
        description = f"{phase}: an exception that cannot be described"
    return {"status": "error", "error": description, "line": _submission_line(error)}


def _submission_line(error):
    line = 0
    try:
        trace = error.__traceback__
        while trace is not None:
            if trace.tb_frame.f_code.co_filename == "<submission>" and type(trace.tb_lineno) is int:
                line = trace.tb_lineno
            trace = trace.tb_next
    except BaseException:
        pass
    return line


def _reply(replies, message):
    try:
        line = json.dumps(message).encode("utf-8")
    except BaseException:  # integers too long to print ...
        line = json.dumps({"status": "error", "id": message.get("id", 0), "line": 0,
                           "error": "reply: the result cannot be written as JSON"}).encode("utf-8")
    replies.write(line + b"\n")
    replies.flush()


if __name__ == "__main__":
    main(sys.argv[1])
