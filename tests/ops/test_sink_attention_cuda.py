"""sink_attention on CUDA (compiled flex attention, the decode backend) against transformers' eager attention.

Measured tolerances: float32 forward and gradients within 1e-5 of HF eager; bfloat16 forward within
2e-2 (bf16 rounding of q, k, v and of flex's output). New decode offsets and new batches' padding
must compile nothing new: the mask reads them from tensors.
"""

import pytest
import torch

from runtime.ops import SinkMask, sink_attention

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CUDA_CASES = {
    "sliding_prefill_ragged_length": dict(q_len=300, kv_len=300, padding=[0, 37], window=128),
    "full_prefill_ragged_length": dict(q_len=300, kv_len=300, padding=[0, 170], window=None),
    "decode_per_row_offsets": dict(q_len=1, kv_len=512, query_offset=[300, 511], padding=[0, 40], window=128),
    "chunk_appended": dict(q_len=5, kv_len=512, query_offset=200, padding=[3, 150], window=None),
}
SHAPE = dict(batch=2, q_heads=8, kv_heads=2, head_dim=64, device="cuda")


@pytest.mark.parametrize("name", CUDA_CASES)
def test_float32_forward_and_gradients_match_hf(make_case, hf_eager, gradients, name):
    case = make_case(**SHAPE, **CUDA_CASES[name])
    out = sink_attention(*case.args())
    reference = hf_eager(case)
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-5)
    for ours, theirs in zip(gradients(out, case), gradients(reference, case), strict=True):
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", CUDA_CASES)
def test_bfloat16_forward_stays_within_2e_2_of_float32_hf(make_case, hf_eager, name):
    low = make_case(**SHAPE, **CUDA_CASES[name], dtype=torch.bfloat16)
    exact = make_case(**SHAPE, **CUDA_CASES[name])
    out = sink_attention(*low.args())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), hf_eager(exact), atol=2e-2, rtol=2e-2)


def test_padded_query_rows_give_zeros_and_finite_gradients(make_case, gradients):
    case = make_case(**SHAPE, q_len=200, kv_len=200, padding=[0, 150], window=128)
    out = sink_attention(*case.args())
    assert torch.equal(out[1, :150], torch.zeros_like(out[1, :150]))
    assert all(torch.isfinite(grad).all() for grad in gradients(out, case))


def test_math_path_forced_on_cuda_matches_hf(make_case, hf_eager, gradients):
    case = make_case(**SHAPE, **CUDA_CASES["sliding_prefill_ragged_length"])
    out = sink_attention(*case.args(), implementation="math")
    torch.testing.assert_close(out, hf_eager(case), atol=1e-5, rtol=1e-5)


def test_new_decode_offsets_and_padding_compile_no_new_graph(make_case):
    counters = torch._dynamo.utils.counters
    case = make_case(batch=3, q_heads=8, kv_heads=2, head_dim=64, q_len=1, kv_len=512, device="cuda")
    inputs = [tensor.detach() for tensor in case.leaves()]

    def decode(position: int, padding: list[int], window: int | None) -> None:
        offset = torch.full((3,), position, dtype=torch.int64, device="cuda")
        mask = SinkMask(offset, torch.tensor(padding, device="cuda"), window)
        sink_attention(*inputs, mask, case.scale, implementation="flex")  # auto would take the plain-ops decode

    for window in (None, 128):  # warm-up: one graph per layer kind
        decode(100, [0, 0, 0], window)
    graphs_after_warm_up = counters["stats"]["unique_graphs"]
    for padding in ([0, 3, 50], [7, 0, 0], [90, 12, 1]):
        for step in range(16):
            for window in (None, 128):
                decode(101 + step * 20, padding, window)
    assert counters["stats"]["unique_graphs"] == graphs_after_warm_up


def test_op_traces_inside_a_compiled_decode_step(make_case, hf_eager):
    case = make_case(**SHAPE, q_len=1, kv_len=512, query_offset=[300, 511], padding=[0, 40], window=128)
    inputs = [tensor.detach() for tensor in case.leaves()]
    decode_step = torch.compile(
        lambda offset, padding: sink_attention(*inputs, SinkMask(offset, padding, 128), case.scale)
    )
    out = decode_step(case.query_offset, case.padding)
    torch.testing.assert_close(out, hf_eager(case).detach(), atol=1e-5, rtol=1e-5)
