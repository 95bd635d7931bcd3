"""Get the Python code out of a model completion."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

Completion = str | Sequence[Mapping[str, object]]
"""What TRL passes to reward functions: text, or chat messages ``{"role": ..., "content": ...}``."""

_FENCED_BLOCK = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_PYTHON_TAGS = frozenset({"python", "py", "python3"})


def completion_text(completion: Completion) -> str:
    """The text of a completion: the string itself, or the assistant messages' contents joined
    (all messages' when none is marked as the assistant's)."""
    if isinstance(completion, str):
        return completion
    messages = [message for message in completion if message.get("role") == "assistant"] or list(completion)
    return "\n".join(content for message in messages if isinstance(content := message.get("content"), str))


def extract_python_code(text: str) -> str:
    """The first fenced code block tagged python (or else the first untagged one), without its fences;
    ``text`` unchanged when it has no such block. An unclosed fence runs to the end of the text."""
    blocks = [(tag.lower(), body) for tag, body in _FENCED_BLOCK.findall(text)]
    for wanted in (lambda tag: tag in _PYTHON_TAGS, lambda tag: tag == ""):
        for tag, body in blocks:
            if wanted(tag):
                return body
    return text


def completion_code(completion: Completion) -> str:
    """The Python code of a completion: ``extract_python_code(completion_text(completion))``."""
    return extract_python_code(completion_text(completion))
