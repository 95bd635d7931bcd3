"""Getting code out of completions."""

from __future__ import annotations

import time

import pytest

from runtime.rewards import completion_code, completion_text, defines_function, extract_python_code

DOCSTRING_WITH_FENCES = (
    'def matmul(A, B):\n    """Multiply.\n\n    ```python\n    matmul([[1]], [[2]])\n    ```\n    """\n'
    "    return A\n"
)


@pytest.mark.parametrize(("text", "code"), [
    pytest.param("def matmul(A, B):\n    return A\n", "def matmul(A, B):\n    return A\n", id="plain code as is"),
    pytest.param("```text\nnot code\n```\nthen\n```python\nx = 1\n```\nand ```\ny = 2\n```", "x = 1\n",
                 id="a python block before other blocks"),
    pytest.param("see:\n```\ny = 2\n```\n", "y = 2\n", id="an untagged block when there is no python block"),
    pytest.param("```py\ndef f():\n    return 1", "def f():\n    return 1", id="an unclosed fence runs to the end"),
    pytest.param("1. Write it:\n   ```python\n   x = 1\n   y = 2\n   ```\n", "x = 1\ny = 2\n",
                 id="an indented fence is dedented"),
    pytest.param("```python\ns = '```'\nprint('``` not a fence')\n````\nafter\n",
                 "s = '```'\nprint('``` not a fence')\n", id="a fence closes only at a line of backticks"),
    pytest.param(DOCSTRING_WITH_FENCES, DOCSTRING_WITH_FENCES, id="python source keeps its docstrings' fences"),
])
def test_the_code_of_a_completion_is_extracted(text, code):
    assert extract_python_code(text) == code


def test_extraction_takes_linear_time():
    """An unterminated fence followed by 300k characters made the old regex backtrack for 46 s."""
    start = time.monotonic()
    for text in ("```python\n" + "x" * 300_000, "```" * 100_000, "```\n" * 100_000, "``` x\n" + "y\n" * 150_000):
        extract_python_code(text)
    assert time.monotonic() - start < 2


def test_chat_completion_uses_the_assistant_content_never_the_thinking():
    completion = [
        {"role": "user", "content": "ignored"},
        {"role": "assistant", "thinking": "```python\nimport numpy\n```", "content": "```python\nz = 3\n```"},
    ]
    assert completion_text(completion) == "```python\nz = 3\n```"
    assert completion_code(completion) == "z = 3\n"


def test_content_given_as_parts_contributes_its_text():
    completion = [{"role": "assistant", "content": [{"type": "text", "text": "```python\nz = 3\n```"}]}]
    assert completion_code(completion) == "z = 3\n"


def test_entry_point_must_take_the_right_number_of_arguments():
    assert defines_function("def matmul(A, B):\n    pass", "matmul", 2)
    assert defines_function("def matmul(A, B, block=8):\n    pass", "matmul", 2)
    assert defines_function("def matmul(*matrices):\n    pass", "matmul", 2)
    assert defines_function("matmul = lambda A, B: A", "matmul", 2)
    assert not defines_function("def matmul(A):\n    pass", "matmul", 2)
    assert not defines_function("def matmul(A, B, C):\n    pass", "matmul", 2)
    assert not defines_function("def matmul(A, B, *, mode):\n    pass", "matmul", 2)
    assert not defines_function("class K:\n    def matmul(A, B):\n        pass", "matmul", 2)
    assert not defines_function("def matmul(A, B)\n    pass", "matmul", 2)


def test_entry_point_may_be_bound_under_another_name():
    assert defines_function("def multiply(A, B):\n    pass\n\nmatmul = multiply", "matmul", 2)
    assert not defines_function("def multiply(A):\n    pass\n\nmatmul = multiply", "matmul", 2)
    assert defines_function("class S:\n    def run(self, A, B):\n        pass\n\nmatmul = S().run", "matmul", 2)
    assert defines_function("if True:\n    def matmul(A, B):\n        pass", "matmul", 2)
    assert not defines_function("matmul = 3", "matmul", 2)


def test_entry_point_through_long_or_branching_alias_chains_is_decided_at_once():
    chain = "".join(f"a{i} = a{i + 1}\n" for i in range(3000))
    assert defines_function(f"matmul = a0\n{chain}def a3000(A, B):\n    pass", "matmul", 2)
    assert not defines_function(f"matmul = a0\n{chain}a3000 = None", "matmul", 2)
    fan_out = "".join(f"a{i} = a{i + 1}\na{i} = a{i + 1}\n" for i in range(64))  # 2**64 chains of aliases
    assert not defines_function(f"matmul = a0\n{fan_out}a64 = None", "matmul", 2)
    assert defines_function(f"matmul = a0\nmatmul = len\n{fan_out}a64 = None", "matmul", 2)
    assert not defines_function("matmul = a\na = matmul", "matmul", 2)
