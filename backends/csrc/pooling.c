/* Block max pooling and its scatter: one pass each (backends/kernels/pooling.py has the NumPy
 * bodies they follow). */
#include "host_kernels.h"

/* Whether a per-block array (N, OH, OW, C), or NULL, has the shape of the blocks (N, OH, kh,
 * OW, kw, C) with their offset axes taken out. */
static int
fits_blocks(const Array *blocks, const Array *per_block)
{
    static const int axis[4] = {0, 1, 3, 5};
    int d;
    if (per_block == NULL)
        return 1;
    for (d = 0; d < 4; d++) {
        if (per_block->view.shape[d] != blocks->view.shape[axis[d]])
            return 0;
    }
    return 1;
}

/* block_max over blocks (N, OH, kh, OW, kw, C) into best (N, OH, OW, C) and, unless NULL,
 * index (same shape, uint8 or int32): best = max over the kh*kw offsets as NumPy's maximum
 * (NaN propagates), index = the last offset k at which tap_k > the running max (0 if none):
 * the first maximum, ties to the earlier offset, a NaN never chosen. Offsets are visited in
 * row-major order k = i * kw + j, which is also memory order for channels-last blocks. The
 * running index of one output row is kept in `krow` in the values' own type (loops of one
 * element width vectorise at any C) and stored as I once the row is done. With `relu`, best
 * becomes max(best, 0) once its row is done (relu after the pool; they commute). */
#define BLOCK_MAX(T, I, NAME)                                                                 \
    WIDE static void NAME(const Array *x, const Array *best, const Array *index, T *krow,     \
                          int relu)                                                           \
    {                                                                                         \
        const Py_ssize_t *s = x->view.shape, *xs = x->view.strides;                           \
        const Py_ssize_t *bs = best->view.strides;                                            \
        const Py_ssize_t *is = index ? index->view.strides : NULL;                            \
        Py_ssize_t n, oh, i, ow, j, c, kh = s[2], kw = s[4], C = s[5];                        \
        for (n = 0; n < s[0]; n++)                                                            \
            for (oh = 0; oh < s[1]; oh++) {                                                   \
                for (i = 0; i < kh; i++)                                                      \
                    for (ow = 0; ow < s[3]; ow++) {                                           \
                        T *restrict b = (T *)PTR(best, n * bs[0] + oh * bs[1] + ow * bs[2]);  \
                        T *restrict kr = krow + ow * C;                                       \
                        for (j = 0; j < kw; j++) {                                            \
                            const T *restrict t = (const T *)PTR(                             \
                                x, n * xs[0] + oh * xs[1] + i * xs[2] + ow * xs[3] +          \
                                       j * xs[4]);                                            \
                            T k = (T)(i * kw + j);                                            \
                            if (i == 0 && j == 0) {                                           \
                                for (c = 0; c < C; c++) {                                     \
                                    b[c] = t[c];                                              \
                                    kr[c] = 0;                                                \
                                }                                                             \
                                continue;                                                     \
                            }                                                                 \
                            for (c = 0; c < C; c++) {                                         \
                                kr[c] = t[c] > b[c] ? k : kr[c];                              \
                                b[c] = (b[c] >= t[c] || b[c] != b[c]) ? b[c] : t[c];          \
                            }                                                                 \
                        }                                                                     \
                    }                                                                         \
                if (index)                                                                    \
                    for (ow = 0; ow < s[3]; ow++) {                                           \
                        I *restrict ix = (I *)PTR(index, n * is[0] + oh * is[1] +             \
                                                          ow * is[2]);                       \
                        for (c = 0; c < C; c++)                                               \
                            ix[c] = (I)krow[ow * C + c];                                      \
                    }                                                                         \
                if (relu) /* max(best, 0) as NumPy's maximum: NaN stays NaN */                \
                    for (ow = 0; ow < s[3]; ow++) {                                           \
                        T *restrict b = (T *)PTR(best, n * bs[0] + oh * bs[1] + ow * bs[2]);  \
                        for (c = 0; c < C; c++)                                               \
                            b[c] = (b[c] >= 0 || b[c] != b[c]) ? b[c] : (T)0;                 \
                    }                                                                         \
            }                                                                                 \
    }

BLOCK_MAX(float, unsigned char, block_max_fb)
BLOCK_MAX(float, int, block_max_fi)
BLOCK_MAX(double, unsigned char, block_max_db)
BLOCK_MAX(double, int, block_max_di)

PyObject *
host_block_max(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array x, best, index;
    void *krow;
    char xk, ik = 0;
    int has_index, relu;
    x.held = best.held = index.held = 0;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "block_max(blocks, best, index_or_None, relu)");
        return NULL;
    }
    relu = PyObject_IsTrue(args[3]);
    if (relu < 0)
        return NULL;
    has_index = args[2] != Py_None;
    if (get_array(args[0], &x, 6, 0, "block_max blocks") < 0 ||
        get_array(args[1], &best, 4, 1, "block_max best") < 0 ||
        (has_index && get_array(args[2], &index, 4, 1, "block_max index") < 0))
        goto fail;
    xk = kind_of(&x);
    if ((xk != 'f' && xk != 'd') || kind_of(&best) != xk) {
        PyErr_SetString(PyExc_TypeError, "block_max: float32 or float64 blocks and best");
        goto fail;
    }
    if (has_index) {
        ik = kind_of(&index);
        if (ik != 'B' && ik != 'i') {
            PyErr_SetString(PyExc_TypeError, "block_max: a uint8 or int32 index");
            goto fail;
        }
    }
    if (!fits_blocks(&x, &best) || !fits_blocks(&x, has_index ? &index : NULL)) {
        PyErr_SetString(PyExc_ValueError, "block_max: best/index do not match the blocks");
        goto fail;
    }
    if (!unit_last(&x) || !unit_last(&best) || (has_index && !unit_last(&index))) {
        PyErr_SetString(PyExc_ValueError, "block_max: the channel axis must be contiguous");
        goto fail;
    }
    if (x.view.shape[2] < 1 || x.view.shape[4] < 1) {
        PyErr_Format(PyExc_ValueError, "block_max: blocks of %zd x %zd offsets have no maximum",
                     x.view.shape[2], x.view.shape[4]);
        goto fail;
    }
    if (ITEMS(&best) == 0) {  /* nothing to write (and the sizes below may be huge) */
        release(&x);
        release(&best);
        release(&index);
        Py_RETURN_NONE;
    }
    /* the running index of one output row (OW * C values, fewer than best's), in the
     * values' type */
    krow = PyMem_Malloc((x.view.shape[3] * x.view.shape[5] + 1) * x.view.itemsize);
    if (krow == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    if (xk == 'f')
        (ik == 'i' ? block_max_fi : block_max_fb)(&x, &best, has_index ? &index : NULL, krow,
                                                  relu);
    else
        (ik == 'i' ? block_max_di : block_max_db)(&x, &best, has_index ? &index : NULL, krow,
                                                  relu);
    Py_END_ALLOW_THREADS
    PyMem_Free(krow);
    release(&x);
    release(&best);
    release(&index);
    Py_RETURN_NONE;
fail:
    release(&x);
    release(&best);
    release(&index);
    return NULL;
}

/* block_scatter: out (N, OH, kh, OW, kw, C) = g (N, OH, OW, C) times (offset == index), per
 * block offset: the gradient at each block's first maximum, zeros elsewhere, as NumPy's
 * `g * (index == k)`: every offset gets g * 0 (so a NaN or inf in g reaches its whole block,
 * and a negative g leaves -0), then the maximum's offset gets g itself (g * 1); an index
 * outside [0, kh*kw) (a negative int32) marks no offset, as `index == k` marks none. Per row:
 * the kh*kw offsets filled (plain float loops, vectorised), then one store per element at the
 * offset's place in the block (`offsets`, by k). With a `gate` (N, OH, OW, C), each row of g
 * is first multiplied by (gate > 0) into `gated`: relu's gradient for gate = relu's output,
 * as `relu_grad` computes it (g * 1 or g * 0). */
#define BLOCK_SCATTER(T, I, NAME)                                                             \
    WIDE static void NAME(const Array *g, const Array *index, const Array *gate,              \
                          const Array *out, const Py_ssize_t *offsets, T *gated)              \
    {                                                                                         \
        const Py_ssize_t *s = out->view.shape, *os = out->view.strides;                       \
        const Py_ssize_t *gs = g->view.strides, *is = index->view.strides;                    \
        const Py_ssize_t *ys = gate ? gate->view.strides : NULL;                              \
        Py_ssize_t n, oh, ow, k, c, K = s[2] * s[4], C = s[5];                                \
        for (n = 0; n < s[0]; n++)                                                            \
            for (oh = 0; oh < s[1]; oh++)                                                     \
                for (ow = 0; ow < s[3]; ow++) {                                               \
                    const T *restrict v = (const T *)PTR(g, n * gs[0] + oh * gs[1] +          \
                                                                ow * gs[2]);                 \
                    if (gate) { /* v * (y > 0), as a select: the loop vectorises */          \
                        const T *restrict y = (const T *)PTR(gate, n * ys[0] + oh * ys[1] +  \
                                                                    ow * ys[2]);             \
                        for (c = 0; c < C; c++)                                               \
                            gated[c] = y[c] > 0 ? v[c] : v[c] * (T)0;                         \
                        v = gated;                                                            \
                    }                                                                         \
                    const I *restrict ix = (const I *)PTR(index, n * is[0] + oh * is[1] +     \
                                                                   ow * is[2]);              \
                    char *block = PTR(out, n * os[0] + oh * os[1] + ow * os[3]);              \
                    for (k = 0; k < K; k++) {                                                 \
                        T *restrict o = (T *)(block + offsets[k]);                            \
                        for (c = 0; c < C; c++)                                               \
                            o[c] = v[c] * (T)0;                                               \
                    }                                                                         \
                    for (c = 0; c < C; c++) {                                                 \
                        k = (Py_ssize_t)ix[c];                                                \
                        if ((size_t)k < (size_t)K) /* 0 <= k < K: never outside the block */  \
                            ((T *)(block + offsets[k]))[c] = v[c];                            \
                    }                                                                         \
                }                                                                             \
    }

BLOCK_SCATTER(float, unsigned char, block_scatter_fb)
BLOCK_SCATTER(float, int, block_scatter_fi)
BLOCK_SCATTER(double, unsigned char, block_scatter_db)
BLOCK_SCATTER(double, int, block_scatter_di)

PyObject *
host_block_scatter(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array g, index, gate, out;
    Py_ssize_t *offsets, kh, kw, i, j, bytes;
    void *gated;
    char gk, ik;
    int has_gate;
    g.held = index.held = gate.held = out.held = 0;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "block_scatter(g, index, gate_or_None, out)");
        return NULL;
    }
    has_gate = args[2] != Py_None;
    if (get_array(args[0], &g, 4, 0, "block_scatter g") < 0 ||
        get_array(args[1], &index, 4, 0, "block_scatter index") < 0 ||
        (has_gate && get_array(args[2], &gate, 4, 0, "block_scatter gate") < 0) ||
        get_array(args[3], &out, 6, 1, "block_scatter out") < 0)
        goto fail;
    gk = kind_of(&g);
    ik = kind_of(&index);
    if ((gk != 'f' && gk != 'd') || kind_of(&out) != gk || (ik != 'B' && ik != 'i') ||
        (has_gate && kind_of(&gate) != gk)) {
        PyErr_SetString(PyExc_TypeError,
                        "block_scatter: float32/float64 g, gate and out, a uint8/int32 index");
        goto fail;
    }
    if (!fits_blocks(&out, &g) || !fits_blocks(&out, &index) ||
        !fits_blocks(&out, has_gate ? &gate : NULL)) {
        PyErr_SetString(PyExc_ValueError, "block_scatter: g/index/gate do not match out");
        goto fail;
    }
    if (!unit_last(&g) || !unit_last(&index) || !unit_last(&out) ||
        (has_gate && !unit_last(&gate))) {
        PyErr_SetString(PyExc_ValueError, "block_scatter: the channel axis must be contiguous");
        goto fail;
    }
    if (ITEMS(&out) == 0) {  /* nothing to write (and kh * kw may be huge) */
        release(&g);
        release(&index);
        release(&gate);
        release(&out);
        Py_RETURN_NONE;
    }
    kh = out.view.shape[2];
    kw = out.view.shape[4];
    /* kh * kw <= out's item count, but a zero-stride `out` may have a huge one */
    if (mul_size(kh * kw, sizeof(Py_ssize_t), &bytes) < 0) {
        PyErr_NoMemory();
        goto fail;
    }
    offsets = PyMem_Malloc(bytes);
    gated = PyMem_Malloc((out.view.shape[5] + 1) * out.view.itemsize);  /* one row of g */
    if (offsets == NULL || gated == NULL) {
        PyMem_Free(offsets);
        PyMem_Free(gated);
        PyErr_NoMemory();
        goto fail;
    }
    for (i = 0; i < kh; i++)  /* where offset k = i * kw + j lies in a block */
        for (j = 0; j < kw; j++)
            offsets[i * kw + j] = i * out.view.strides[2] + j * out.view.strides[4];
    Py_BEGIN_ALLOW_THREADS
    if (gk == 'f')
        (ik == 'i' ? block_scatter_fi : block_scatter_fb)(&g, &index, has_gate ? &gate : NULL,
                                                          &out, offsets, gated);
    else
        (ik == 'i' ? block_scatter_di : block_scatter_db)(&g, &index, has_gate ? &gate : NULL,
                                                          &out, offsets, gated);
    Py_END_ALLOW_THREADS
    PyMem_Free(offsets);
    PyMem_Free(gated);
    release(&g);
    release(&index);
    release(&gate);
    release(&out);
    Py_RETURN_NONE;
fail:
    release(&g);
    release(&index);
    release(&gate);
    release(&out);
    return NULL;
}
