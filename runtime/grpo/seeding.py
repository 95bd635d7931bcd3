"""Every random choice of a run as a pure function of the seed and where it is made.

Sampling is keyed per (seed, step, prompt index, generation) and the prompt order seeded per (seed, epoch), so a
run gives the same completions however many processes share the work and however its rows are batched, and a run
resumed from a checkpoint makes exactly the choices the uninterrupted run would have made.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from rewrite.seeds import derived_seed, seeded_generator


def sampling_row_key(seed: int, step: int, prompt_index: int, generation: int) -> int:
    """The key (`GenerationEngine.generate`'s `row_keys`) that samples completion `generation` of prompt
    `prompt_index` of optimizer step `step`."""
    return derived_seed(seed, "sampling", step, prompt_index, generation)


def epoch_order(seed: int, epoch: int, num_prompts: int) -> list[int]:
    """The order in which epoch `epoch` visits the dataset's `num_prompts` prompts."""
    return torch.randperm(num_prompts, generator=seeded_generator("cpu", seed, "epoch", epoch)).tolist()


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (as transformers' `set_seed`)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_states() -> dict:
    """The global generators' states, for a checkpoint."""
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict) -> None:
    """Put back states taken by `rng_states` (the CUDA ones only where CUDA is available)."""
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
