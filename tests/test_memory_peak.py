"""The allocator-history replay of `tools/memory_peak.py`: the peak, the blocks alive at it, their sites."""

from tools.memory_peak import REPOSITORY, allocation_site, peak_of


def alloc(addr: int, size: int) -> dict:
    return {"action": "alloc", "addr": addr, "size": size}


def free(addr: int) -> dict:
    return {"action": "free_requested", "addr": addr}


def test_the_peak_is_the_most_bytes_alive_at_once_and_the_event_that_reached_it():
    events = [alloc(1, 100), alloc(2, 50), free(1), alloc(3, 120), free(2), alloc(4, 10)]
    assert peak_of(events) == (170, 3)


def test_freeing_a_block_allocated_before_the_recording_is_not_counted():
    events = [free(99), alloc(1, 40), alloc(2, 30)]
    assert peak_of(events) == (70, 2)


def test_a_block_is_named_by_its_innermost_frame_in_the_repository_and_the_torch_function_it_called():
    frames = [{"filename": "/site-packages/torch/functional.py", "line": 7, "name": "empty"},
              {"filename": f"{REPOSITORY}/runtime/ops/thing.py", "line": 12, "name": "forward"},
              {"filename": f"{REPOSITORY}/tools/bench.py", "line": 3, "name": "main"}]
    assert allocation_site(frames) == "runtime/ops/thing.py:12 forward <- empty"


def test_a_block_with_no_frame_of_ours_is_named_by_its_innermost_frame():
    frames = [{"filename": "/torch/x.py", "line": 5, "name": "zeros"}]
    assert allocation_site(frames) == "/torch/x.py:5 zeros"
    assert allocation_site([]) == "(no stack)"
