"""`chat`: messages in, the assistant's harmony reply out (thinking, content, tool calls), streamed as generated.

The messages are rendered with the tokenizer's chat template and a generation prompt (`reasoning_effort` and any
other keyword passed to the template), generated with the project's engine (`runtime.generate`) until a stop token
or `max_new_tokens`, and read with `runtime.harmony.parse_harmony`. `on_text(field, text)` receives the reply's
thinking and content ("thinking", "content") piece by piece while they are generated (`runtime.harmony_stream`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from jinja2 import TemplateError
from transformers import PreTrainedTokenizerBase

from rewrite.errors import GenerationError
from rewrite.model import RewrittenGptOss
from runtime.generate import generate
from runtime.harmony import harmony_token_ids
from runtime.harmony_stream import HarmonyStream

REASONING_EFFORTS = ("low", "medium", "high")
HARMONY_STOP_TOKENS = ("<|return|>", "<|call|>")  # an assistant turn ends with its answer or a tool call


@dataclass
class ChatResult:
    """The reply: TRL's message fields, the completion's token ids (through the stop token) and why it ended:
    "stop" (a stop token), "tool_calls" (a stop token after a tool call) or "length" (`max_new_tokens`)."""

    thinking: str
    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    completion_ids: list[int] = field(default_factory=list)
    finish_reason: str = "stop"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def chat(
    model: RewrittenGptOss,
    tokenizer: PreTrainedTokenizerBase,
    messages: list[dict[str, Any]],
    *,
    reasoning_effort: str | None = None,
    max_new_tokens: int = 512,
    temperature: float = 1.0,
    seed: int | None = None,
    eos_token_id: int | list[int] | None = None,
    on_text: Callable[[str, str], None] | None = None,
    **chat_template_kwargs: Any,
) -> ChatResult:
    """Generate the assistant's reply to `messages` (one conversation).

    `reasoning_effort`: low, medium or high, passed to the chat template (None: the template's default).
    `temperature` 0 decodes greedily; `seed` makes sampling repeatable. `eos_token_id`: the stop tokens (a build's
    generation_config.json names them); None stops at the tokenizer's eos and harmony's `<|return|>` and `<|call|>`.
    Raises `GenerationError` for a bad effort or temperature, messages the template cannot render, or a request
    the engine refuses (too long, `max_new_tokens` < 1).
    """
    if temperature < 0:
        raise GenerationError(f"temperature must be >= 0 (0 decodes greedily), got {temperature}")
    prompt_ids = _render(tokenizer, messages, reasoning_effort, chat_template_kwargs)
    stop_ids = _stop_ids(tokenizer, eos_token_id)
    stream = HarmonyStream(tokenizer, prompt_ids, on_text or (lambda field, text: None))
    stopped = False

    def take(token: torch.Tensor) -> None:  # the engine's tokens run on past the stop token as padding
        nonlocal stopped
        if not stopped:
            stream.push(int(token[0]))
            stopped = stream.completion_ids[-1] in stop_ids

    sampling = {"do_sample": False} if temperature == 0 else {"do_sample": True, "temperature": temperature}
    generator = torch.Generator(model.device).manual_seed(seed) if seed is not None else None
    generate(model, torch.tensor([prompt_ids], device=model.device), max_new_tokens=max_new_tokens,
             eos_token_id=stop_ids, generator=generator, on_token=take, **sampling)
    message = stream.close().message
    tool_calls = message.get("tool_calls", [])
    finish_reason = "length" if not stopped else "tool_calls" if tool_calls else "stop"
    return ChatResult(message.get("thinking", ""), message["content"], tool_calls, stream.completion_ids,
                      finish_reason)


def check_reasoning_effort(reasoning_effort: str | None) -> None:
    """Refuse (`GenerationError`) an effort other than low, medium, high or None (the template's default)."""
    if reasoning_effort is not None and reasoning_effort not in REASONING_EFFORTS:
        raise GenerationError(
            f"reasoning effort {reasoning_effort!r} is not one of {', '.join(REASONING_EFFORTS)}: pass one of them"
        )


def _render(tokenizer, messages: list[dict[str, Any]], reasoning_effort: str | None,
            template_kwargs: dict) -> list[int]:
    check_reasoning_effort(reasoning_effort)
    if reasoning_effort is not None:
        template_kwargs = {**template_kwargs, "reasoning_effort": reasoning_effort}
    try:
        rendered = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                 return_dict=True, **template_kwargs)
    except (TemplateError, ValueError, TypeError, KeyError) as error:
        raise GenerationError(f"the chat template cannot render these messages ({error}): pass a list of "
                              '{"role": ..., "content": ...} messages') from error
    return list(rendered["input_ids"])


def _stop_ids(tokenizer, eos_token_id: int | list[int] | None) -> list[int]:
    if eos_token_id is not None:
        return [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
    harmony = harmony_token_ids(tokenizer)
    found = [harmony[text] for text in HARMONY_STOP_TOKENS if text in harmony]
    return sorted({*found, *([tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else [])})
