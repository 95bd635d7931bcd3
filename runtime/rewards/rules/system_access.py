"""Rule: no files, processes, network, foreign code, signals or threads."""

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule


class SystemAccess(ForbiddenIdentifierRule):
    """A pure function needs none of the operating system. The names of the modules that reach it
    (``os``, ``sys``, ``subprocess``, ``socket``, ``ctypes``, ``signal``, ``threading`` ...) and of their
    entry points (``open``, ``system``, ``fork``, ``Popen``, ``Thread`` ...) are rejected wherever they
    appear, so that a module reached by any other path is still caught."""

    name = "system-access"
    FORBIDDEN = frozenset({
        # modules
        "os", "sys", "posix", "io", "_io", "subprocess", "socket", "ssl", "ctypes", "_ctypes", "cffi",
        "signal", "_signal", "threading", "_thread", "multiprocessing", "concurrent", "asyncio", "shutil",
        "pathlib", "tempfile", "glob", "fcntl", "mmap", "resource", "select", "selectors", "pty", "tty",
        "termios", "urllib", "http", "ftplib", "smtplib", "requests", "sqlite3", "shelve", "dbm",
        "webbrowser", "platform", "builtins", "atexit", "weakref", "faulthandler", "tracemalloc",
        # entry points
        "open", "popen", "system", "fork", "forkpty", "spawnl", "spawnv", "spawnve", "posix_spawn",
        "execv", "execve", "execl", "execvp", "kill", "killpg", "Popen", "check_output", "check_call",
        "Thread", "start_new_thread", "Process", "Pool", "CDLL", "PyDLL", "cdll", "pydll", "pythonapi",
        "dlopen", "alarm", "setitimer", "setrlimit", "create_connection", "unlink", "remove", "rmdir",
        "rename", "mkdir", "makedirs", "chmod", "chown", "truncate", "write_text", "write_bytes",
        "read_text", "read_bytes", "listdir", "scandir", "environ", "getenv", "putenv", "chdir",
        "fdopen", "dup2",
    })
    MESSAGE = "`{identifier}` reaches files, processes, the network or threads; compute from the arguments alone"
    VALID = (
        "def f(rows):\n    return len(rows)",
        "opened = True",
        "def f(systems):\n    return systems",
    )
    INVALID = (
        "data = open('/tmp/answers.json').read()",
        "os.system('ls')",
        "subprocess.Popen(['ls'])",
        "t = threading.Thread(target=f)",
        "libc = ctypes.CDLL(None)",
        "signal.alarm(1)",
        "import typing\nmods = typing.sys",
    )
