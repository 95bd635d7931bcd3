"""TRL's `GRPOConfig` fields that are not ours: refused by name with what to do, ignored with a warning, or unknown."""

import dataclasses
import warnings

import pytest

from runtime.grpo import GRPOConfig
from runtime.grpo.trl_fields import IGNORED, REFUSED
from tests.grpo.config_refusal import config_refusal


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"use_vllm": True},
            "use_vllm=True is not supported: our generation engine replaces vLLM (static KV cache, compiled decode "
            "step with CUDA graphs); leave it out.",
        ),
        (
            {"deepspeed": "ds_zero3.json"},
            "deepspeed='ds_zero3.json' is not supported: under torchrun, fsdp=True (--fsdp) shards the frozen base "
            "model instead.",
        ),
        (
            {"use_liger_kernel": True},
            "use_liger_kernel=True is not supported: the rewritten module has its own kernels (grouped experts, "
            "chunked log-probs); leave it out.",
        ),
        ({"push_to_hub": True}, "push_to_hub=True is not supported: nothing is uploaded to the Hugging Face Hub"),
        (
            {"overwrite_output_dir": True},
            "overwrite_output_dir=True is not supported: pass trainer.train(overwrite_output_dir=True) (rewrite "
            "train --force).",
        ),
        ({"learnig_rate": 1e-5}, "unknown GRPOConfig field 'learnig_rate'; did you mean 'learning_rate'?"),
        ({"vllm_mod": "server"}, "unknown GRPOConfig field 'vllm_mod'; did you mean 'vllm_mode'?"),
        (
            {"zzz": 1},
            "unknown GRPOConfig field 'zzz'; the fields are listed by `rewrite train --help`.",
        ),
    ],
)
def test_fields_we_cannot_honour_are_refused_by_name(overrides, message):
    assert message in config_refusal(**overrides)


def test_every_refused_and_unknown_argument_is_reported_at_once():
    message = config_refusal(use_vllm=True, learnig_rate=1e-5, torch_compile=True)
    assert message.startswith("Invalid GRPOConfig:\n  - use_vllm=True")
    assert "'learnig_rate'" in message and "torch_compile=True" in message


def test_trls_defaults_of_refused_fields_are_accepted_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = GRPOConfig(use_vllm=False, deepspeed=None, push_to_hub=False, dataloader_num_workers=0,
                            remove_unused_columns=False)
    assert config == GRPOConfig()


def test_ignored_fields_with_a_value_of_their_own_are_named_in_one_warning():
    with pytest.warns(UserWarning) as warned:
        config = GRPOConfig(dataloader_num_workers=4, vllm_gpu_memory_utilization=0.5)
    assert len(warned) == 1
    assert str(warned[0].message) == (
        "GRPOConfig ignores dataloader_num_workers=4 (prompts are held in memory and drawn by seeded index; there is "
        "no data loader); vllm_gpu_memory_utilization=0.5 (it applies only with use_vllm, and our engine replaces "
        "vLLM)."
    )
    assert config == GRPOConfig()


def test_no_table_names_a_field_of_ours():
    names = {field.name for field in dataclasses.fields(GRPOConfig)}
    assert not names & set(REFUSED) and not names & set(IGNORED) and not set(REFUSED) & set(IGNORED)


def _defaults(config_class) -> dict:
    return {
        field.name: field.default if field.default_factory is dataclasses.MISSING else field.default_factory()
        for field in dataclasses.fields(config_class)
    }


def test_every_field_of_trls_grpo_config_is_ours_refused_or_ignored():
    trl = pytest.importorskip("trl")
    unhandled = [name for name in _defaults(trl.GRPOConfig)
                 if name not in _defaults(GRPOConfig) and name not in REFUSED and name not in IGNORED]
    assert unhandled == []


def test_the_tables_know_trls_defaults():
    trl = pytest.importorskip("trl")
    theirs = _defaults(trl.GRPOConfig)
    ours = {name: default for table in (REFUSED, IGNORED) for name, (default, _) in table.items() if name in theirs}
    assert {name: theirs[name] for name in ours if theirs[name] != ours[name]} == {}


def test_shared_fields_have_trls_field_defaults():
    trl = pytest.importorskip("trl")
    theirs, ours = _defaults(trl.GRPOConfig), _defaults(GRPOConfig)
    differing = {name: (theirs[name], ours[name]) for name in ours if name in theirs and theirs[name] != ours[name]}
    # TRL's None for both is resolved in __post_init__ to what our defaults say.
    assert differing == {"output_dir": (None, "trainer_output"), "fsdp": (None, False)}
