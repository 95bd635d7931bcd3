"""The trainer's memory options change no loss and no gradient: per-layer gradient checkpointing, activation
offload to CPU and embedding offload, alone and together (float32, CPU, tiny preset)."""

from __future__ import annotations

import pytest
import torch

from rewrite import load
from runtime.grpo.generation_batch import GenerationBatch
from runtime.grpo.memory import OffloadedEmbedding, decoder_layers, forward_for_backward
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset


def trainer_with(checkpoint, output_dir, **options) -> GRPOTrainer:
    return GRPOTrainer(
        str(checkpoint), even_token_reward, train_dataset=toy_dataset(), args=tiny_config(output_dir, **options)
    )


def loss_and_gradients(trainer: GRPOTrainer, batch: GenerationBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The loss of `batch` (one micro-batch) and the LoRA gradients of its backward pass."""
    trainer.model.train()
    loss, _ = trainer.compute_loss(batch)
    loss.backward()
    return loss.detach(), {name: parameter.grad for name, parameter in trainer.model.named_parameters()
                           if parameter.requires_grad}


@pytest.fixture(scope="module")
def first_batch(lora_checkpoint, tmp_path_factory) -> GenerationBatch:
    return trainer_with(lora_checkpoint, tmp_path_factory.mktemp("batch")).generate_and_score(1)


@pytest.fixture(scope="module")
def reference(lora_checkpoint, tmp_path_factory, first_batch):
    """No option on: every activation kept on the device."""
    trainer = trainer_with(lora_checkpoint, tmp_path_factory.mktemp("reference"), gradient_checkpointing=False)
    return loss_and_gradients(trainer, first_batch)


@pytest.mark.parametrize("options", [
    dict(gradient_checkpointing=True),
    dict(gradient_checkpointing=False, activation_offloading=True),
    dict(gradient_checkpointing=True, activation_offloading=True),
    dict(gradient_checkpointing=False, embedding_offload=True),
    dict(gradient_checkpointing=True, activation_offloading=True, embedding_offload=True),
], ids=lambda options: "+".join(name for name, on in options.items() if on) or "none")
def test_memory_options_give_the_same_loss_and_gradients(lora_checkpoint, tmp_path, first_batch, reference, options):
    expected_loss, expected_gradients = reference
    loss, gradients = loss_and_gradients(trainer_with(lora_checkpoint, tmp_path, **options), first_batch)
    torch.testing.assert_close(loss, expected_loss, atol=0, rtol=0)
    assert any(gradient.abs().max() > 0 for gradient in gradients.values())
    for name, gradient in expected_gradients.items():
        torch.testing.assert_close(gradients[name], gradient, atol=0, rtol=0, msg=name)


def test_layer_checkpointing_leaves_only_the_layers_inputs_to_offload(lora_checkpoint, tmp_path, first_batch):
    whole = trainer_with(lora_checkpoint, tmp_path / "kept", gradient_checkpointing=False, activation_offloading=True)
    layered = trainer_with(lora_checkpoint, tmp_path / "layers", gradient_checkpointing=True,
                           activation_offloading=True)
    for trainer in (whole, layered):
        loss_and_gradients(trainer, first_batch)
    assert len(decoder_layers(layered.rewritten)) == 4
    assert 0 < layered.activation_offload.tensors < whole.activation_offload.tensors / 4
    assert 0 < layered.activation_offload.bytes < whole.activation_offload.bytes / 4


def test_embedding_offload_keeps_the_table_outside_the_parameters_and_generates_the_same(
    lora_checkpoint, tmp_path, first_batch
):
    trainer = trainer_with(lora_checkpoint, tmp_path, embedding_offload=True)
    embedding = trainer.policy.get_base_model().get_submodule("model.embed_tokens")
    assert isinstance(embedding, OffloadedEmbedding) and embedding.table.device.type == "cpu"
    assert not any("embed_tokens" in name for name, _ in trainer.model.named_parameters())
    assert torch.equal(trainer.generate_and_score(1).input_ids, first_batch.input_ids)


def test_each_declared_layer_recomputes_its_forward_in_the_backward_pass(tiny_checkpoint, monkeypatch):
    model = load(tiny_checkpoint)  # structure passes only: the layers are declared all the same
    layers = decoder_layers(model)
    assert [type(layer).__name__ for layer in layers] == ["GptOssDecoderLayer"] * 4
    calls = []
    for layer_class in {type(layer) for layer in layers}:
        def counted(self, *args, original=layer_class.forward):
            calls.append(self)
            return original(self, *args)

        monkeypatch.setattr(layer_class, "forward", counted)
    ids = torch.randint(3, 512, (1, 8), generator=torch.Generator().manual_seed(0))
    forward_for_backward(model, model, ids, gradient_checkpointing=True).sum().backward()
    assert calls[:4] == layers, "the forward runs the layers in order"
    assert sorted(map(id, calls[4:])) == sorted(map(id, layers)), "the backward pass runs each layer once more"
