"""A checkpoint in the released gpt-oss layout (MXFP4 experts) builds, equals transformers' own dequantization,
loads one tensor at a time, and a format we cannot read is refused with a message that says what to do."""

import json
import weakref

import pytest
import torch
from safetensors.torch import save_file
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from transformers import GptOssForCausalLM, Mxfp4Config
from transformers.integrations.mxfp4 import FP4_VALUES

from rewrite import CheckpointError, UnsupportedModelError, build
from rewrite.check import check_checkpoint
from rewrite.mxfp4 import load_mxfp4_checkpoint
from rewrite.presets import build_preset
from rewrite.source import load_source
from tests.scratch_copies import edit_json, scratch_copy

# As in the released gpt-oss config.json.
RELEASED_QUANTIZATION_CONFIG = {
    "quant_method": "mxfp4",
    "modules_to_not_convert": [
        "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"
    ],
}
EXPERT_MATRICES = ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")


def quantize_mxfp4(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """MXFP4 blocks and scales of `weight` [..., K] along K: the nearest FP4 code of each value, two codes a byte
    (low nibble first), and per block of 32 the power of two that brings the block's largest magnitude under 6."""
    *leading, width = weight.shape
    groups = weight.float().reshape(*leading, width // 32, 32)
    exponent = torch.ceil(torch.log2(groups.abs().amax(-1, keepdim=True).clamp_min(2.0**-126) / 6.0))
    codes = (groups / 2**exponent).unsqueeze(-1).sub(torch.tensor(FP4_VALUES)).abs().argmin(-1).to(torch.uint8)
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).contiguous(), (exponent.squeeze(-1) + 127).to(torch.uint8)


def _shard_of(name: str) -> str:
    later_layers = ".layers.2." in name or ".layers.3." in name
    return f"model-0000{int(later_layers)}-of-00001.safetensors"


@pytest.fixture(scope="module")
def mxfp4_checkpoint(tmp_path_factory):
    """The tiny preset written as gpt-oss is released: bf16 tensors, MXFP4 experts, two shards and an index."""
    directory = tmp_path_factory.mktemp("mxfp4") / "tiny-mxfp4"
    directory.mkdir()
    model = build_preset("tiny")
    tensors = {}
    for name, value in model.state_dict().items():
        if name.endswith(EXPERT_MATRICES):  # stored [experts, out, in], quantized along `in`
            tensors[f"{name}_blocks"], tensors[f"{name}_scales"] = quantize_mxfp4(value.transpose(1, 2))
        else:
            tensors[name] = value.to(torch.bfloat16).contiguous()
    weight_map = {name: _shard_of(name) for name in tensors}
    for file_name in set(weight_map.values()):
        shard = {name: tensor for name, tensor in tensors.items() if weight_map[name] == file_name}
        save_file(shard, directory / file_name, metadata={"format": "pt"})
    (directory / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    config = {**model.config.to_dict(), "dtype": "bfloat16", "quantization_config": RELEASED_QUANTIZATION_CONFIG}
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.fixture()
def checkpoint_copy(mxfp4_checkpoint, tmp_path):
    return scratch_copy(mxfp4_checkpoint, tmp_path)


def _edit_config(directory, edit):
    edit_json(directory / "config.json", edit)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_loaded_weights_equal_transformers_own_dequantization(mxfp4_checkpoint, dtype):
    ours, source = load_source(checkpoint=mxfp4_checkpoint, dtype=dtype)
    theirs = GptOssForCausalLM.from_pretrained(mxfp4_checkpoint, dtype=dtype, attn_implementation="eager",
                                               quantization_config=Mxfp4Config(dequantize=True))  # no Hub kernels
    assert not hasattr(theirs.config, "quantization_config"), "transformers did not dequantize on this machine"
    assert source["dequantized_from"] == "mxfp4" and not hasattr(ours.config, "quantization_config")
    for kind in ("named_parameters", "named_buffers"):
        ours_by_name, theirs_by_name = dict(getattr(ours, kind)()), dict(getattr(theirs, kind)())
        assert ours_by_name.keys() == theirs_by_name.keys()
        for name, value in theirs_by_name.items():
            assert ours_by_name[name].dtype == value.dtype and torch.equal(ours_by_name[name], value), name


def test_the_written_checkpoint_is_the_preset_within_mxfp4_rounding(mxfp4_checkpoint):
    loaded, _ = load_source(checkpoint=mxfp4_checkpoint)
    preset = dict(build_preset("tiny").named_parameters())
    for name, value in loaded.named_parameters():
        if name.endswith(EXPERT_MATRICES):  # rounding to FP4 moves a value by at most its block's scale
            assert (value - preset[name]).abs().max() <= preset[name].abs().max() / 3, name


def test_build_from_mxfp4_emits_the_dequantized_model_and_it_checks(mxfp4_checkpoint, tmp_path):
    out = build(tmp_path / "out", checkpoint=mxfp4_checkpoint, passes="none")
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    assert json.loads((out / "manifest.json").read_text())["source"]["dequantized_from"] == "mxfp4"
    assert check_checkpoint(out).passed


class FloatStorageLedger(TorchDispatchMode):
    """Every floating-point storage that an op creates under the mode, in order, and when it is freed."""

    def __init__(self):
        super().__init__()
        self.events: list[tuple[str, int, int]] = []  # ("alloc" | "free", allocation number, bytes)
        self._live: dict[int, int] = {}  # data pointer -> allocation number

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        for tensor in tree_leaves(result):
            if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and tensor.device.type != "meta":
                self._record(tensor.untyped_storage())
        return result

    def _record(self, storage: torch.UntypedStorage) -> None:
        pointer, size = storage.data_ptr(), storage.nbytes()
        if size == 0 or pointer in self._live:
            return
        number = len(self.events)
        self._live[pointer] = number
        self.events.append(("alloc", number, size))
        weakref.finalize(storage, self._free, pointer, number, size)

    def _free(self, pointer: int, number: int, size: int) -> None:
        del self._live[pointer]
        self.events.append(("free", number, size))

    def peak_bytes(self, excluding: set[int]) -> int:
        """The most bytes live at once among storages whose data pointer is not in `excluding`."""
        kept = {self._live[pointer] for pointer in excluding if pointer in self._live}
        live = peak = 0
        for kind, number, size in self.events:
            if number not in kept:
                live += size if kind == "alloc" else -size
                peak = max(peak, live)
        return peak

    def live_bytes(self, pointers: set[int]) -> int:
        numbers = {self._live[pointer] for pointer in pointers if pointer in self._live}
        return sum(size for kind, number, size in self.events if kind == "alloc" and number in numbers)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_loading_holds_less_than_one_layer_of_experts_in_full_precision_besides_the_model(mxfp4_checkpoint, dtype):
    with FloatStorageLedger() as ledger:
        model = load_mxfp4_checkpoint(mxfp4_checkpoint, dtype=dtype)
    tensors = [*model.parameters(), *model.buffers()]
    model_pointers = {tensor.untyped_storage().data_ptr() for tensor in tensors}
    model_bytes = sum(tensor.untyped_storage().nbytes() for tensor in tensors)
    assert ledger.live_bytes(model_pointers) == model_bytes, "the ledger did not see the model's weights created"
    experts = model.model.layers[0].mlp.experts
    transient_peak = ledger.peak_bytes(excluding=model_pointers)
    print(f"{dtype}: transient peak {transient_peak} B; one layer's gate_up_proj {experts.gate_up_proj.nbytes} B, "
          f"its experts {experts.gate_up_proj.nbytes + experts.down_proj.nbytes} B; model {model_bytes} B")
    # Not even one layer's larger expert tensor: a dequantization of a whole layer's tensor at once fails this.
    assert transient_peak < experts.gate_up_proj.nbytes


@pytest.mark.parametrize("method", ["gptq", "awq", "bitsandbytes", "fp8"])
def test_a_quantization_we_cannot_read_is_refused_by_name(checkpoint_copy, tmp_path, method):
    _edit_config(checkpoint_copy, lambda config: config.update(quantization_config={"quant_method": method}))
    with pytest.raises(UnsupportedModelError, match=f"quantized with '{method}', which gpt-oss-rewrite cannot read .*"
                       "use the released MXFP4 or a bfloat16 checkpoint"):
        build(tmp_path / "out", checkpoint=checkpoint_copy, passes="none")


def test_mxfp4_blocks_without_a_quantization_config_are_refused(checkpoint_copy, tmp_path):
    _edit_config(checkpoint_copy, lambda config: config.pop("quantization_config"))
    with pytest.raises(CheckpointError, match="MXFP4-packed tensors .*no quantization_config.*add"):
        build(tmp_path / "out", checkpoint=checkpoint_copy, passes="none")


def test_a_missing_shard_is_refused_before_loading(checkpoint_copy, tmp_path):
    (checkpoint_copy / "model-00001-of-00001.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model-00001-of-00001.safetensors is missing; copy or download"):
        build(tmp_path / "out", checkpoint=checkpoint_copy, passes="none")


def test_a_truncated_shard_is_refused_before_loading(checkpoint_copy, tmp_path):
    shard = checkpoint_copy / "model-00000-of-00001.safetensors"
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(CheckpointError,
                       match="model-00000-of-00001.safetensors is truncated .*download the checkpoint again"):
        build(tmp_path / "out", checkpoint=checkpoint_copy, passes="none")


def test_a_checkpoint_without_weights_is_refused(checkpoint_copy, tmp_path):
    for path in checkpoint_copy.glob("model*"):
        path.unlink()
    with pytest.raises(CheckpointError, match="has no safetensors weights .*model.safetensors"):
        build(tmp_path / "out", checkpoint=checkpoint_copy, passes="none")
