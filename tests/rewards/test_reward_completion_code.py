"""Getting code out of completions."""

from __future__ import annotations

from runtime.rewards import completion_code, completion_text, defines_function, extract_python_code


def test_plain_code_is_returned_as_is():
    assert extract_python_code("def matmul(A, B):\n    return A\n") == "def matmul(A, B):\n    return A\n"


def test_python_block_is_preferred_to_other_blocks():
    text = "```text\nnot code\n```\nthen\n```python\nx = 1\n```\nand ```\ny = 2\n```"
    assert extract_python_code(text) == "x = 1\n"


def test_untagged_block_is_used_when_no_python_block():
    assert extract_python_code("see:\n```\ny = 2\n```\n") == "y = 2\n"


def test_unclosed_fence_runs_to_the_end():
    assert extract_python_code("```py\ndef f():\n    return 1") == "def f():\n    return 1"


def test_chat_completion_uses_the_assistant_messages():
    completion = [{"role": "user", "content": "ignored"}, {"role": "assistant", "content": "```python\nz = 3\n```"}]
    assert completion_text(completion) == "```python\nz = 3\n```"
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
