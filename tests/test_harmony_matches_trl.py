"""`parse_harmony` gives reward functions what TRL 1.16 gives them for gpt-oss, on the presets' tokenizers.

The reference is TRL's own path: the tokenizer gets the response template that `add_response_schema` sets for
gpt-oss's chat template, and each completion goes through `trl.chat_template_utils.parse_response` with its prompt,
as GRPOTrainer calls it for conversational prompts.
"""

from __future__ import annotations

import sys

import pytest

if sys.version_info < (3, 11):
    pytest.skip("trl 1.16 needs Python 3.11 (the dev extra installs it there)", allow_module_level=True)

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from trl.chat_template_utils import add_response_schema, gptoss_chat_template, parse_response  # noqa: E402

from rewrite import preset_tokenizer  # noqa: E402
from runtime.harmony import parse_harmony  # noqa: E402

ANALYSIS, FINAL = "<|channel|>analysis<|message|>", "<|channel|>final<|message|>"
NEXT = "<|end|><|start|>assistant"
CALL = "<|start|>assistant to=functions.{name}<|channel|>commentary json<|message|>{arguments}<|call|>"
CODE = "def matmul(A, B):\n    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]"

COMPLETIONS = {
    "analysis then final": f"{ANALYSIS}two plus three is five{NEXT}{FINAL}5<|return|>",
    "final only": f"{FINAL}5<|return|>",
    "final of code": f"{ANALYSIS}use zip{NEXT}{FINAL}```python\n{CODE}\n```<|return|>",
    "cut off in analysis": f"{ANALYSIS}two plus thr",
    "cut off right after the analysis": f"{ANALYSIS}two plus three is five<|end|>",
    "cut off in the next header": f"{ANALYSIS}five{NEXT}<|channel|>fin",
    "cut off in final": f"{ANALYSIS}five{NEXT}{FINAL}def matmul(A, B):\n    ret",
    "cut off right after final opens": f"{FINAL}",
    "empty": "",
    "whitespace around the texts": f"{ANALYSIS}\n  think  \n{NEXT}{FINAL}  5\n<|return|>\n",
    "two analysis messages": f"{ANALYSIS}first{NEXT}{ANALYSIS}second{NEXT}{FINAL}5<|return|>",
    "an empty analysis after one": f"{ANALYSIS}first{NEXT}{ANALYSIS}{NEXT}{FINAL}5<|return|>",
    "analysis ended by return": f"{ANALYSIS}five<|return|>",
    "final ended by end": f"{FINAL}5<|end|><|start|>assistant{FINAL}6<|return|>",
    "text after return": f"{FINAL}5<|return|>trailing words",
    "endoftext after final": f"{FINAL}5<|endoftext|>",
    "commentary preamble": f"<|channel|>commentary<|message|>calling now{NEXT}{FINAL}5<|return|>",
    "tool call": f"{ANALYSIS}call it<|end|>" + CALL.format(name="matmul", arguments='{"A": [[1]], "B": [[2]]}'),
    "two tool calls": CALL.format(name="a", arguments='{"x": 1}') + CALL.format(name="b", arguments="[1, 2]"),
    "tool call with null arguments": CALL.format(name="f", arguments="null"),
    "tool call cut off": CALL.format(name="f", arguments='{"x": [1').removesuffix("<|call|>"),
    "tool call with arguments not json": CALL.format(name="f", arguments="x = 1"),
    "constrain after the recipient": "<|start|>assistant to=functions.f<|channel|>commentary <|constrain|>json"
                                     '<|message|>{"x": 1}<|call|>',
    "constrain after the channel": '<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"x": 1}<|call|>',
    "constrain then final": f'<|channel|>commentary <|constrain|>json<|message|>{{"x": 1}}{NEXT}{FINAL}5<|return|>',
    "unicode": f"{ANALYSIS}∑ é 🙂{NEXT}{FINAL}→ 5 ✓<|return|>",
    "no harmony channel": "<|start|>assistant<|message|>5<|end|>",
}
PROMPT_ENDINGS = {
    "generation prompt": "",
    "prefilled final channel": FINAL,
    "prefilled analysis": ANALYSIS + "Let me think.",
}


def trl_reading(name: str):
    """A preset's tokenizer set up as TRL sets up gpt-oss's: gpt-oss's chat template, then add_response_schema."""
    tokenizer = preset_tokenizer(name)
    tokenizer.chat_template = gptoss_chat_template
    return add_response_schema(tokenizer)


@pytest.fixture(scope="module", params=["tiny", "gpt-oss-20b"])
def tokenizers(request):
    return preset_tokenizer(request.param), trl_reading(request.param)


def prompt_ids(tokenizer, ending: str) -> list[int]:
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is 2 + 3?"}], add_generation_prompt=True,
                                           reasoning_effort="low", tokenize=False)
    return tokenizer(prompt + ending, add_special_tokens=False)["input_ids"]


def assert_same_as_trl(tokenizers, completion: list[int], prompt: list[int]) -> None:
    ours, theirs = tokenizers
    parsed = parse_harmony(completion, ours, prompt_ids=prompt)
    if parsed.is_harmony:
        assert parsed.message == parse_response(theirs, completion, prefix=prompt, tools=[])
    else:  # TRL without a response template: the text without special tokens
        assert parsed.message == {"role": "assistant", "content": theirs.decode(completion, skip_special_tokens=True)}


@pytest.mark.parametrize("completion", COMPLETIONS.values(), ids=COMPLETIONS.keys())
def test_the_message_equals_trls_after_a_generation_prompt(tokenizers, completion):
    ours, _ = tokenizers
    assert_same_as_trl(tokenizers, ours(completion, add_special_tokens=False)["input_ids"], prompt_ids(ours, ""))


@pytest.mark.parametrize("ending", PROMPT_ENDINGS.values(), ids=PROMPT_ENDINGS.keys())
@pytest.mark.parametrize("completion", ["5<|return|>", f"five{NEXT}{FINAL}5<|return|>", "half a thou"])
def test_the_message_equals_trls_after_a_prefilled_prompt(tokenizers, ending, completion):
    ours, _ = tokenizers
    assert_same_as_trl(tokenizers, ours(completion, add_special_tokens=False)["input_ids"], prompt_ids(ours, ending))


def test_a_prompt_without_an_assistant_header_is_read_whole_as_trl_reads_it(tokenizers):
    ours, _ = tokenizers
    prompt = ours(FINAL + "prefilled ", add_special_tokens=False)["input_ids"]
    assert_same_as_trl(tokenizers, ours("5<|return|>", add_special_tokens=False)["input_ids"], prompt)


FRAGMENTS = st.sampled_from([
    "<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>", "<|endoftext|>",
    "assistant", "analysis", "final", "commentary", " json", "json", " to=functions.matmul", "to=functions.f",
    " ", "\n", "5", "two plus three", '{"A": [[1]]}', "[1, 2]", "null", "{", "é🙂", "to=assistant",
])


@pytest.fixture(scope="module")
def tiny_tokenizers():
    return preset_tokenizer("tiny"), trl_reading("tiny")


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(completion=st.lists(FRAGMENTS, max_size=14), ending=st.sampled_from(list(PROMPT_ENDINGS.values())))
def test_any_sequence_of_harmony_fragments_reads_as_trl_reads_it(tiny_tokenizers, completion, ending):
    ours, _ = tiny_tokenizers
    ids = [token for fragment in completion for token in ours(fragment, add_special_tokens=False)["input_ids"]]
    assert_same_as_trl(tiny_tokenizers, ids, prompt_ids(ours, ending))
