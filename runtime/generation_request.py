"""A generation request, checked once: every option a user can get wrong is refused here, before any model call.

`GenerationRequest.checked` turns `GenerationEngine.generate`'s arguments into the values the decode loop reads: the
attention mask filled in, the sampling options (`SamplingOptions` checks its own), the stop tokens and sequences as
tensors on the prompt's device, the pad token resolved, and the row keys moved to that device. A bad option raises
`GenerationError` with what to pass instead; a request that passes the checks cannot fail later for its options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch

from rewrite.errors import GenerationError, InputError
from rewrite.model import RewrittenGptOss

from .sampling import SamplingOptions, is_plain_int


@dataclass(frozen=True)
class GenerationRequest:
    """What one `generate` call asks for, in the form the decode loop reads.

    input_ids, attention_mask [B, P]: left-padded prompts (the mask all ones when the caller gave none);
    stop_token_ids [S]: int64 tokens that end a row (eos), possibly none;
    stop_sequences: int64 [L] tensors, each ending a row when its last L tokens equal it;
    pad_token_id: the token of finished rows and of extra left padding: `pad_token_id`, else the first stop token,
    else 0;
    row_keys [B] int64 >= 0 or None: per-row sampling keys (`runtime.keyed_noise`), exclusive with `generator`;
    on_token: called with each step's tokens [B] (`GenerationEngine.generate` says when).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    max_new_tokens: int
    sampling: SamplingOptions
    stop_token_ids: torch.Tensor
    stop_sequences: tuple[torch.Tensor, ...]
    pad_token_id: int
    generator: torch.Generator | None
    row_keys: torch.Tensor | None
    on_token: Callable[[torch.Tensor], None] | None

    @property
    def batch_size(self) -> int:
        return self.input_ids.shape[0]

    @property
    def keyed_sampling(self) -> bool:
        """Whether tokens are drawn with per-row keyed noise rather than from `generator`."""
        return self.row_keys is not None and self.sampling.do_sample

    @classmethod
    def checked(
        cls,
        model: RewrittenGptOss,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        *,
        max_new_tokens: int,
        sampling: SamplingOptions,
        eos_token_id: int | Sequence[int] | None = None,
        pad_token_id: int | None = None,
        stop_sequences: Sequence[Sequence[int]] | None = None,
        generator: torch.Generator | None = None,
        row_keys: torch.Tensor | None = None,
        on_token: Callable[[torch.Tensor], None] | None = None,
    ) -> GenerationRequest:
        """The request for `model`, or `GenerationError` naming the first bad argument and what to pass."""
        if not is_plain_int(max_new_tokens) or max_new_tokens <= 0:
            raise GenerationError(f"max_new_tokens must be a positive int, got {max_new_tokens!r}")
        try:
            attention_mask = model.check_inputs(input_ids, attention_mask)
        except InputError as error:
            raise GenerationError(str(error)) from error
        _check_context(model, input_ids.shape[1], max_new_tokens)
        stop_ids = _stop_token_ids(eos_token_id)
        pad = pad_token_id if pad_token_id is not None else (stop_ids or [0])[0]
        _check_pad_token(pad, pad_token_id is not None, model.spec.vocab_size)
        sequences = _stop_sequences(stop_sequences)
        _check_row_keys(row_keys, generator, input_ids.shape[0])
        device = input_ids.device
        return cls(
            input_ids=input_ids,
            attention_mask=attention_mask,
            max_new_tokens=max_new_tokens,
            sampling=sampling,
            stop_token_ids=torch.tensor(stop_ids, dtype=torch.long, device=device),
            stop_sequences=tuple(torch.tensor(sequence, dtype=torch.long, device=device)
                                 for sequence in sequences),
            pad_token_id=pad,
            generator=generator,
            row_keys=row_keys.to(device) if row_keys is not None else None,
            on_token=on_token,
        )


def _check_context(model: RewrittenGptOss, prompt_length: int, max_new_tokens: int) -> None:
    context = model.spec.max_position_embeddings
    if prompt_length + max_new_tokens > context:
        raise GenerationError(
            f"prompt of {prompt_length} tokens plus {max_new_tokens} new tokens exceeds the model's context of "
            f"{context}; shorten the prompt or max_new_tokens"
        )


def _is_list_like(value: object) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | torch.Tensor)


def _token_id_list(value: object) -> list[int] | None:
    """`value` as a list of token ids, or None when it is not a list (or tuple, ...) of ints."""
    ids = list(value) if _is_list_like(value) else None
    return ids if ids is not None and all(is_plain_int(token) for token in ids) else None


def _stop_token_ids(eos_token_id: object) -> list[int]:
    if eos_token_id is None:
        return []
    ids = [eos_token_id] if is_plain_int(eos_token_id) else _token_id_list(eos_token_id)
    if ids is None:
        raise GenerationError(f"eos_token_id must be a token id (int) or a list of them, got {eos_token_id!r}")
    return ids


def _stop_sequences(stop_sequences: object) -> list[list[int]]:
    if stop_sequences is None:
        return []
    sequences = [_token_id_list(sequence) for sequence in stop_sequences] if _is_list_like(stop_sequences) else [None]
    if not all(sequences):  # None (not a list of ints) or empty
        raise GenerationError(
            f"stop_sequences must be a list of non-empty lists of token ids, got {stop_sequences!r}; "
            "give single stop tokens as eos_token_id"
        )
    return sequences


def _check_pad_token(pad_token_id: object, given: bool, vocab_size: int) -> None:
    # finished rows are fed the pad token and extra left padding is made of it: it must be a token of the vocabulary
    if not is_plain_int(pad_token_id) or not 0 <= pad_token_id < vocab_size:
        source = "" if given else " (the first eos_token_id, as no pad_token_id was given)"
        raise GenerationError(f"pad_token_id must be a token id in [0, {vocab_size}), got {pad_token_id!r}{source}")


def _check_row_keys(row_keys: torch.Tensor | None, generator: torch.Generator | None, batch_size: int) -> None:
    if row_keys is None:
        return
    if generator is not None:
        raise GenerationError("pass either generator or row_keys, not both: each is a source of sampling randomness")
    if (not torch.is_tensor(row_keys) or row_keys.dtype != torch.int64 or row_keys.shape != (batch_size,)
            or bool((row_keys < 0).any())):
        got = f"{row_keys.dtype} of shape {list(row_keys.shape)}" if torch.is_tensor(row_keys) else repr(row_keys)
        raise GenerationError(f"row_keys must be one int64 key >= 0 per row, shape [{batch_size}]; got {got}")
