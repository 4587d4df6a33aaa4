"""Attention and the Transformer layers against PyTorch's answers (committed reference arrays).

Each case of attention_reference.CASES is rebuilt with kedja's ``nn``, given PyTorch's
state_dict, run in float64 on the same inputs and backpropagated with the same upstream
gradient: outputs, attention weights, input and parameter gradients must agree. No PyTorch is
needed here; attention_reference.py regenerates the file where it is installed.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

from .attention_reference import CASES, PATH, Case

_REFERENCE = np.load(PATH, allow_pickle=False)


def _arrays(prefix: str) -> dict:
    return {k[len(prefix):]: _REFERENCE[k] for k in _REFERENCE.files if k.startswith(prefix)}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_pytorch(case: Case, backend) -> None:
    name = case.name
    module = None
    if case.build is not None:
        module = case.build(nn).double().eval()
        state = _arrays(f"{name}/state/")
        assert list(state) == list(module.state_dict()), "parameter names or order differ"
        module.load_state_dict(state)
    tensors = {k: ag.tensor(a, device=backend, requires_grad=k in case.grads)
               for k, a in _arrays(f"{name}/input/").items()}
    result = case.run(module, F, tensors)
    out, weights = result if isinstance(result, tuple) else (result, None)
    np.testing.assert_allclose(out.numpy(), _REFERENCE[f"{name}/output"], rtol=1e-9,
                               atol=1e-11, err_msg=f"{name}: output")
    if f"{name}/weights" in _REFERENCE.files:
        np.testing.assert_allclose(weights.numpy(), _REFERENCE[f"{name}/weights"], rtol=1e-9,
                                   atol=1e-11, err_msg=f"{name}: attention weights")
    else:
        assert weights is None
    out.backward(ag.tensor(_REFERENCE[f"{name}/upstream"], device=backend))
    for k in case.grads:
        np.testing.assert_allclose(tensors[k].grad.numpy(), _REFERENCE[f"{name}/grad/{k}"],
                                   rtol=1e-8, atol=1e-10, err_msg=f"{name}: gradient of {k}")
    if module is not None:
        expected = _arrays(f"{name}/param_grad/")
        got = dict(module.named_parameters())
        assert sorted(got) == sorted(expected)
        for k, p in got.items():
            np.testing.assert_allclose(p.grad.numpy(), expected[k], rtol=1e-8, atol=1e-10,
                                       err_msg=f"{name}: gradient of parameter {k}")
