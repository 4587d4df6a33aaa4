/* host_kernels.h: what the files of backends._host_kernels share: the buffer plumbing, the
 * vector-width clones and the loop entry points (see module.c for what the kernels are). */
#ifndef KEDJA_HOST_KERNELS_H
#define KEDJA_HOST_KERNELS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define KERNELS_ABI 1
#ifndef KERNELS_SOURCE_HASH
#define KERNELS_SOURCE_HASH "unknown"
#endif

/* The loops are compiled for the baseline and for AVX2 and AVX-512 as well where the compiler
 * can dispatch at load time (GCC and Clang on x86-64 with glibc: ifunc): wider vectors for the
 * mixed-width compares and selects. */
#if defined(__x86_64__) && defined(__GLIBC__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(KEDJA_NO_CLONES)
#define WIDE __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define WIDE
#endif

/* A buffer with its dimensions checked; released by `release`. */
typedef struct {
    Py_buffer view;
    int held;
} Array;

int get_array(PyObject *obj, Array *a, int ndim, int writable, const char *what);
int get_contiguous(PyObject *obj, Array *a, int writable);
void release(Array *a);
char kind_of(Array *a);
int unit_last(const Array *a);
/* Soft checks for loops with a NumPy fallback: a strided buffer of `obj`, or 0 with the error
 * cleared; whether an array is C-contiguous, aligned and of kind `k`; whether two arrays have
 * one shape. */
int try_buffer(PyObject *obj, Array *a, int writable);
int dense_of_kind(Array *a, char k);
int same_shape(const Array *a, const Array *b);

/* Partial sums a float row's double sum takes (normalization.c, attention.c). */
#define LANES 8

/* The sum of a[0..n) (as double), in LANES partial sums and then the tail, a fixed order. */
static inline double
row_sum(const float *restrict a, Py_ssize_t n)
{
    double part[LANES] = {0};
    double total = 0;
    Py_ssize_t j, k, full = n - n % LANES;
    for (j = 0; j < full; j += LANES)
        for (k = 0; k < LANES; k++)
            part[k] += (double)a[j + k];
    for (k = 0; k < LANES; k++)
        total += part[k];
    for (j = full; j < n; j++)
        total += (double)a[j];
    return total;
}

/* The address `off` bytes into the buffer of `a`. */
#define PTR(a, off) ((char *)(a)->view.buf + (off))
/* The number of items of `a` (its shape's product, whatever its strides). */
#define ITEMS(a) ((a)->view.len / (a)->view.itemsize)

/* Sizes from Python are checked before any loop trusts them (no Python-reachable input may
 * crash the interpreter): `*out = a * b` for a, b >= 0, or -1 where it would overflow
 * Py_ssize_t (64 bits on 64-bit machines). */
int mul_size(Py_ssize_t a, Py_ssize_t b, Py_ssize_t *out);

PyObject *host_block_max(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_block_scatter(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_im2col(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_col2im_add(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_relu_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_tanh_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_lstm_cell(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_lstm_cell_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_softmax_xent(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_softmax_xent_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_adam(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_sgd(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_gelu_tanh(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_gelu_tanh_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_layer_norm(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_layer_norm_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_scatter_add_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_softmax_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_pack_panels(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_panel_matmul(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *host_blas_pool_callback(PyObject *module, PyObject *unused);
PyObject *host_blas_pool_park(PyObject *module, PyObject *unused);
PyObject *host_blas_pool_spin(PyObject *module, PyObject *arg);
PyObject *host_blas_pool_stats(PyObject *module, PyObject *unused);

#endif
