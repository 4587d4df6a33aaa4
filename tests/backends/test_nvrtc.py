"""Every fused CUDA kernel compiles with NVRTC for every dtype (float16, float32, float64 and
the mixed ones), rank, memory layout and index width, for sm_80 and sm_90, with no GPU.

CuPy generates each kernel's code (its internals, as ``ElementwiseKernel`` / ``ReductionKernel``
would on a first launch) and CuPy's own compiler setup gives the options (include paths of its
headers, CCCL and the CUDA toolkit it found: a system toolkit or the pip packages). Install
with the dev extra (cupy-cuda12x and nvidia-cuda-nvrtc-cu12); skipped
where CuPy or NVRTC is missing. One NVRTC program per dtype combination and architecture
holds all variants, so the whole check is ten compiles.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from backends import kernels
from backends.kernels import softmax

from .test_kernels import _specs

#: Array placeholder dtypes (T: data/parameters, G: gradients, O: outputs, I: indices).
COMBOS = {
    "float16": ("float16", "float16"),
    "float32": ("float32", "float32"),
    "float64": ("float64", "float64"),
    "float16+float32": ("float16", "float32"),  # half parameters, float gradients
    "float32+float64": ("float32", "float64"),
}
#: (rank, C-contiguous, 32-bit indexing): CuPy specialises kernels on all three.
LAYOUTS = [(1, True, True), (1, True, False), (2, False, True), (4, False, False)]
ARCHS = ["compute_80", "compute_90"]
_UNDEF = "\n#undef REDUCE\n#undef _REDUCE\n#undef POST_MAP\n"


def _cupy():
    cupy = pytest.importorskip("cupy")
    try:
        from cupy._core import _carray, _kernel, _reduction, _scalar, core
        from cupy_backends.cuda.libs import nvrtc
    except ImportError as e:
        pytest.skip(f"CuPy internals not available: {e}")
    return cupy, _carray, _kernel, _reduction, _scalar, core, nvrtc


def _elementwise_code(spec, compute, data, grad, layout, parts) -> str:
    cupy, _carray, _kernel, _reduction, _scalar, core, nvrtc = parts
    ndim, contiguous, index32 = layout
    k = spec.build(compute)
    types = {"T": np.dtype(data), "G": np.dtype(grad), "O": np.dtype(data),
             "I": np.dtype(np.int64)}
    arginfos, used = [], {}
    for p in k.params:
        if p.name == "_ind":
            arginfos.append(_kernel._ArgInfo(2, _carray.Indexer, None, ndim, True, index32))
        elif p.dtype is None:  # a placeholder: an array argument
            used[p.ctype] = types[p.ctype]
            arginfos.append(_kernel._ArgInfo(1, cupy.ndarray, types[p.ctype], ndim, contiguous,
                                             index32))
        else:  # a scalar of a fixed type
            arginfos.append(_kernel._ArgInfo(3, _scalar.CScalar, p.dtype, 0, True, True))
    type_map = _kernel._TypeMap(tuple(sorted(used.items())))
    name = f"{k.name}_{ndim}_{int(contiguous)}_{int(index32)}"
    return _kernel._get_elementwise_kernel_code(
        tuple(arginfos), type_map, k.params, k.operation, name, k.preamble)


def _reduction_code(compute, data, layout, parts) -> str:
    cupy, _carray, _kernel, _reduction, _scalar, core, nvrtc = parts
    ndim, contiguous, index32 = layout
    k = softmax._sum_exp_kernel(compute)
    array = _kernel._ArgInfo(1, cupy.ndarray, np.dtype(data), ndim, contiguous, index32)
    indexer = _kernel._ArgInfo(2, _carray.Indexer, None, ndim, True, index32)
    arginfos = (array, array, array, indexer, indexer)
    type_map = _kernel._TypeMap((("T", np.dtype(data)),))
    name = f"{k.name}_{ndim}_{int(contiguous)}_{int(index32)}"
    params = k.in_params + k.out_params + _reduction._get_param_info(
        "CIndexer _in_ind, CIndexer _out_ind", False) + _reduction._get_param_info(
        "int32 _block_stride", True)
    return _reduction._ReductionKernel_get_cached_function_code(
        2, 1, params, arginfos + (_kernel._ArgInfo(3, _scalar.CScalar, np.dtype(np.int32), 0,
                                                   True, True),),
        type_map, name, 512, k.reduce_type, k.identity, k.map_expr, k.reduce_expr,
        k.post_map_expr, k.preamble, ())


@pytest.mark.parametrize("combo", list(COMBOS))
def test_every_kernel_variant_compiles_with_nvrtc(combo):
    if os.environ.get("KEDJA_PURE_PYTHON"):
        pytest.skip("the CUDA sources do not depend on the core: the C-core run compiles them")
    parts = _cupy()
    core, nvrtc = parts[5], parts[6]
    data, grad = COMBOS[combo]
    compute = kernels._compute(data, grad)
    codes = [_elementwise_code(spec, compute, data, grad, layout, parts)
             for spec in _specs() for layout in LAYOUTS]
    # The kedja_sum_exp reduction of the fused cross-entropy; its code defines macros, so each
    # layout's copy is wrapped to undefine them again.
    for layout in LAYOUTS:
        # CuPy passes the index type of the reduction loop as a macro (-DIndexT=...).
        index_t = "int" if layout[2] else "ptrdiff_t"
        codes.append(f"#define IndexT {index_t}\n" + _reduction_code(compute, data, layout, parts)
                     + _UNDEF + "#undef IndexT\n")
    source = "#include <cupy/carray.cuh>\n" + "\n".join(codes)
    # CuPy's compiler setup: its headers, CCCL and the toolkit's include directory.
    options = list(core.assemble_cupy_compiler_options(())) + ["-ftz=true"]
    for arch in ARCHS:
        try:
            prog = nvrtc.createProgram(source, "kedja.cu", [], [])
        except Exception as e:  # noqa: BLE001 - the NVRTC library is missing
            pytest.skip(f"NVRTC unavailable: {e}")
        try:
            nvrtc.compileProgram(prog, options + [f"-arch={arch}"])
        except Exception as e:  # noqa: BLE001 - the compile log is the useful part
            pytest.fail(f"{combo} kernels do not compile for {arch}: {e}\n"
                        f"{nvrtc.getProgramLog(prog)}")
        ptx = nvrtc.getPTX(prog)
        assert ptx
        if combo in ("float16", "float32", "float16+float32"):
            # float32 compute: no float64 arithmetic slips in (a 32x slowdown on most GPUs)
            text = ptx.decode() if isinstance(ptx, bytes) else ptx
            assert ".f64" not in text.replace("cvt.f64", "").replace("cvt.rn.f32.f64", ""), combo
