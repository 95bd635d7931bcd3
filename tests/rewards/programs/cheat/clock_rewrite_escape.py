# expect: reject static dunder-access
# cheat: reach the time module through object's subclasses and stop the clock a harness would read.
def _find_time():
    for klass in object.__subclasses__():
        namespace = getattr(klass.__init__, "__globals__", {})
        if "time" in namespace:
            return namespace["time"]
    return None


_time = _find_time()
if _time is not None:
    _time.perf_counter = lambda: 0.0


def matmul(A, B):
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]
