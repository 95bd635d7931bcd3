"""Harmony completions -> the assistant message that TRL 1.16 gives reward functions for gpt-oss.

TRL 1.16 decodes a conversational completion and parses the text with transformers' `parse_response` and its
gpt-oss response template (`trl.chat_template_utils.gptoss_template`), then `trl.chat_template_utils.parse_response`
tidies the result. `parse_harmony` gives the same message, read from the token ids:

- the last analysis message (`<|channel|>analysis<|message|>...<|end|>`) is `thinking`, the last final message
  (`<|channel|>final<|message|>...<|return|>`) is `content`, each stripped of surrounding whitespace; a message
  cut off before its closing token runs to the end of the completion, and `content` is "" when there is none
  (a completion cut off before its final channel);
- each `to=functions.NAME<|channel|>commentary json<|message|>ARGUMENTS<|call|>` (the form the chat template
  writes) is a tool call `{"type": "function", "function": {"name": NAME, "arguments": <ARGUMENTS as JSON>}}`;
  calls written in another form, such as `<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>`,
  are dropped, as TRL drops them;
- everything else (`<|start|>assistant` headers, commentary without a recipient) is left out; when a tool call's
  arguments are not JSON (a call cut off, say), the whole message is the completion decoded without its special
  tokens, as TRL falls back to.

Harmony's special tokens are found by their text in the tokenizer, so any harmony tokenizer works: the presets'
and gpt-oss's own. Unlike TRL's text parsing, ordinary tokens that happen to spell `<|end|>` are text, not a
delimiter. A completion without any harmony special token (a base model's) is not harmony: its message is the
completion decoded without special tokens, what TRL gives for a tokenizer without a response template, and
`HarmonyParse.is_harmony` says so, for callers that warn about it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import regex

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

HARMONY_SPECIAL_TOKENS = ("<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>",
                          "<|call|>")
ASSISTANT_HEADER = "<|start|>assistant"  # TRL parses a completion from the prompt's last assistant header on
_MARKER_CANDIDATES = range(0xE000, 0xF900)  # Unicode's private use area


@dataclass(frozen=True)
class HarmonyParse:
    """A completion read as harmony.

    `message`: `{"role": "assistant", "content": str}`, with `"thinking": str` and `"tool_calls": list` when present
    (TRL 1.16's form; see the module docstring). `is_harmony`: the completion holds a harmony special token.
    `reached_final`: a final-channel message began (its text may still be cut off); false for a completion cut off
    in its analysis.
    """

    message: dict[str, Any]
    is_harmony: bool
    reached_final: bool


def harmony_token_ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    """The id of each harmony special token the tokenizer has, by its text (empty for a tokenizer without any)."""
    found = {}
    for text in HARMONY_SPECIAL_TOKENS:
        token_id = tokenizer.convert_tokens_to_ids(text)
        known = token_id is not None and token_id != tokenizer.unk_token_id
        if known and tokenizer.convert_ids_to_tokens(token_id) == text:
            found[text] = token_id
    return found


def parse_harmony(completion_ids: Sequence[int], tokenizer: PreTrainedTokenizerBase,
                  prompt_ids: Sequence[int] | None = None) -> HarmonyParse:
    """Read a completion's token ids (without padding) as harmony; see the module docstring.

    `prompt_ids`: the prompt the completion continues, as TRL passes it (`parse_response(..., prefix=prompt_ids)`):
    what follows its last `<|start|>assistant` is read as the start of the completion (a prompt that prefills
    `<|channel|>final<|message|>`, say). Left out, the completion is read on its own.
    """
    completion_ids = [int(token) for token in completion_ids]
    special_ids = harmony_token_ids(tokenizer)
    if not set(completion_ids) & set(special_ids.values()):
        return HarmonyParse(_plain_message(completion_ids, tokenizer), is_harmony=False, reached_final=False)
    texts = {token_id: text for text, token_id in special_ids.items()}
    completion = _pieces(completion_ids, texts, tokenizer)
    prompt = _pieces([] if prompt_ids is None else [int(token) for token in prompt_ids], texts, tokenizer)
    markers = _markers([piece for piece in (*prompt, *completion) if not isinstance(piece, _Special)])
    text = _assistant_part(_marked(prompt, markers), markers) + _marked(completion, markers)
    fields, reached_final = _scan(text, _Grammar(markers))
    try:
        message = _message(fields, {marker: special for special, marker in markers.items()}, tokenizer.eos_token)
    except (ValueError, RecursionError):  # arguments that are not JSON: TRL's plain-text fallback
        message = _plain_message(completion_ids, tokenizer)
    return HarmonyParse(message, is_harmony=True, reached_final=reached_final)


@dataclass(frozen=True)
class _Special:
    text: str


def _pieces(token_ids: list[int], special_texts: dict[int, str], tokenizer) -> list[str | _Special]:
    """The harmony special tokens, and the decoded text of each run of other tokens between them."""
    pieces: list[str | _Special] = []
    run: list[int] = []
    for token_id in [*token_ids, None]:
        if token_id is not None and token_id not in special_texts:
            run.append(token_id)
            continue
        if run:
            pieces.append(tokenizer.decode(run, skip_special_tokens=False))
            run = []
        if token_id is not None:
            pieces.append(_Special(special_texts[token_id]))
    return pieces


def _markers(texts: list[str]) -> dict[str, str]:
    """One private-use character per harmony special token, none of them in `texts`: the grammar below matches
    special tokens as these characters, so decoded text can never pass for one."""
    used = set("".join(texts))
    free = (chr(code) for code in _MARKER_CANDIDATES if chr(code) not in used)
    return {special: next(free) for special in HARMONY_SPECIAL_TOKENS}


def _marked(pieces: list[str | _Special], markers: dict[str, str]) -> str:
    return "".join(markers[piece.text] if isinstance(piece, _Special) else piece for piece in pieces)


def _assistant_part(prompt: str, markers: dict[str, str]) -> str:
    header = markers["<|start|>"] + ASSISTANT_HEADER.removeprefix("<|start|>")
    start = prompt.rfind(header)
    return prompt if start < 0 else prompt[start + len(header):]


class _Grammar:
    """TRL's gpt-oss response template, with harmony special tokens written as their markers."""

    def __init__(self, markers: dict[str, str]):
        channel, message = regex.escape(markers["<|channel|>"]), regex.escape(markers["<|message|>"])
        self.opens = {
            "thinking": regex.compile(channel + "analysis" + message),
            "content": regex.compile(channel + "final" + message),
            "tool_calls": regex.compile(r"to=functions\.(?P<name>\S+?)" + channel + r"commentary\s+json" + message),
        }
        self.closes = {"thinking": markers["<|end|>"], "content": markers["<|return|>"],
                       "tool_calls": markers["<|call|>"]}


def _scan(text: str, grammar: _Grammar) -> tuple[list[tuple[str, str, str]], bool]:
    """The (field, tool name, body) of each message the grammar opens, in order, and whether a final one began.
    Outside a message, the earliest opening wins and the text before it is dropped; a message runs to its closing
    token or to the end of the text."""
    fields, reached_final, position = [], False, 0
    while True:
        found = [(match.start(), field, match) for field, pattern in grammar.opens.items()
                 if (match := pattern.search(text, position)) is not None]
        if not found:
            return fields, reached_final
        _, field, opening = min(found, key=lambda candidate: candidate[0])
        end = text.find(grammar.closes[field], opening.end())
        body_end = len(text) if end < 0 else end
        fields.append((field, opening.groupdict().get("name") or "", text[opening.end():body_end]))
        reached_final = reached_final or field == "content"
        if end < 0:
            return fields, reached_final
        position = end + 1


def _message(fields: list[tuple[str, str, str]], special_texts: dict[str, str], eos_token: str | None) -> dict:
    """The message of the scanned fields, tidied as TRL 1.16's parse_response tidies it."""
    unmarked = str.maketrans(special_texts)
    values: dict[str, Any] = {}
    for field, name, body in fields:
        body = body.translate(unmarked)
        if field == "tool_calls":
            arguments = json.loads(body)
            call = {"name": name.translate(unmarked), "arguments": {} if arguments is None else arguments}
            values.setdefault(field, []).append({"type": "function", "function": call})
        else:
            values[field] = body.strip()
    message = {"role": "assistant", **{field: value for field, value in values.items() if value}}
    content = message.get("content", "")
    message["content"] = content.removesuffix(eos_token) if eos_token else content
    return message


def _plain_message(completion_ids: list[int], tokenizer) -> dict[str, Any]:
    return {"role": "assistant", "content": tokenizer.decode(completion_ids, skip_special_tokens=True)}
