"""The parent's reading of child replies: whatever bytes arrive, the parser answers a ``Reply`` or None and
the run ends with a status, never with an exception in the parent."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_escape import escaping

from runtime.rewards import MATMUL, SandboxJob, SandboxLimits, run_in_sandbox
from runtime.rewards.sandbox_protocol import MAX_OUTPUT_DEPTH, Reply, call_request, is_plain, parse_reply

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(line):
    assert parse_reply(line) is None or isinstance(parse_reply(line), Reply)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["status", "id", "output", "error", "line", "seconds"]),
                       st.sampled_from(["ok", "error", "ready", "armed"]) | JSON_VALUES, max_size=4))
def test_random_reply_shaped_objects_never_raise(message):
    reply = parse_reply(json.dumps(message).encode())
    assert reply is None or reply.status == message["status"]


@settings(max_examples=100, deadline=None)
@given(JSON_VALUES)
def test_an_ok_reply_is_accepted_exactly_when_its_output_is_plain(output):
    reply = parse_reply(json.dumps({"status": "ok", "id": 7, "output": output}).encode())
    read_back = reply is not None and (reply.status, reply.id) == ("ok", 7)
    same_output = read_back and json.dumps(reply.output) == json.dumps(output)  # NaN is not equal to itself
    assert same_output == is_plain(output)


@settings(max_examples=100, deadline=None)
@given(JSON_VALUES)
def test_the_matmul_check_takes_any_plain_output_without_raising(output):
    expected = MATMUL.reference(*MATMUL.make_arguments(__import__("random").Random(0), (2, 3, 2)))
    assert MATMUL.outputs_match(expected, output) in (True, False)


@pytest.mark.parametrize("line, expected", [
    (b'{"status": "armed"}', Reply("armed")),
    (b'{"status": "ready", "id": 5}', Reply("ready", 5)),
    (b'{"status": "ok", "id": 5, "output": [[1.5, 2], null, "x", true]}',
     Reply("ok", 5, output=[[1.5, 2], None, "x", True])),
    (b'{"status": "error", "id": 5, "error": "call: ValueError: bad", "line": 3}',
     Reply("error", 5, error="call: ValueError: bad", line=3)),
    (b'{"status": "error", "id": 5, "error": "x", "line": -5}', Reply("error", 5, error="x", line=0)),
    (b'{"status": "ok", "output": 1}', None),
    (b'{"status": "ok", "id": "5", "output": 1}', None),
    (b'{"status": "ok", "id": 5}', None),
    (b'{"status": "ok", "id": 5, "output": 1, "seconds": 0.0}', None),
    (b'{"status": "ok", "id": 5, "output": {"a": 1}}', None),
    (b'{"status": ["ok"]}', None),
    (b'{"status": "error", "id": 5, "error": "x", "line": true}', None),
    (b'[' * 100_000 + b']' * 100_000, None),
    (b'{"status": "ok", "id": 5, "output": ' + b"1" * 5000 + b"}", None),
    (b"\xff\xfe\x00", None),
    (b'{"status": "ok", "id": 5, "output": NaN}', "nan"),
], ids=lambda value: value[:40].decode("latin-1") if isinstance(value, bytes) else None)
def test_replies_are_read_exactly(line, expected):
    reply = parse_reply(line)
    if expected == "nan":
        assert reply.status == "ok" and reply.output != reply.output
    else:
        assert reply == expected


def test_outputs_nested_too_deep_are_not_plain():
    deep = [0]
    for _ in range(MAX_OUTPUT_DEPTH):
        deep = [deep]
    assert not is_plain(deep) and is_plain(deep[0])


def test_requests_are_one_json_line_each_with_a_fresh_id():
    first, second = call_request(([[1.0]], [[2.0]])), call_request(([[1.0]], [[2.0]]))
    assert json.loads(first.line) == {"id": first.id, "arguments": [[[1.0]], [[2.0]]]}
    assert first.line.endswith(b"}\n") and first.line.count(b"\n") == 1 and first.id != second.id


@pytest.mark.parametrize("reply", [
    b"\xff\xfe garbage\n",
    b'{"status": "ok", "output": {"a": 1}}\n',
    b'{"status": "ok", "id": 1, "output": 1}\n',
    b"[" * 200_000 + b"\n",
    b'{"status": "ok", "output": 1}',  # no newline, then the process ends
], ids=["not-utf8", "not-plain", "another-request", "deep-nesting", "no-newline"])
def test_a_child_that_writes_anything_ends_the_run_with_a_status(reply):
    source = escaping(f'''
        import os

        def escaped():
            for descriptor in range(3, 64):
                try:
                    os.write(descriptor, {reply!r})
                except OSError:
                    pass
            os._exit(0)
    ''')
    job = SandboxJob(source, "f", [()], frozenset({"typing"}))
    outcome = run_in_sandbox(job, SandboxLimits(wall_seconds=5.0))
    assert outcome.status == "crashed" and outcome.calls == ()


def test_a_reply_beyond_the_output_limit_is_cut_off():
    source = "def f():\n    return 'x' * 200_000\n"
    outcome = run_in_sandbox(SandboxJob(source, "f", [()], frozenset()), SandboxLimits(output_bytes=100_000))
    assert outcome.status == "crashed" and "100000 bytes" in outcome.error


def test_a_result_with_more_items_than_the_reply_could_hold_is_refused_before_it_is_sent():
    source = "def f():\n    row = [0.5] * 1_000_000\n    return [row] * 16\n"
    outcome = run_in_sandbox(SandboxJob(source, "f", [()], frozenset()), SandboxLimits(output_bytes=1 << 20))
    assert outcome.status == "error" and "reply limit" in outcome.error
