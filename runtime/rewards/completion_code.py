"""Get the Python code out of a model completion, in time linear in its length."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator, Mapping, Sequence

from runtime.rewards.static_analysis import MAX_SOURCE_CHARS

Completion = str | Sequence[Mapping[str, object]]
"""What TRL passes to reward functions: text, or chat messages ``{"role": ..., "content": ...}``."""

_PYTHON_TAGS = frozenset({"python", "py", "python3"})
_FENCE = "```"


def completion_text(completion: Completion) -> str:
    """The text of a completion: the string itself, or the assistant messages' ``content`` joined (all
    messages' when none is marked as the assistant's). ``content`` is the final channel; ``thinking`` (the
    analysis channel) is never read. Content given as a list of parts contributes its text parts."""
    if isinstance(completion, str):
        return completion
    messages = [message for message in completion if message.get("role") == "assistant"] or list(completion)
    return "\n".join(_content_text(message.get("content")) for message in messages)


def extract_python_code(text: str) -> str:
    """The code of ``text``: the first fenced block tagged python (or else the first untagged one), without
    its fences and dedented by the fence's indentation; ``text`` unchanged when it has no such block, or
    when it is itself valid Python (a source file whose docstrings show fenced examples). An unclosed
    fence runs to the end of the text. A fence is a line that starts, after indentation, with three or
    more backticks; it closes at a line of at least as many backticks and nothing else."""
    first_untagged = None
    for tag, body in _fenced_blocks(text):
        if tag in _PYTHON_TAGS or (tag == "" and first_untagged is None):
            if tag in _PYTHON_TAGS:
                return text if _is_python(text) else body
            first_untagged = body
    if first_untagged is None or _is_python(text):
        return text
    return first_untagged


def completion_code(completion: Completion) -> str:
    """The Python code of a completion: ``extract_python_code(completion_text(completion))``."""
    return extract_python_code(completion_text(completion))


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(part["text"] for part in content
                       if isinstance(part, Mapping) and isinstance(part.get("text"), str))
    return ""


def _fenced_blocks(text: str) -> Iterator[tuple[str, str]]:
    """(tag, body) of each fenced block in order, scanning the lines once."""
    opening, indent, tag, body = 0, 0, "", []
    for line in text.split("\n"):
        stripped = line.strip()
        if opening:
            if len(stripped) >= opening and not stripped.strip("`"):
                yield tag, "".join(body)
                opening = 0
            else:
                body.append(_dedent(line, indent) + "\n")
        elif stripped.startswith(_FENCE):
            ticks = len(stripped) - len(stripped.lstrip("`"))
            info = stripped[ticks:].split(maxsplit=1)
            opening, indent, body = ticks, len(line) - len(line.lstrip(" ")), []
            tag = info[0].lower() if info else ""
    if opening:
        yield tag, "".join(body)[:-1]  # the text's last line has no newline of its own


def _dedent(line: str, indent: int) -> str:
    removable = len(line) - len(line.lstrip(" "))
    return line[min(indent, removable):]


def _is_python(text: str) -> bool:
    """Whether ``text`` as a whole parses as Python (checked only up to the analysis's size limit)."""
    if len(text) > MAX_SOURCE_CHARS:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
