"""sink_attention on CPU (the chunked math backend) equals transformers' eager gpt-oss attention.

Forward and the gradients of query, key, value and sinks agree with HF eager autograd within 1e-5
in float32, for every mask shape the engine and trainer produce.
"""

import pytest
import torch

from runtime.ops import SinkAttentionInputError, sink_attention

TOLERANCE = dict(atol=1e-5, rtol=1e-5)


def assert_matches_hf_eager(case, hf_eager, gradients, chunk_rows: int = 128) -> None:
    out = sink_attention(*case.args(), chunk_rows=chunk_rows)
    reference = hf_eager(case)
    torch.testing.assert_close(out, reference, **TOLERANCE)
    for ours, theirs in zip(gradients(out, case), gradients(reference, case), strict=True):
        torch.testing.assert_close(ours, theirs, **TOLERANCE)


@pytest.mark.parametrize("kv_heads", [2, 4], ids=["gqa_4_on_2", "one_kv_head_per_query_head"])
def test_left_padded_prefill_longer_than_the_sliding_window_matches_hf(make_case, hf_eager, gradients, kv_heads):
    case = make_case(kv_heads=kv_heads, q_len=20, kv_len=20, padding=[0, 6], window=8)
    assert_matches_hf_eager(case, hf_eager, gradients, chunk_rows=7)


def test_full_attention_layer_matches_hf(make_case, hf_eager, gradients):
    case = make_case(q_len=16, kv_len=16, padding=[3, 0], window=None)
    assert_matches_hf_eager(case, hf_eager, gradients, chunk_rows=5)


@pytest.mark.parametrize("window", [None, 8])
def test_decode_of_one_row_at_per_row_offsets_with_padding_matches_hf(make_case, hf_eager, gradients, window):
    case = make_case(q_len=1, kv_len=24, query_offset=[17, 9], padding=[0, 5], window=window)
    assert_matches_hf_eager(case, hf_eager, gradients)


@pytest.mark.parametrize("window", [None, 4])
def test_appended_chunk_of_five_rows_at_a_shared_offset_matches_hf(make_case, hf_eager, gradients, window):
    case = make_case(q_len=5, kv_len=24, query_offset=11, padding=[2, 0], window=window)
    assert_matches_hf_eager(case, hf_eager, gradients, chunk_rows=2)


def test_prefill_spanning_several_default_chunks_matches_hf(make_case, hf_eager, gradients):
    case = make_case(q_len=300, kv_len=300, padding=[0, 130], window=128)
    assert_matches_hf_eager(case, hf_eager, gradients)


def test_rows_seeing_no_key_output_exact_zeros_and_finite_gradients(make_case, gradients):
    case = make_case(q_len=10, kv_len=10, padding=[0, 6], window=4)
    out = sink_attention(*case.args(), chunk_rows=3)
    assert torch.equal(out[1, :6], torch.zeros_like(out[1, :6]))
    assert all(torch.isfinite(grad).all() for grad in gradients(out, case))


def test_scalar_offset_equals_the_same_offset_per_row(make_case):
    shared = make_case(q_len=3, kv_len=12, query_offset=6, padding=[1, 4])
    per_row = make_case(q_len=3, kv_len=12, query_offset=[6, 6], padding=[1, 4])
    torch.testing.assert_close(sink_attention(*shared.args()), sink_attention(*per_row.args()))


def test_output_has_query_dtype_and_bf16_stays_close_to_float32(make_case):
    case = make_case(q_len=12, kv_len=12, padding=[0, 3], window=8)
    low = make_case(q_len=12, kv_len=12, padding=[0, 3], window=8, dtype=torch.bfloat16)
    out_low = sink_attention(*low.args())
    assert out_low.dtype == torch.bfloat16
    torch.testing.assert_close(out_low.float(), sink_attention(*case.args()), atol=2e-2, rtol=2e-2)


def test_gradients_pass_float64_gradcheck(make_case):
    case = make_case(batch=2, q_heads=4, kv_heads=2, q_len=5, kv_len=7, head_dim=3,
                     query_offset=[2, 2], padding=[0, 3], window=3, dtype=torch.float64)

    def attention(query, key, value, sinks):
        return sink_attention(query, key, value, sinks, case.mask(), case.scale, chunk_rows=2)

    assert torch.autograd.gradcheck(attention, case.leaves())


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(kv_heads=3), "multiple of kv heads"),
        (dict(sinks_len=3), "sinks must have shape"),
        (dict(window=0), "window must be None"),
        (dict(query_offset=[1, 2, 3]), "query_offset must have shape"),
        (dict(padding_dtype=torch.float32), "padding must be an integer tensor"),
    ],
)
def test_inputs_that_do_not_fit_raise_our_error(make_case, change, message):
    case = make_case(kv_heads=change.get("kv_heads", 2), query_offset=change.get("query_offset", 0),
                     window=change.get("window"))
    if "sinks_len" in change:
        case.sinks = torch.zeros(change["sinks_len"])
    if "padding_dtype" in change:
        case.padding = case.padding.to(change["padding_dtype"])
    with pytest.raises(SinkAttentionInputError, match=message):
        sink_attention(*case.args())


@pytest.mark.parametrize("window", [None, 8])
def test_single_row_decode_backend_matches_hf(make_case, hf_eager, gradients, window):
    """The plain-ops backend CUDA takes for Q = 1 (forced here on CPU), forward and gradients."""
    case = make_case(q_len=1, kv_len=24, query_offset=[17, 9], padding=[0, 5], window=window)
    out = sink_attention(*case.args(), implementation="decode")
    reference = hf_eager(case)
    torch.testing.assert_close(out, reference, **TOLERANCE)
    for ours, theirs in zip(gradients(out, case), gradients(reference, case), strict=True):
        torch.testing.assert_close(ours, theirs, **TOLERANCE)


def test_single_row_decode_backend_gives_zeros_for_a_row_that_sees_nothing(make_case):
    case = make_case(q_len=1, kv_len=8, query_offset=[3, 3], padding=[0, 6])
    out = sink_attention(*case.args(), implementation="decode")
    assert torch.equal(out[1], torch.zeros_like(out[1])) and torch.isfinite(out).all()


def dense_mask(case) -> torch.Tensor:
    """transformers' additive mask [B, 1, Q, K] of the case: 0 where visible, finfo.min elsewhere."""
    hidden = ~case.visible()[:, None]
    return torch.zeros(hidden.shape).masked_fill(hidden, torch.finfo(torch.float32).min)


@pytest.mark.parametrize(
    "shape, implementation",
    [(dict(q_len=20, kv_len=20, padding=[0, 6]), "math"),
     (dict(q_len=1, kv_len=24, query_offset=[17, 9], padding=[0, 5]), "decode")],
    ids=["prefill_math", "single_row_decode"],
)
@pytest.mark.parametrize("window", [None, 8])
def test_a_dense_mask_as_capture_builds_it_matches_hf(make_case, hf_eager, gradients, shape, implementation, window):
    """The mask the stage between the flex_sink and kv_offset passes hands over, in place of a SinkMask."""
    case = make_case(**shape, window=window)
    out = sink_attention(*case.leaves(), dense_mask(case), case.scale, implementation=implementation, chunk_rows=7)
    reference = hf_eager(case)
    torch.testing.assert_close(out, reference, **TOLERANCE)
    for ours, theirs in zip(gradients(out, case), gradients(reference, case), strict=True):
        torch.testing.assert_close(ours, theirs, **TOLERANCE)


def test_a_dense_mask_of_the_wrong_shape_or_a_mask_of_another_type_raises_our_error(make_case):
    case = make_case(q_len=4, kv_len=6)
    with pytest.raises(SinkAttentionInputError, match=r"dense mask must have shape \[2, 1, 4, 6\]"):
        sink_attention(*case.leaves(), torch.zeros(2, 1, 6, 6), case.scale)
    with pytest.raises(SinkAttentionInputError, match="mask must be a SinkMask"):
        sink_attention(*case.leaves(), (case.query_offset, case.padding, None), case.scale)


def test_a_sink_mask_equals_the_dense_mask_it_describes(make_case):
    case = make_case(q_len=5, kv_len=24, query_offset=11, padding=[2, 0], window=4)
    torch.testing.assert_close(
        sink_attention(*case.args()), sink_attention(*case.leaves(), dense_mask(case), case.scale)
    )
