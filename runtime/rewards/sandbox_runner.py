"""The child side of the sandbox: run one submission in this isolated interpreter and report.

Started by ``runtime.rewards.sandbox`` as ``python -I -S -B sandbox_runner.py JOB`` in a fresh temporary
directory, with an empty environment and stdin closed. Uses the standard library only (``-I`` keeps
this package off ``sys.path``). In order, it:

1. reads the job file and deletes it (the submission never sees the nonce that authenticates results);
2. imports the allowlisted modules, keeps the result pipe (stdout) on a private descriptor and points
   descriptors 1 and 2 at /dev/null, so the submission's prints go nowhere;
3. lowers its resource limits (CPU, address space, file size 0, no new processes, no core files);
4. installs an audit hook that refuses opening files, starting processes or threads, sockets, ctypes,
   sending signals, changing resource limits and importing modules outside the allowlist;
5. executes the submission under the name ``"submission"`` (so ``if __name__ == "__main__":`` blocks do
   not run) with restricted builtins, then calls the entry point once per call in the job, on inputs
   decoded afresh from JSON each time, wiping the CPU caches before and timing the call together with
   the copy of its result into plain data (so no work, finalizers included, escapes the timer);
6. writes one JSON line ``{"nonce", "status": "ok", "calls": [{"seconds", "output"}]}`` (or ``"status":
   "error"`` with ``"error"``, ``"line"``) and exits at once with ``os._exit``.

Outputs must be built of exact ``list``/``tuple``/``int``/``float``/``bool``/``str``/``None`` objects:
anything else (a subclass, a generator, a lazy object) is an error.
"""

import builtins
import importlib
import json
import os
import resource
import sys
import time

_BLOCKED_EVENT_PREFIXES = (
    "open", "os.", "subprocess.", "socket.", "ctypes.", "_thread.", "shutil.", "resource.", "signal.",
    "mmap.", "sqlite3.", "urllib.", "http.", "ftplib.", "smtplib.", "webbrowser.", "syslog.", "pty.",
    "fcntl.", "winreg.", "msvcrt.", "sys.addaudithook",
)
_REMOVED_BUILTINS = (
    "open", "eval", "exec", "compile", "globals", "locals", "vars", "input", "breakpoint", "help",
    "exit", "quit", "copyright", "credits", "license",
)
_PLAIN_SCALARS = (int, float, bool, str, type(None))
_clock = time.perf_counter


def main(job_path):
    with open(job_path, encoding="utf-8") as job_file:
        job = json.load(job_file)
    os.unlink(job_path)
    allowed = frozenset(job["allowed_modules"])
    modules = {name: importlib.import_module(name) for name in allowed}
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")
    _silence_standard_streams()
    cache_wiper = bytearray(job["cache_wipe_bytes"])
    report = {"nonce": job["nonce"]}
    try:
        code = compile(job["source"], "<submission>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        report.update(status="error", error=f"{type(error).__name__}: {error}", line=getattr(error, "lineno", 0))
        _finish(results, report)
    _limit_resources(job["limits"])
    sys.addaudithook(_audit_hook_allowing(allowed))
    report.update(_run(code, job, modules, cache_wiper))
    _finish(results, report)


def _silence_standard_streams():
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _limit_resources(limits):
    cpu = limits["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _audit_hook_allowing(allowed):
    def refuse_outside_sandbox(event, args):
        if event == "import" and args[0] not in allowed and args[0] not in sys.modules:
            raise ImportError(f"module {args[0]!r} is not allowed in the sandbox")
        if event.startswith(_BLOCKED_EVENT_PREFIXES):
            raise PermissionError(f"{event} is not allowed in the sandbox")
    return refuse_outside_sandbox


def _restricted_builtins(modules):
    def limited_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0 or name not in modules:
            raise ImportError(f"module {name!r} is not allowed for this task")
        module = modules[name]
        for attribute in fromlist or ():
            if type(getattr(module, attribute, None)) is type(module):
                raise ImportError(f"{name}.{attribute} is a module, which is not allowed for this task")
        return module

    namespace = {name: value for name, value in vars(builtins).items() if name not in _REMOVED_BUILTINS}
    namespace["__import__"] = limited_import
    return namespace


def _run(code, job, modules, cache_wiper):
    namespace = {"__name__": "submission", "__builtins__": _restricted_builtins(modules)}
    phase = "load"
    try:
        exec(code, namespace)
        entry = namespace.get(job["entry_point"])
        if not callable(entry):
            return {"status": "error", "error": f"the code does not define a function {job['entry_point']!r}", "line": 0}
        phase = "call"
        calls = []
        for arguments_json in job["calls"]:
            arguments = json.loads(arguments_json)
            cache_wiper[:] = bytes(len(cache_wiper))
            start = _clock()
            output = _plain(entry(*arguments))
            seconds = _clock() - start
            calls.append({"seconds": seconds, "output": output})
        return {"status": "ok", "calls": calls}
    except BaseException as error:  # the sandbox boundary: SystemExit, MemoryError ... all become reports
        return {"status": "error", "error": f"{phase}: {type(error).__name__}: {_describe(error)}",
                "line": _submission_line(error)}


def _plain(value, depth=0):
    """``value`` rebuilt from exact builtin types; raises TypeError for anything else."""
    if depth > 64:
        raise TypeError("the result is nested more than 64 levels deep")
    if type(value) in _PLAIN_SCALARS:
        return value
    if type(value) in (list, tuple):
        return [_plain(item, depth + 1) for item in value]
    raise TypeError(f"the result contains a {type(value).__name__!r}; return plain lists of floats")


def _describe(error):
    try:
        return str(error)[:500]
    except BaseException:  # a hostile __str__ must not take the report down with it
        return "(unprintable)"


def _submission_line(error):
    line, trace = 0, error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<submission>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _finish(results, report):
    results.write(json.dumps(report) + "\n")
    results.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
