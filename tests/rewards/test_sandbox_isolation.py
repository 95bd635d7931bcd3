"""The operating system's walls hold even for code that has escaped Python's restrictions (real builtins
through ``typing.ForwardRef``): it starts no process, writes nothing on the host, reaches no network, runs
nothing else, imports no third-party package, and nothing of it survives its run."""

from __future__ import annotations

import errno
import os
import socket
import sys
import sysconfig
import uuid
from pathlib import Path

from sandbox_escape import escaping

from runtime.rewards import SandboxJob, SandboxLimits, run_in_sandbox

LIMITS = SandboxLimits(wall_seconds=5.0, cpu_seconds=3.0, memory_bytes=512 << 20, scratch_bytes=4 << 20)


def run_escaped(payload: str, *arguments):
    """The outcome of ``escaped(*arguments)`` from ``payload``, run in the sandbox, only typing allowed."""
    return run_in_sandbox(SandboxJob(escaping(payload), "f", [arguments], frozenset({"typing"})), LIMITS)


def output_of(payload: str, *arguments):
    outcome = run_escaped(payload, *arguments)
    assert outcome.ok, outcome.error
    return outcome.calls[0].output


def processes_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:  # it ended meanwhile
            pass
    return found


def test_no_process_can_be_started_and_none_outlives_the_run():
    marker = "s" + uuid.uuid4().hex[:14]  # a process name (comm) of at most 15 characters
    attempts = output_of('''
        import ctypes, os, sys, threading

        libc = ctypes.CDLL(None, use_errno=True)

        def hide_forever():  # what a process that got out would do: take the marker's name and linger
            libc.prctl(15, MARKER.encode(), 0, 0, 0)  # PR_SET_NAME
            while True:
                pass

        def attempt(start):
            try:
                if start() == 0:
                    hide_forever()
                return "started"
            except (OSError, RuntimeError, ImportError) as error:
                return type(error).__name__

        def raw_clone():  # fork without glibc: clone(SIGCHLD)
            child = libc.syscall(56, 17, 0, 0, 0, 0)
            if child < 0:
                raise OSError(ctypes.get_errno(), "clone")
            return child

        def escaped(marker):
            global MARKER
            MARKER = marker
            libc.prctl(15, marker.encode(), 0, 0, 0)  # the sandboxed process itself carries the marker too
            try:
                os.setsid()
            except OSError:
                pass
            return [
                attempt(os.fork),
                attempt(lambda: os.posix_spawn(sys.executable, [sys.executable, "-c", "pass"], {})),
                attempt(lambda: __import__("subprocess").Popen([sys.executable, "-c", "pass"]).pid),
                attempt(raw_clone),
                attempt(lambda: threading.Thread(target=hide_forever).start() or 1),
            ]
    ''', marker)
    # subprocess cannot even be imported: its C part would have to be mapped as new code
    assert attempts == ["PermissionError", "PermissionError", "ImportError", "PermissionError", "RuntimeError"]
    assert processes_named(marker) == []


def test_files_written_outside_the_private_tmpfs_do_not_reach_the_host(tmp_path):
    marker = uuid.uuid4().hex
    stdlib = sysconfig.get_path("stdlib")
    targets = [str(tmp_path / marker), str(Path.cwd() / marker), f"/tmp/{marker}", f"{stdlib}/{marker}.py",
               f"{Path.home()}/{marker}"]
    results = output_of('''
        def escaped(paths):
            results = []
            for path in paths:
                try:
                    with open(path, "w") as file:
                        file.write("pwned")
                    results.append("written")
                except OSError as error:
                    results.append(error.errno)
            return results
    ''', targets)
    assert results[2] == "written", "the sandbox's own /tmp is writable"
    assert results[3] == errno.EROFS, "the standard library is read-only"
    assert all(result != "written" for index, result in enumerate(results) if index != 2)
    assert not any(os.path.exists(target) for target in targets)


def test_no_connection_reaches_a_listener_on_the_host(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as listener, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix_listener:
        unix_listener.bind(str(tmp_path / "listener.sock"))
        unix_listener.listen()
        results = output_of('''
            import ctypes

            def escaped(port, unix_path):
                results = []
                try:
                    import socket  # its C part would have to be mapped as new code
                except ImportError:
                    results.append("ImportError")
                libc = ctypes.CDLL(None, use_errno=True)
                for family in (2, 1):  # AF_INET, AF_UNIX, as raw system calls
                    if libc.socket(family, 1, 0) >= 0:  # SOCK_STREAM
                        results.append("socket")
                    else:
                        results.append(ctypes.get_errno())
                return results
        ''', listener.getsockname()[1], str(tmp_path / "listener.sock"))
        for server in (listener, unix_listener):
            server.setblocking(False)
            try:
                server.accept()
                raise AssertionError("the sandboxed code connected")
            except BlockingIOError:
                pass
    assert results == ["ImportError", errno.EPERM, errno.EPERM]


def test_third_party_packages_are_not_there_even_on_the_path():
    site_packages = sysconfig.get_path("purelib")
    results = output_of('''
        import os, sys

        def escaped(site_packages):
            sys.path.append(site_packages)
            sys.path.append("/usr/lib/python3/dist-packages")
            results = []
            for name in ("numpy", "torch", "runtime"):
                try:
                    __import__(name)
                    results.append(name)
                except ImportError as error:
                    results.append(type(error).__name__)
            return results + [os.path.isdir(site_packages) and os.listdir(site_packages)]
    ''', site_packages)
    assert results == ["ModuleNotFoundError"] * 3 + [False] or results == ["ModuleNotFoundError"] * 3 + [[]]


def test_exec_trace_mount_namespaces_signals_and_kernel_facilities_are_refused():
    refused = output_of('''
        import ctypes, os, sys

        libc = ctypes.CDLL(None, use_errno=True)

        def errno_of(call):
            try:
                result = call()
            except OSError as error:
                return error.errno
            return ctypes.get_errno() if result == -1 else "allowed"

        def escaped():
            return [
                errno_of(lambda: os.execv(sys.executable, [sys.executable, "-c", "pass"])),
                errno_of(lambda: libc.ptrace(0, 0, None, None)),  # PTRACE_TRACEME
                errno_of(lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
                errno_of(lambda: libc.unshare(0x10000000)),  # CLONE_NEWUSER
                errno_of(lambda: os.kill(1, 0)),
                errno_of(lambda: libc.syscall(321, 0, 0, 0)),  # bpf
                errno_of(lambda: libc.syscall(298, 0, 0, 0, 0, 0)),  # perf_event_open
                errno_of(lambda: libc.syscall(425, 8, 0)),  # io_uring_setup
                errno_of(lambda: libc.syscall(206, 65536, ctypes.byref(ctypes.c_ulong()))),  # io_setup: all the host's
                errno_of(lambda: libc.personality(0x0040000)),  # ADDR_NO_RANDOMIZE
            ]
    ''')
    assert refused == [errno.EPERM] * len(refused)


def test_the_code_runs_as_an_unprivileged_user_without_proc_or_host_files():
    view = output_of('''
        import os

        def escaped():
            return [os.getuid(), os.path.exists("/proc/self"), os.path.exists("/etc/passwd"),
                    os.path.exists(os.path.expanduser("~root")), sorted(os.listdir("/"))]
    ''')
    uid, has_proc, has_etc, _, top_level = view
    assert uid == (65534 if os.geteuid() == 0 else os.geteuid())
    assert not has_proc and not has_etc
    assert "home" not in top_level and "work" not in top_level and "proc" not in top_level


def test_the_private_tmpfs_is_as_small_as_the_limit():
    outcome = run_escaped('''
        def escaped():
            with open("/tmp/big", "wb") as file:
                for _ in range(64):
                    file.write(bytes(1 << 20))
    ''')
    assert outcome.status == "error" and "OSError" in outcome.error


def test_no_memory_can_be_held_outside_the_limits_and_there_are_no_terminals():
    """bubblewrap's /dev is a tmpfs as large as half the host's memory, memfds and message queues live outside
    the address-space limit: they could hold gigabytes. Opening a terminal would take one of the host's ptys."""
    results = output_of('''
        import ctypes, os

        def escaped():
            results = []
            for path, flags in [("/dev/shm/hoard", os.O_CREAT | os.O_WRONLY), ("/dev/hoard", os.O_CREAT | os.O_WRONLY),
                                ("/dev/ptmx", os.O_RDWR), ("/dev/null", os.O_WRONLY)]:
                try:
                    os.close(os.open(path, flags))
                    results.append("opened")
                except OSError as error:
                    results.append(error.errno)
            try:
                results.append(os.memfd_create("hoard") and "created")
            except OSError as error:
                results.append(error.errno)
            libc = ctypes.CDLL(None, use_errno=True)
            results.append(ctypes.get_errno() if libc.msgget(0, 0o1600) < 0 else "created")  # a private queue
            return results
    ''')
    shm, dev, terminal, null, memory_file, message_queue = results
    assert [shm, dev, memory_file, message_queue] == [errno.EROFS, errno.EROFS, errno.EPERM, errno.EPERM]
    assert terminal == errno.ENOENT and null == "opened"


def test_system_calls_of_another_abi_kill_the_process():
    outcome = run_escaped('''
        import ctypes

        def escaped():
            return ctypes.CDLL(None).syscall(0x40000000 | 57)  # fork through the x32 ABI
    ''')
    assert outcome.status == "crashed" and "SIGSYS" in outcome.error


def test_the_interpreter_is_this_python():
    assert output_of('''
        import sys

        def escaped():
            return [sys.version, sys.base_prefix]
    ''') == [sys.version, sys.base_prefix]


def unloaded_host_library() -> str:
    """A shared library of the host's /usr/lib that the interpreter does not load by itself."""
    for name in ("libsqlite3.so.0", "libbz2.so.1.0", "liblzma.so.5", "libexpat.so.1"):
        if any(Path(directory, name).exists() for directory in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib")):
            return name
    raise AssertionError("no test library on this host")


def test_no_new_native_code_can_enter_the_process():
    attempts = output_of('''
        import ctypes

        def attempt(action):
            try:
                action()
                return "done"
            except OSError as error:
                return error.errno
            except ImportError:
                return "ImportError"

        def executable_page():
            libc = ctypes.CDLL(None, use_errno=True)
            libc.mmap.restype = ctypes.c_void_p
            libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_long]
            if libc.mmap(None, 4096, 7, 0x22, -1, 0) in (None, 2**64 - 1):  # PROT_READ|WRITE|EXEC, anonymous
                raise OSError(ctypes.get_errno(), "mmap")

        def protect_writable_page():
            libc = ctypes.CDLL(None, use_errno=True)
            libc.mmap.restype = ctypes.c_void_p
            libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_long]
            address = libc.mmap(None, 4096, 3, 0x22, -1, 0)  # PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS
            if libc.mprotect(ctypes.c_void_p(address), 4096, 5) != 0:  # PROT_READ|PROT_EXEC
                raise OSError(ctypes.get_errno(), "mprotect")

        def load_a_library():
            ctypes.CDLL(LIBRARY)

        def escaped(library):
            global LIBRARY
            LIBRARY = library
            return [attempt(executable_page), attempt(protect_writable_page), attempt(load_a_library),
                    attempt(lambda: __import__("mmap"))]
    ''', unloaded_host_library())
    assert attempts[:2] == [errno.EPERM, errno.EPERM], "no page becomes executable"
    assert attempts[2] != "done", "no shared library can be loaded (dlopen maps code)"
    assert attempts[3] == "ImportError", "nor a C extension module that was not imported before the submission"


def test_no_shared_memory_can_be_attached_as_code():
    attempts = output_of('''
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]

        def escaped():
            segment = libc.shmget(0, 4096, 0o1700)  # IPC_PRIVATE, IPC_CREAT | rwx
            attached = libc.shmat(segment, None, 0o100000)  # SHM_EXEC: writable and executable
            return [segment >= 0, attached in (None, 2**64 - 1) and ctypes.get_errno()]
    ''')
    assert attempts == [True, errno.EPERM], "System V shared memory is never attached (SHM_EXEC would run it)"


def test_no_kernel_memory_or_host_user_quota_can_be_hoarded():
    """POSIX timers each hold a queued signal (as many as the host's RLIMIT_SIGPENDING, counted for the host
    user), inotify watches come out of the host user's quota, and a pipe grown to the host's largest size
    holds a megabyte outside the memory limit."""
    results = output_of('''
        import ctypes, os

        libc = ctypes.CDLL(None, use_errno=True)

        def refused(result):
            return ctypes.get_errno() if result < 0 else "allowed"

        def escaped():
            timer = ctypes.c_void_p()
            _, pipe = os.pipe()
            return [refused(libc.timer_create(1, None, ctypes.byref(timer))),  # CLOCK_MONOTONIC
                    refused(libc.inotify_init1(0)), refused(libc.inotify_init()),
                    refused(libc.fcntl(pipe, 1031, 1 << 20))]  # F_SETPIPE_SZ
    ''')
    assert results == [errno.EPERM] * 4
