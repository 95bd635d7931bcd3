"""`generate(model, ...)` keeps one engine per model, for as long as the model lives and no longer."""

from __future__ import annotations

import gc
import weakref

import torch

import runtime.generate as generate_module
from rewrite import load
from runtime.generate import generate

PROMPTS = torch.tensor([[5, 9, 11], [4, 8, 15]])


def test_the_engine_is_made_once_per_model_and_reused(full_checkpoint):
    model = load(full_checkpoint)
    first = generate(model, PROMPTS, max_new_tokens=3)
    engine = generate_module._engine_of(model)
    assert torch.equal(generate(model, PROMPTS, max_new_tokens=3), first)
    assert generate_module._engine_of(model) is engine
    assert generate_module._engine_of(load(full_checkpoint)) is not engine
    assert "_generation_engine" not in vars(model), "nothing is set on the model"


def test_a_model_that_generated_is_freed_with_its_engine_when_the_caller_drops_it(full_checkpoint):
    model = load(full_checkpoint)
    generate(model, PROMPTS, max_new_tokens=3)
    model_alive, engine_alive = weakref.ref(model), weakref.ref(generate_module._engine_of(model))
    del model
    gc.collect()
    assert model_alive() is None and engine_alive() is None
