"""The 4-bit expert kernels compile for Hopper (sm_90) with the installed Triton, at gpt-oss's shapes and the launch
configs the launchers pick, and MXFP4's bf16 decode is the inline-PTX one: checked on any machine
(`tools/kernel_sass.py`), so a backend failure (a layout pass, ptxas) shows up without a GPU."""

import pytest

pytest.importorskip("triton.backends.nvidia", reason="Triton's NVIDIA backend compiles for sm_90")

from tools import kernel_sass  # noqa: E402


@pytest.mark.parametrize("name", sorted(kernel_sass.KERNELS))
def test_the_kernel_compiles_for_sm90_with_a_hot_loop(name):
    row = kernel_sass.measure(name, kernel_sass.HIDDEN, {})
    assert "error" not in row, row
    assert row["loop_instructions"] > 0, row
    if name.startswith("mxfp4"):
        assert row["top_ops"].get("HMUL2", 0) > 0, row  # mul.rn.bf16x2: the PTX decode's scale multiply
