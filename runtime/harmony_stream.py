"""`HarmonyStream`: a harmony completion read as it is generated, its thinking and final text handed on in pieces.

Each time it reads, the stream parses the whole completion so far with `runtime.harmony.parse_harmony` (a message
cut off runs to the end of the text) and hands on what the thinking and the content gained since it last read. It
reads at most every `interval` seconds, so the parsing, which grows with the completion, costs a bounded share of a
long generation, and once more at the end. Text is handed on only as it is sure to stay: it must extend what was
handed on, and a trailing U+FFFD (a character whose bytes have not all arrived) waits. What is handed on is
therefore a prefix of the message `close` returns; all of it, whenever decoding the completion a piece at a time
gives the same text as decoding it whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from runtime.harmony import HarmonyParse, parse_harmony

STREAMED_FIELDS = ("thinking", "content")  # the message's fields handed on, TRL's names: analysis and final channel
STREAM_INTERVAL_SECONDS = 0.05
_INCOMPLETE_CHARACTER = "\ufffd"


class HarmonyStream:
    """Push a completion's token ids one at a time; `on_text(field, text)` receives the new text of `field`
    ("thinking" or "content")."""

    def __init__(self, tokenizer, prompt_ids: Sequence[int], on_text: Callable[[str, str], None],
                 interval: float = STREAM_INTERVAL_SECONDS) -> None:
        self.tokenizer, self.prompt_ids, self.on_text, self.interval = tokenizer, list(prompt_ids), on_text, interval
        self.completion_ids: list[int] = []
        self._handed_on = dict.fromkeys(STREAMED_FIELDS, "")
        self._last_read = time.monotonic()

    def push(self, token_id: int) -> None:
        self.completion_ids.append(token_id)
        if time.monotonic() - self._last_read >= self.interval:
            self._read()

    def close(self) -> HarmonyParse:
        """Hand on the rest; returns the parse of the whole completion."""
        return self._read()

    def _read(self) -> HarmonyParse:
        parse = parse_harmony(self.completion_ids, self.tokenizer, self.prompt_ids)
        for field in STREAMED_FIELDS:
            text = parse.message.get(field, "").removesuffix(_INCOMPLETE_CHARACTER)
            handed_on = self._handed_on[field]
            if len(text) > len(handed_on) and text.startswith(handed_on):
                self.on_text(field, text[len(handed_on):])
                self._handed_on[field] = text
        self._last_read = time.monotonic()
        return parse
