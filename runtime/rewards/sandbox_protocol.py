"""The parent's side of the line protocol with ``sandbox_runner``: one JSON object per line each way.

Parent to child: ``{"id", "source", "entry_point"}`` once, then ``{"id", "arguments": [...]}`` per call, each
sent only after the previous call's reply; every ``id`` is fresh and random. Child to parent:
``{"status": "armed"}`` when its limits and filters are in place, then for each request, carrying its
``id``: ``{"status": "ready"}`` when the code is loaded, ``{"status": "ok", "output": PLAIN}`` per call, or
``{"status": "error", "error": TEXT, "line": N}``. A reply written before its request arrived cannot carry
its id, so a stale or pre-written reply is told apart from the answer. A reply is only ever the child's
claim of what it returned: times are measured by the parent and outputs checked by it.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ReplyStatus = Literal["armed", "ready", "ok", "error"]
MAX_OUTPUT_DEPTH = 64
"""Nesting deeper than this is not plain data (the runner refuses to send it)."""
MAX_ERROR_CHARACTERS = 1000
REQUEST_ID_BITS = 63
_PLAIN_TYPES = frozenset({list, int, float, bool, str, type(None)})
_KEYS = {
    "armed": {"status"},
    "ready": {"status", "id"},
    "ok": {"status", "id", "output"},
    "error": {"status", "id", "error", "line"},
}


@dataclass(frozen=True)
class Reply:
    """One well-formed reply of the child."""

    status: ReplyStatus
    id: int = 0
    """The request it answers (0 for ``"armed"``, which answers none)."""
    output: object = None
    """What the call returned, as plain data (lists, not tuples), when ``status == "ok"``."""
    error: str = ""
    line: int = 0
    """Line of the submission where the error arose, 0 when unknown."""


@dataclass(frozen=True)
class Request:
    """One line to send, and the id its reply must carry."""

    id: int
    line: bytes


def program_request(source: str, entry_point: str) -> Request:
    """The request that hands the child the code to load."""
    request_id = _fresh_id()
    return Request(request_id, _line({"id": request_id, "source": source, "entry_point": entry_point}))


def call_request(arguments: Sequence[object]) -> Request:
    """The request for one call; ``arguments`` must be JSON-compatible plain data."""
    request_id = _fresh_id()
    return Request(request_id, _line({"id": request_id, "arguments": list(arguments)}))


def parse_reply(line: bytes) -> Reply | None:
    """The reply ``line`` holds, or None when it is not exactly one of the replies above: other keys,
    other types, non-plain outputs, bad encodings and absurd nesting are all None. Never raises."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError, MemoryError):  # bad JSON or encoding, huge integers, deep nesting
        return None
    status = message.get("status") if type(message) is dict else None
    if type(status) is not str or status not in _KEYS or message.keys() != _KEYS[status]:
        return None
    request_id = message.get("id", 0)
    if type(request_id) is not int:
        return None
    if status == "ok":
        return Reply("ok", request_id, output=message["output"]) if is_plain(message["output"]) else None
    if status == "error":
        error, line_number = message["error"], message["line"]
        if type(error) is not str or type(line_number) is not int:
            return None
        return Reply("error", request_id, error=error[:MAX_ERROR_CHARACTERS], line=max(line_number, 0))
    return Reply(status, request_id)


def is_plain(value: object) -> bool:
    """Whether ``value`` is built of lists, ints, floats, bools, strings and None only, at most
    ``MAX_OUTPUT_DEPTH`` deep. Looks at one level of nesting at a time, its types in bulk: millions of empty
    lists (a reply of a few megabytes) take the parent a fraction of a second, not seconds."""
    level = [value]
    for _ in range(MAX_OUTPUT_DEPTH + 1):
        if not _PLAIN_TYPES.issuperset(map(type, level)):
            return False
        lists = [item for item in level if type(item) is list]
        if not lists:
            return True
        level = list(itertools.chain.from_iterable(lists))
    return False


def _fresh_id() -> int:
    return secrets.randbits(REQUEST_ID_BITS) + 1


def _line(message: object) -> bytes:
    return json.dumps(message).encode("utf-8") + b"\n"
