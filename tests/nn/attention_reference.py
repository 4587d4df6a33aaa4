"""Reference cases for attention and the Transformer layers, and the script that writes PyTorch's
answers to them into tests/nn/data/attention_reference.npz.

Each case builds its module from an ``nn`` namespace and calls it through an ``F`` namespace;
PyTorch's ``torch.nn`` / ``torch.nn.functional`` and kedja's ``nn`` / ``nn.functional`` share
that API, so one definition serves both. The file holds, per case, the inputs, PyTorch's
state_dict, output (and attention weights), a random upstream gradient and the gradients of
the inputs and parameters, all in float64 with the modules in eval mode.

The tests (test_attention_reference.py) need only this module's CASES and the committed file.
Regenerating needs PyTorch, in a separate environment:

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python tests/nn/attention_reference.py
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PATH = Path(__file__).resolve().parent / "data" / "attention_reference.npz"

E, H, FF = 8, 2, 16  # model width, heads, feed-forward width: small, so the file stays small


@dataclass(frozen=True)
class Case:
    """One reference computation.

    Attributes:
        name: key prefix in the file.
        build: ``build(nn) -> module`` (None: a functional case).
        run: ``run(module, F, tensors) -> output or (output, weights)``.
        inputs: ``inputs(rng) -> {name: array}``; float arrays named in `grads` get gradients.
        grads: the inputs whose gradients are compared.
    """

    name: str
    build: Callable[[Any], Any] | None
    run: Callable[[Any, Any, dict], Any]
    inputs: Callable[[np.random.Generator], dict]
    grads: tuple[str, ...]


def _randn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def _bool(rng: np.random.Generator, *shape: int, p: float = 0.3) -> np.ndarray:
    return rng.uniform(size=shape) < p


def _causal(n: int) -> np.ndarray:
    return np.triu(np.full((n, n), -np.inf), 1)


def _padding(rng: np.random.Generator, n: int, s: int) -> np.ndarray:
    """(n, s) key padding: True marks the padded tail of each sequence (at least one key left)."""
    lengths = rng.integers(1, s + 1, size=n)
    return np.arange(s)[None, :] >= lengths[:, None]


def _qkv(rng: np.random.Generator, rows: int = 3, cols: int = 5, heads: int = 2,
         kv_heads: int | None = None) -> dict:
    kv = heads if kv_heads is None else kv_heads
    return {"q": _randn(rng, 2, heads, rows, 4), "k": _randn(rng, 2, kv, cols, 4),
            "v": _randn(rng, 2, kv, cols, 3)}


def _sdpa(**kw: Any) -> Callable:
    def run(_module: Any, F: Any, t: dict) -> Any:  # noqa: N803 - PyTorch's F
        mask = t.get("mask")
        extra = dict(kw) if mask is None else {**kw, "attn_mask": mask}
        return F.scaled_dot_product_attention(t["q"], t["k"], t["v"], **extra)

    return run


def _mha_self(**kw: Any) -> Callable:
    def run(m: Any, F: Any, t: dict) -> Any:  # noqa: N803
        x = t["x"]
        masks = {k: t[k] for k in ("attn_mask", "key_padding_mask") if k in t}
        return m(x, x, x, **masks, **kw)

    return run


def _mha_cross(**kw: Any) -> Callable:
    def run(m: Any, F: Any, t: dict) -> Any:  # noqa: N803
        masks = {k: t[k] for k in ("attn_mask", "key_padding_mask") if k in t}
        return m(t["query"], t["key"], t["value"], **masks, **kw)

    return run


def _keyed(names: tuple, **kw: Any) -> Callable:
    """Calls the module with the tensors `names` positionally, the other tensors by keyword."""
    def run(m: Any, F: Any, t: dict) -> Any:  # noqa: N803
        rest = {k: v for k, v in t.items() if k not in names}
        return m(*(t[n] for n in names), **rest, **kw)

    return run


def _seq_first(rng: np.random.Generator, length: int, n: int = 2) -> np.ndarray:
    return _randn(rng, length, n, E)


CASES = [
    # -- scaled_dot_product_attention ---------------------------------------------------------
    Case("sdpa_plain", None, _sdpa(), lambda r: _qkv(r), ("q", "k", "v")),
    Case("sdpa_bool_mask", None, _sdpa(),
         lambda r: {**_qkv(r), "mask": np.array([[True] * 5, [False] * 5, [True, False] * 2
                                                 + [True]])},
         ("q", "k", "v")),
    Case("sdpa_float_mask", None, _sdpa(), lambda r: {**_qkv(r), "mask": _randn(r, 2, 1, 3, 5)},
         ("q", "k", "v", "mask")),
    Case("sdpa_causal_wide", None, _sdpa(is_causal=True), lambda r: _qkv(r, 3, 5),
         ("q", "k", "v")),
    Case("sdpa_causal_tall", None, _sdpa(is_causal=True), lambda r: _qkv(r, 5, 3),
         ("q", "k", "v")),
    Case("sdpa_scale", None, _sdpa(scale=0.7), lambda r: _qkv(r), ("q", "k", "v")),
    Case("sdpa_gqa", None, _sdpa(enable_gqa=True), lambda r: _qkv(r, heads=4, kv_heads=2),
         ("q", "k", "v")),
    # -- MultiheadAttention -------------------------------------------------------------------
    Case("mha_self_padding", lambda nn: nn.MultiheadAttention(E, H), _mha_self(),
         lambda r: {"x": _seq_first(r, 5), "key_padding_mask": _padding(r, 2, 5)}, ("x",)),
    Case("mha_batch_first_bool_masks", lambda nn: nn.MultiheadAttention(E, H, batch_first=True),
         _mha_self(need_weights=False),
         lambda r: {"x": _randn(r, 2, 5, E), "attn_mask": np.triu(np.ones((5, 5), bool), 1),
                    "key_padding_mask": _padding(r, 2, 5)}, ("x",)),
    Case("mha_float_masks_per_head", lambda nn: nn.MultiheadAttention(E, H, batch_first=True),
         _mha_self(average_attn_weights=False),
         lambda r: {"x": _randn(r, 2, 4, E), "attn_mask": _randn(r, 2 * H, 4, 4),
                    "key_padding_mask": np.where(_padding(r, 2, 4), -np.inf, 0.0)}, ("x",)),
    Case("mha_kdim_vdim_no_bias",
         lambda nn: nn.MultiheadAttention(E, H, bias=False, kdim=6, vdim=4),
         _mha_cross(),
         lambda r: {"query": _randn(r, 3, 2, E), "key": _randn(r, 5, 2, 6),
                    "value": _randn(r, 5, 2, 4)}, ("query", "key", "value")),
    Case("mha_bias_kv_zero_attn",
         lambda nn: nn.MultiheadAttention(E, H, add_bias_kv=True, add_zero_attn=True,
                                          batch_first=True),
         _mha_cross(),
         lambda r: {"query": _randn(r, 2, 3, E), "key": _randn(r, 2, 4, E),
                    "value": _randn(r, 2, 4, E), "attn_mask": _bool(r, 3, 4),
                    "key_padding_mask": _padding(r, 2, 4)}, ("query", "key", "value")),
    Case("mha_unbatched", lambda nn: nn.MultiheadAttention(E, H), _mha_self(),
         lambda r: {"x": _randn(r, 4, E), "attn_mask": _randn(r, H, 4, 4)}, ("x",)),
    Case("mha_causal_hint", lambda nn: nn.MultiheadAttention(E, H, batch_first=True),
         _mha_self(need_weights=False, is_causal=True),
         lambda r: {"x": _randn(r, 2, 5, E), "attn_mask": _causal(5)}, ("x",)),
    # -- Transformer layers -------------------------------------------------------------------
    Case("encoder_layer_post_relu", lambda nn: nn.TransformerEncoderLayer(E, H, FF),
         _keyed(("src",)),
         lambda r: {"src": _seq_first(r, 5), "src_mask": _causal(5),
                    "src_key_padding_mask": _padding(r, 2, 5)}, ("src",)),
    Case("encoder_layer_pre_gelu",
         lambda nn: nn.TransformerEncoderLayer(E, H, FF, activation="gelu", norm_first=True,
                                               batch_first=True),
         _keyed(("src",)), lambda r: {"src": _randn(r, 2, 5, E)}, ("src",)),
    Case("encoder_layer_callable_no_bias",
         lambda nn: nn.TransformerEncoderLayer(E, H, FF, activation=nn.Tanh(), bias=False,
                                               batch_first=True, layer_norm_eps=1e-3),
         _keyed(("src",), is_causal=True),
         lambda r: {"src": _randn(r, 2, 4, E), "src_mask": _causal(4)}, ("src",)),
    Case("decoder_layer_post", lambda nn: nn.TransformerDecoderLayer(E, H, FF),
         _keyed(("tgt", "memory")),
         lambda r: {"tgt": _seq_first(r, 4), "memory": _seq_first(r, 5),
                    "tgt_mask": _causal(4), "memory_key_padding_mask": _padding(r, 2, 5)},
         ("tgt", "memory")),
    Case("decoder_layer_pre_batch_first",
         lambda nn: nn.TransformerDecoderLayer(E, H, FF, norm_first=True, batch_first=True,
                                               activation="gelu"),
         _keyed(("tgt", "memory")),
         lambda r: {"tgt": _randn(r, 2, 4, E), "memory": _randn(r, 2, 3, E),
                    "memory_mask": _bool(r, 4, 3, p=0.2)}, ("tgt", "memory")),
    Case("encoder_stack_norm",
         lambda nn: nn.TransformerEncoder(
             nn.TransformerEncoderLayer(E, H, FF, batch_first=True, norm_first=True), 2,
             norm=nn.LayerNorm(E)),
         _keyed(("src",)),
         lambda r: {"src": _randn(r, 2, 5, E), "mask": _causal(5),
                    "src_key_padding_mask": _padding(r, 2, 5)}, ("src",)),
    Case("decoder_stack",
         lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, FF), 2),
         _keyed(("tgt", "memory")),
         lambda r: {"tgt": _seq_first(r, 3), "memory": _seq_first(r, 4),
                    "tgt_mask": _causal(3)}, ("tgt", "memory")),
    Case("transformer",
         lambda nn: nn.Transformer(E, H, num_encoder_layers=2, num_decoder_layers=1,
                                   dim_feedforward=FF),
         _keyed(("src", "tgt")),
         lambda r: {"src": _seq_first(r, 5), "tgt": _seq_first(r, 4), "tgt_mask": _causal(4),
                    "src_key_padding_mask": _padding(r, 2, 5),
                    "memory_key_padding_mask": _padding(r, 2, 5)}, ("src", "tgt")),
    Case("transformer_pre_norm_batch_first",
         lambda nn: nn.Transformer(E, H, num_encoder_layers=1, num_decoder_layers=2,
                                   dim_feedforward=FF, batch_first=True, norm_first=True,
                                   activation="gelu"),
         _keyed(("src", "tgt")),
         lambda r: {"src": _randn(r, 2, 5, E), "tgt": _randn(r, 2, 4, E),
                    "tgt_mask": _causal(4)}, ("src", "tgt")),
]


def _outputs(result: Any) -> tuple:
    """(output, weights or None) of a case's result."""
    if isinstance(result, tuple):
        return result[0], result[1]
    return result, None


def main() -> None:
    """Runs every case in PyTorch (float64, eval mode) and writes the reference file."""
    import torch
    import torch.nn.functional as torch_f

    arrays: dict[str, np.ndarray] = {}
    for index, case in enumerate(CASES):
        rng = np.random.default_rng(index)
        torch.manual_seed(index)
        inputs = case.inputs(rng)
        module = None
        if case.build is not None:
            module = case.build(torch.nn).double().eval()
            for key, value in module.state_dict().items():
                arrays[f"{case.name}/state/{key}"] = value.numpy()
        tensors = {}
        for name, a in inputs.items():
            arrays[f"{case.name}/input/{name}"] = a
            t = torch.from_numpy(a)
            if name in case.grads:
                t.requires_grad_(True)
            tensors[name] = t
        out, weights = _outputs(case.run(module, torch_f, tensors))
        arrays[f"{case.name}/output"] = out.detach().numpy()
        if weights is not None:
            arrays[f"{case.name}/weights"] = weights.detach().numpy()
        g = rng.standard_normal(tuple(out.shape))
        arrays[f"{case.name}/upstream"] = g
        out.backward(torch.from_numpy(g))
        for name in case.grads:
            arrays[f"{case.name}/grad/{name}"] = tensors[name].grad.numpy()
        if module is not None:
            for key, p in module.named_parameters():
                arrays[f"{case.name}/param_grad/{key}"] = p.grad.numpy()
    PATH.parent.mkdir(exist_ok=True)
    np.savez_compressed(PATH, **arrays)
    print(f"wrote {len(arrays)} arrays for {len(CASES)} cases to {PATH} "
          f"(torch {torch.__version__})")


if __name__ == "__main__":
    main()
