"""`optim` builds transformers' optimizer of that name; the schedule warms up and decays as transformers' does."""

import contextlib
import sys

import pytest
import torch

from runtime.grpo import GRPOConfig, GRPOConfigError
from runtime.grpo.optimizers import build_optimizer, build_scheduler, warmup_steps

SETTINGS = {"learning_rate": 1e-3, "adam_beta1": 0.8, "adam_beta2": 0.95, "adam_epsilon": 1e-6, "weight_decay": 0.1}


def adapter_parameters() -> list[torch.nn.Parameter]:
    """A LoRA-sized pair: one tensor large enough for bitsandbytes' 8-bit states (>= 4096 values), one not."""
    generator = torch.Generator().manual_seed(0)
    return [torch.nn.Parameter(torch.randn(64, 128, generator=generator)),
            torch.nn.Parameter(torch.randn(16, generator=generator))]


def take_step(optimizer: torch.optim.Optimizer, parameters: list[torch.nn.Parameter]) -> None:
    for parameter in parameters:
        parameter.grad = torch.ones_like(parameter)
    optimizer.step()


@pytest.mark.parametrize("optim", ["adamw_torch", "adamw_torch_fused", "adamw_8bit", "paged_adamw_8bit"])
def test_every_optimizer_takes_the_configs_adam_settings(optim):
    parameters = adapter_parameters()
    optimizer = build_optimizer(GRPOConfig(optim=optim, **SETTINGS), parameters)
    (group,) = optimizer.param_groups
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (1e-3, (0.8, 0.95), 1e-6, 0.1)
    before = [parameter.detach().clone() for parameter in parameters]
    with pytest.warns(UserWarning, match="Paged optimizers are not supported on CPU") if optim.startswith("paged") \
            else contextlib.nullcontext():
        take_step(optimizer, parameters)
    assert all(not torch.equal(old, new) for old, new in zip(before, parameters, strict=True))


@pytest.mark.parametrize(("optim", "fused"), [("adamw_torch", False), ("adamw_torch_fused", True)])
def test_torch_optimizers_are_adamw_with_or_without_the_fused_kernel(optim, fused):
    optimizer = build_optimizer(GRPOConfig(optim=optim), adapter_parameters())
    assert type(optimizer) is torch.optim.AdamW
    assert optimizer.defaults["fused"] is fused


def test_fused_and_unfused_adamw_take_the_same_step():
    results = []
    for optim in ("adamw_torch", "adamw_torch_fused"):
        parameters = adapter_parameters()
        take_step(build_optimizer(GRPOConfig(optim=optim, **SETTINGS), parameters), parameters)
        results.append(parameters)
    for unfused, fused in zip(*results, strict=True):
        torch.testing.assert_close(unfused, fused)


@pytest.mark.parametrize(("optim", "paged"), [("adamw_8bit", False), ("adamw_bnb_8bit", False),
                                              ("paged_adamw_8bit", True)])
def test_8bit_optimizers_are_bitsandbytes_adamw_with_8bit_states(optim, paged):
    bitsandbytes = pytest.importorskip("bitsandbytes")
    parameters = adapter_parameters()
    optimizer = build_optimizer(GRPOConfig(optim=optim), parameters)
    assert type(optimizer) is bitsandbytes.optim.AdamW
    assert (optimizer.args.optim_bits, optimizer.is_paged) == (8, paged)
    with pytest.warns(UserWarning) if paged else contextlib.nullcontext():
        take_step(optimizer, parameters)
    assert optimizer.state[parameters[0]]["state1"].dtype == torch.uint8


def test_8bit_optimizers_without_bitsandbytes_say_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)
    monkeypatch.setitem(sys.modules, "bitsandbytes.optim", None)
    with pytest.raises(GRPOConfigError) as refusal:
        build_optimizer(GRPOConfig(optim="adamw_8bit"), adapter_parameters())
    assert str(refusal.value) == (
        "optim='adamw_8bit' (--optim) needs bitsandbytes: pip install bitsandbytes (the [nf4] extra), or use "
        "adamw_torch_fused."
    )


def learning_rates(config: GRPOConfig, max_steps: int) -> list[float]:
    optimizer = build_optimizer(config, adapter_parameters())
    scheduler = build_scheduler(config, optimizer, max_steps)
    rates = []
    for _ in range(max_steps):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize(
    ("warmup", "steps"), [({"warmup_steps": 3}, 3), ({"warmup_steps": 0.25}, 2), ({"warmup_ratio": 0.3}, 3), ({}, 0)]
)
def test_warmup_is_a_step_count_or_a_fraction_of_the_run(warmup, steps):
    assert warmup_steps(GRPOConfig(**warmup), 8) == steps
    rates = learning_rates(GRPOConfig(learning_rate=1.0, lr_scheduler_type="constant_with_warmup", **warmup), 8)
    assert rates == pytest.approx([step / steps for step in range(steps)] + [1.0] * (8 - steps))


def test_linear_schedule_decays_to_zero_after_the_warmup():
    rates = learning_rates(GRPOConfig(learning_rate=1.0, warmup_steps=2), 6)
    assert rates == pytest.approx([0.0, 0.5, 1.0, 0.75, 0.5, 0.25])


def test_lr_scheduler_kwargs_reach_the_schedule():
    config = GRPOConfig(learning_rate=1.0, lr_scheduler_type="cosine_with_min_lr",
                        lr_scheduler_kwargs={"min_lr_rate": 0.1})
    plain = GRPOConfig(learning_rate=1.0, lr_scheduler_type="cosine")
    assert min(learning_rates(config, 10)) >= 0.1 > min(learning_rates(plain, 10))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"lr_scheduler_type": "nope"},
            "lr_scheduler_type='nope' (--lr-scheduler-type): nope is not a valid SchedulerType, please select one of",
        ),
        (
            {"lr_scheduler_type": "cosine_with_min_lr"},
            "lr_scheduler_type='cosine_with_min_lr' (--lr-scheduler-type): One of min_lr or min_lr_rate should be set",
        ),
        (
            {"lr_scheduler_type": "cosine", "lr_scheduler_kwargs": {"bogus": 1}},
            "lr_scheduler_type='cosine' (--lr-scheduler-type) with lr_scheduler_kwargs={'bogus': 1} "
            "(--lr-scheduler-kwargs): get_cosine_schedule_with_warmup() got an unexpected keyword argument 'bogus'",
        ),
    ],
)
def test_schedules_transformers_refuses_are_config_errors(overrides, message):
    config = GRPOConfig(**overrides)
    with pytest.raises(GRPOConfigError) as refusal:
        build_scheduler(config, build_optimizer(config, adapter_parameters()), 10)
    assert message in str(refusal.value)
