"""The built-in presets' harmony tokenizer: byte-level BPE learned from a built-in corpus, gpt-oss's special tokens.

`harmony_tokenizer(layout)` returns a transformers fast tokenizer with exactly `layout.vocab_size` ids:

- the harmony special tokens at the ids the layout gives (`<|start|>`, `<|channel|>`, ...), and, from
  `layout.reserved_from` on, every other id as a special token `<|reserved_ID|>` (gpt-oss's own layout);
- every remaining id is ordinary, in increasing order: first the 256 bytes (in byte order), then the merges that
  byte-level BPE learns from `tokenizer_corpus.CORPUS` (most frequent pair first), as many as there are ids left;
- ordinary ids the corpus has no merge for hold `<|unused_ID|>`: plain vocabulary entries that no merge produces,
  so encoding never yields them.

Nothing is downloaded and nothing is random: the same layout gives the same files every time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from .harmony_template import HARMONY_CHAT_TEMPLATE
from .tokenizer_corpus import CORPUS

# gpt-oss's roles for its special tokens (its tokenizer_config.json): eos is `<|return|>`, a harmony stop.
BOS_TOKEN = "<|startoftext|>"
EOS_TOKEN = "<|return|>"
PAD_TOKEN = "<|endoftext|>"


@dataclass(frozen=True)
class TokenizerLayout:
    """Which ids a preset's tokenizer gives its special tokens. `special_tokens`: id -> text (must include
    BOS_TOKEN, EOS_TOKEN and PAD_TOKEN); `reserved_from`: the first id of the reserved block, or None for none."""

    vocab_size: int
    special_tokens: dict[int, str]
    reserved_from: int | None = None
    model_max_length: int = 4096

    def special_ids(self) -> list[int]:
        reserved = range(self.reserved_from, self.vocab_size) if self.reserved_from is not None else range(0)
        return sorted(set(self.special_tokens) | set(reserved))

    def special_text(self, token_id: int) -> str:
        return self.special_tokens.get(token_id, f"<|reserved_{token_id}|>")

    def token_id(self, text: str) -> int:
        return next(token_id for token_id, special in self.special_tokens.items() if special == text)


def harmony_tokenizer(layout: TokenizerLayout) -> PreTrainedTokenizerFast:
    """The tokenizer of `layout`, with the harmony chat template (see the module docstring)."""
    special_ids = layout.special_ids()
    ordinary_ids = sorted(set(range(layout.vocab_size)) - set(special_ids))
    merges = learned_merges(len(ordinary_ids) - 256)
    pieces = [*byte_symbols(), *(left + right for left, right in merges)]
    vocab = dict(zip(pieces, ordinary_ids[:len(pieces)], strict=True))
    vocab.update({f"<|unused_{token_id}|>": token_id for token_id in ordinary_ids[len(pieces):]})
    vocab.update({layout.special_text(token_id): token_id for token_id in special_ids})
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([
        AddedToken(layout.special_text(token_id), special=True, normalized=False) for token_id in special_ids
    ])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        chat_template=HARMONY_CHAT_TEMPLATE,
        model_max_length=layout.model_max_length,
        clean_up_tokenization_spaces=False,
    )


def learned_merges(limit: int) -> list[tuple[str, str]]:
    """Up to `limit` byte-level BPE merges learned from CORPUS, most frequent pair first; pairs seen once are
    never merged, so a large `limit` gives every merge the corpus supports."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=256 + max(limit, 0), min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(CORPUS.splitlines(keepends=True), trainer)
    return [tuple(pair) for pair in json.loads(tokenizer.to_str())["model"]["merges"]][:max(limit, 0)]


def byte_symbols() -> list[str]:
    """The byte-level BPE symbol of each byte 0..255: printable Latin-1 bytes stand for themselves, the others for
    the characters from U+0100 on, in byte order (the mapping `pre_tokenizers.ByteLevel` uses)."""
    printable = {*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)}
    symbols, shifted = [], 0
    for byte in range(256):
        if byte in printable:
            symbols.append(chr(byte))
        else:
            symbols.append(chr(256 + shifted))
            shifted += 1
    return symbols
