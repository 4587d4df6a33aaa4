/* backends._host_kernels: one-pass C loops for host arrays where NumPy needs many passes.
 *
 * Each kernel is the C form of a NumPy body in backends/kernels/ (which stays the reference,
 * the fake device's path and the fallback where this extension is not built or
 * KEDJA_PURE_PYTHON=1 is set); both compute the same values in the same order, except
 * softmax.c, whose exp and log are libm's in double (not NumPy's own), and the LSTM cell's
 * forward in recurrent.c (fast_math.h's sigmoid and tanh): they agree to float rounding.
 * Arrays come in through the buffer protocol (any strides, float32 or float64 data), so no
 * NumPy header is needed, and the loops run without the GIL: backends/host_threads.py may run
 * two halves of a batch at once. Files: host_kernels.h (what they share), buffers.c,
 * pooling.c, windows.c, activations.c, softmax.c, recurrent.c (with fast_math.h), optimizers.c,
 * normalization.c, indexing.c, attention.c, panel_gemm.c (a recurrent step's
 * small GEMM against pre-packed weights), blas_pool.c (threads for OpenBLAS's threaded calls,
 * not a loop), module.c (this one: the method table and the
 * import). GELU's tanh forward (activations.c, fast_math.h's exp), the layer norm
 * (normalization.c, row statistics in double) and the attention's softmax (attention.c) also
 * agree to rounding only; indexing.c's scatter-add is np.add.at's bits.
 */
#include "host_kernels.h"

static PyMethodDef kernel_methods[] = {
    {"block_max", (PyCFunction)(void (*)(void))host_block_max, METH_FASTCALL,
     "block_max(blocks, best, index, relu): max (first-max offset) over disjoint blocks."},
    {"block_scatter", (PyCFunction)(void (*)(void))host_block_scatter, METH_FASTCALL,
     "block_scatter(g, index, gate, out): g at each block's first maximum, zeros elsewhere."},
    {"im2col", (PyCFunction)(void (*)(void))host_im2col, METH_FASTCALL,
     "im2col(image, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow): channels-last windows."},
    {"col2im_add", (PyCFunction)(void (*)(void))host_col2im_add, METH_FASTCALL,
     "col2im_add(image, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow): image += windows."},
    {"relu_grad", (PyCFunction)(void (*)(void))host_relu_grad, METH_FASTCALL,
     "relu_grad(y, gy, gx): gx = gy where y > 0, else gy * 0 (contiguous, one dtype)."},
    {"tanh_grad", (PyCFunction)(void (*)(void))host_tanh_grad, METH_FASTCALL,
     "tanh_grad(y, gy, gx): gx = gy * (1 - y * y); False (nothing written) unless all three "
     "are C-contiguous, aligned, of one float dtype and shape."},
    {"lstm_cell", (PyCFunction)(void (*)(void))host_lstm_cell, METH_FASTCALL,
     "lstm_cell(xg, hg, c_in, c_out, h_out, gates, tc): one LSTM step's pointwise part; False "
     "(nothing written) unless all are C-contiguous (n, 4H) / (n, H) arrays of one float dtype."},
    {"lstm_cell_grad", (PyCFunction)(void (*)(void))host_lstm_cell_grad, METH_FASTCALL,
     "lstm_cell_grad(gh, gh_more, gc_in, gc_out, gates, tc, c_in, grads): its gradient (gh_more "
     "may be None); False as lstm_cell."},
    {"softmax_xent", (PyCFunction)(void (*)(void))host_softmax_xent, METH_FASTCALL,
     "softmax_xent(x, target, shift, log_total, nll): row stats and NLL; False if a target "
     "is out of range."},
    {"softmax_xent_grad", (PyCFunction)(void (*)(void))host_softmax_xent_grad, METH_FASTCALL,
     "softmax_xent_grad(x, target, shift, log_total, scale, hot, gx): the fused gradient."},
    {"adam", (PyCFunction)(void (*)(void))host_adam, METH_FASTCALL,
     "adam(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, sign, l2, decay, beta1, c1, beta2, c2, "
     "step_size, eps_hat): one Adam/AdamW step in place."},
    {"sgd", (PyCFunction)(void (*)(void))host_sgd, METH_FASTCALL,
     "sgd(p, g, buf, lr, sign, l2, momentum, damp_c, nesterov, first): one SGD step in place."},
    {"gelu_tanh", (PyCFunction)(void (*)(void))host_gelu_tanh, METH_FASTCALL,
     "gelu_tanh(x, y, s): s = 1 / (1 + exp(-2u)), y = x s (GELU's tanh form); False (nothing "
     "written) unless all three are C-contiguous, aligned, of one float dtype and shape."},
    {"gelu_tanh_grad", (PyCFunction)(void (*)(void))host_gelu_tanh_grad, METH_FASTCALL,
     "gelu_tanh_grad(x, s, gy, gx): gx = gy gelu'(x) from gelu_tanh's s; False as gelu_tanh."},
    {"layer_norm", (PyCFunction)(void (*)(void))host_layer_norm, METH_FASTCALL,
     "layer_norm(x, w, b, eps, y, xhat, rstd): layer norm of the rows of x (R, n); False "
     "(nothing written) unless all are C-contiguous aligned float32 of matching sizes."},
    {"layer_norm_grad", (PyCFunction)(void (*)(void))host_layer_norm_grad, METH_FASTCALL,
     "layer_norm_grad(gy, xhat, w, rstd, gx, gw, gb): the rows' gradients (gx, gw, gb: None "
     "where not needed); False as layer_norm."},
    {"scatter_add_rows", (PyCFunction)(void (*)(void))host_scatter_add_rows, METH_FASTCALL,
     "scatter_add_rows(target, index, values): target[index[i]] += values[i] in order; False "
     "(nothing written) unless C-contiguous, one float dtype, int64 indices in [-V, V)."},
    {"softmax_rows", (PyCFunction)(void (*)(void))host_softmax_rows, METH_FASTCALL,
     "softmax_rows(s, causal): the attention's softmax over the last axis of float32 scores "
     "(..., L, S), in place; False (nothing written) unless C-contiguous and aligned."},
    {"pack_panels", (PyCFunction)(void (*)(void))host_pack_panels, METH_FASTCALL,
     "pack_panels(b, packed): float32 b (K, N) into panel_matmul's column panels (packed: "
     "K * 24 * ceil(N / 24) float32, zero padded)."},
    {"panel_matmul", (PyCFunction)(void (*)(void))host_panel_matmul, METH_FASTCALL,
     "panel_matmul(a, packed, out): out = a @ b for float32 a (M, K), b packed by pack_panels; "
     "False (nothing written) without AVX2/FMA, for other dtypes or layouts, or overlaps."},
    {"blas_pool_callback", host_blas_pool_callback, METH_NOARGS,
     "blas_pool_callback(): the address of blas_pool.c's OpenBLAS threads callback (None where "
     "there is no pool)."},
    {"blas_pool_park", host_blas_pool_park, METH_NOARGS,
     "blas_pool_park(): the pool's spinning workers go to sleep now."},
    {"blas_pool_spin", host_blas_pool_spin, METH_O,
     "blas_pool_spin(ns): how long a worker spins after a job before it sleeps; returns the "
     "previous value."},
    {"blas_pool_stats", host_blas_pool_stats, METH_NOARGS,
     "blas_pool_stats(): workers, calls run, naps taken, workers asleep, spin_ns."},
    {NULL}
};

static struct PyModuleDef kernels_module = {
    PyModuleDef_HEAD_INIT, "backends._host_kernels",
    "One-pass C loops for host arrays (see backends/kernels/).", -1, kernel_methods,
};

PyMODINIT_FUNC
PyInit__host_kernels(void)
{
    PyObject *m = PyModule_Create(&kernels_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "ABI", KERNELS_ABI) < 0 ||
        PyModule_AddStringConstant(m, "SOURCE_HASH", KERNELS_SOURCE_HASH) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
