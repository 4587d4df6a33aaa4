/* backends._host_kernels: one-pass C loops for host arrays where NumPy needs many passes.
 *
 * Each kernel is the C form of a NumPy body in backends/kernels/ (which stays the reference,
 * the fake device's path and the fallback where this extension is not built or
 * KEDJA_PURE_PYTHON=1 is set); both compute the same values in the same order. Arrays come in
 * through the buffer protocol (any strides, float32 or float64 data), so no NumPy header is
 * needed, and the loops run without the GIL: backends/host_threads.py may run two halves of a
 * batch at once.
 */
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

static int
get_array(PyObject *obj, Array *a, int ndim, int writable, const char *what)
{
    int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    a->held = 0;
    if (PyObject_GetBuffer(obj, &a->view, flags) < 0)
        return -1;
    a->held = 1;
    if (a->view.ndim != ndim) {
        PyErr_Format(PyExc_ValueError, "%s: expected %d dimensions, got %d", what, ndim,
                     a->view.ndim);
        return -1;
    }
    return 0;
}

static void
release(Array *a)
{
    if (a->held)
        PyBuffer_Release(&a->view);
    a->held = 0;
}

/* 'f', 'd', 'B' (uint8) or 'i' (int32); anything else is 0. */
static char
kind_of(Array *a)
{
    const char *f = a->view.format;
    if (f == NULL)
        return 'B';
    if (f[0] == '<' || f[0] == '=' || f[0] == '@')
        f++;
    if (f[1] != '\0')
        return 0;
    if ((f[0] == 'f' && a->view.itemsize == 4) || (f[0] == 'd' && a->view.itemsize == 8) ||
        (f[0] == 'B' && a->view.itemsize == 1))
        return f[0];
    if ((f[0] == 'i' || f[0] == 'l') && a->view.itemsize == 4)
        return 'i';
    return 0;
}

/* Whether the last axis of every array is contiguous (the loops below rely on it). */
static int
unit_last(const Array *a)
{
    return a->view.strides[a->view.ndim - 1] == a->view.itemsize;
}

/* Address of element (i0, i1, i2, ...) of `a` for the leading axes given. */
#define PTR(a, off) ((char *)(a)->view.buf + (off))

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

static PyObject *
host_block_max(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array x, best, index;
    void *krow;
    char xk, ik = 0;
    int has_index, d, relu;
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
    for (d = 0; d < 4; d++) {
        Py_ssize_t want = x.view.shape[d < 2 ? d : d + 1 + (d == 3)];
        if (best.view.shape[d] != want || (has_index && index.view.shape[d] != want)) {
            PyErr_SetString(PyExc_ValueError, "block_max: best/index do not match the blocks");
            goto fail;
        }
    }
    if (!unit_last(&x) || !unit_last(&best) || (has_index && !unit_last(&index))) {
        PyErr_SetString(PyExc_ValueError, "block_max: the channel axis must be contiguous");
        goto fail;
    }
    /* the running index of one output row (OW * C values), in the values' type */
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
 * and a negative g leaves -0), then the maximum's offset gets g itself (g * 1). Per block row:
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
                        if (k < K)                                                            \
                            ((T *)(block + offsets[k]))[c] = v[c];                            \
                    }                                                                         \
                }                                                                             \
    }

BLOCK_SCATTER(float, unsigned char, block_scatter_fb)
BLOCK_SCATTER(float, int, block_scatter_fi)
BLOCK_SCATTER(double, unsigned char, block_scatter_db)
BLOCK_SCATTER(double, int, block_scatter_di)

static PyObject *
host_block_scatter(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array g, index, gate, out;
    Py_ssize_t *offsets, kh, kw, i, j;
    void *gated;
    char gk, ik;
    int d, has_gate;
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
    for (d = 0; d < 4; d++) {
        Py_ssize_t want = out.view.shape[d < 2 ? d : d + 1 + (d == 3)];
        if (g.view.shape[d] != want || index.view.shape[d] != want ||
            (has_gate && gate.view.shape[d] != want)) {
            PyErr_SetString(PyExc_ValueError, "block_scatter: g/index/gate do not match out");
            goto fail;
        }
    }
    if (!unit_last(&g) || !unit_last(&index) || !unit_last(&out) ||
        (has_gate && !unit_last(&gate))) {
        PyErr_SetString(PyExc_ValueError, "block_scatter: the channel axis must be contiguous");
        goto fail;
    }
    kh = out.view.shape[2];
    kw = out.view.shape[4];
    offsets = PyMem_Malloc((kh * kw > 0 ? kh * kw : 1) * sizeof(Py_ssize_t));
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

/* Window geometry of a 2-D convolution: kernel, stride, dilation, top/left padding. */
typedef struct {
    Py_ssize_t kh, kw, sh, sw, dh, dw, pt, pl;
} Geometry;

static int
parse_geometry(PyObject *const *args, Geometry *g)
{
    Py_ssize_t *fields[8] = {&g->kh, &g->kw, &g->sh, &g->sw, &g->dh, &g->dw, &g->pt, &g->pl};
    int i;
    for (i = 0; i < 8; i++) {
        *fields[i] = PyLong_AsSsize_t(args[i]);
        if (*fields[i] == -1 && PyErr_Occurred())
            return -1;
    }
    if (g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 || g->dh <= 0 || g->dw <= 0) {
        PyErr_SetString(PyExc_ValueError, "im2col: kernel, stride and dilation must be >= 1");
        return -1;
    }
    return 0;
}

/* im2col: cols (N*OH*OW, kh*kw*C) = every window of x (N, H, W, C), a row per output pixel in
 * (kernel row, kernel column, channel) order, zeros where a window reaches the padding (the
 * padded image is never built). Writes cols in memory order. */
#define IM2COL(T, NAME)                                                                       \
    WIDE static void NAME(const Array *x, const Array *cols, const Geometry *g,               \
                          Py_ssize_t oh_n, Py_ssize_t ow_n)                                   \
    {                                                                                         \
        const Py_ssize_t *s = x->view.shape, *xs = x->view.strides;                           \
        Py_ssize_t n, oh, ow, i, j, c, H = s[1], W = s[2], C = s[3];                          \
        T *restrict out = (T *)cols->view.buf;                                                \
        for (n = 0; n < s[0]; n++)                                                            \
            for (oh = 0; oh < oh_n; oh++)                                                     \
                for (ow = 0; ow < ow_n; ow++)                                                 \
                    for (i = 0; i < g->kh; i++) {                                             \
                        Py_ssize_t h = oh * g->sh + i * g->dh - g->pt;                        \
                        for (j = 0; j < g->kw; j++, out += C) {                               \
                            Py_ssize_t w = ow * g->sw + j * g->dw - g->pl;                    \
                            const T *restrict src;                                            \
                            if (h < 0 || h >= H || w < 0 || w >= W) {                         \
                                for (c = 0; c < C; c++)                                       \
                                    out[c] = 0;                                               \
                                continue;                                                     \
                            }                                                                 \
                            src = (const T *)PTR(x, n * xs[0] + h * xs[1] + w * xs[2]);       \
                            for (c = 0; c < C; c++)                                           \
                                out[c] = src[c];                                              \
                        }                                                                     \
                    }                                                                         \
    }

IM2COL(float, im2col_f)
IM2COL(double, im2col_d)

/* col2im_add: image (N, H, W, C) += every window's columns (N*OH*OW, kh*kw*C), the adjoint of
 * im2col; columns that fall in the padding are dropped. One kernel offset at a time, in order
 * (as NumPy's one strided add per offset), so every pixel sums its terms in the same order. */
#define COL2IM_ADD(T, NAME)                                                                   \
    WIDE static void NAME(const Array *cols, const Array *image, const Geometry *g,           \
                          Py_ssize_t oh_n, Py_ssize_t ow_n)                                   \
    {                                                                                         \
        const Py_ssize_t *s = image->view.shape, *is = image->view.strides;                   \
        Py_ssize_t n, oh, ow, i, j, c, H = s[1], W = s[2], C = s[3];                          \
        Py_ssize_t K = g->kh * g->kw * C;                                                     \
        for (i = 0; i < g->kh; i++)                                                           \
            for (j = 0; j < g->kw; j++) {                                                     \
                const T *restrict col = (const T *)cols->view.buf + (i * g->kw + j) * C;      \
                for (n = 0; n < s[0]; n++)                                                    \
                    for (oh = 0; oh < oh_n; oh++) {                                           \
                        Py_ssize_t h = oh * g->sh + i * g->dh - g->pt;                        \
                        const T *restrict row = col + (n * oh_n + oh) * ow_n * K;             \
                        if (h < 0 || h >= H)                                                  \
                            continue;                                                         \
                        for (ow = 0; ow < ow_n; ow++) {                                       \
                            Py_ssize_t w = ow * g->sw + j * g->dw - g->pl;                    \
                            T *restrict dst;                                                  \
                            if (w < 0 || w >= W)                                              \
                                continue;                                                     \
                            dst = (T *)PTR(image, n * is[0] + h * is[1] + w * is[2]);         \
                            for (c = 0; c < C; c++)                                           \
                                dst[c] += row[ow * K + c];                                    \
                        }                                                                     \
                    }                                                                         \
            }                                                                                 \
    }

COL2IM_ADD(float, col2im_add_f)
COL2IM_ADD(double, col2im_add_d)

/* The checks both entry points share: an (N, H, W, C) image with a contiguous channel axis and
 * C-contiguous (N*OH*OW, kh*kw*C) columns of the same float dtype. */
static int
check_windows(Array *image, Array *cols, const Geometry *g, Py_ssize_t oh, Py_ssize_t ow,
              const char *op)
{
    const Py_ssize_t *s = image->view.shape;
    char k = kind_of(image);
    if ((k != 'f' && k != 'd') || kind_of(cols) != k) {
        PyErr_Format(PyExc_TypeError, "%s: float32 or float64 image and columns", op);
        return -1;
    }
    if (oh < 0 || ow < 0 || cols->view.shape[0] != s[0] * oh * ow ||
        cols->view.shape[1] != g->kh * g->kw * s[3]) {
        PyErr_Format(PyExc_ValueError, "%s: columns of shape (%zd, %zd) do not fit the image",
                     op, cols->view.shape[0], cols->view.shape[1]);
        return -1;
    }
    if (!unit_last(image) || !PyBuffer_IsContiguous(&cols->view, 'C')) {
        PyErr_Format(PyExc_ValueError, "%s: a contiguous channel axis and C-ordered columns",
                     op);
        return -1;
    }
    return 0;
}

static PyObject *
host_windows(PyObject *const *args, Py_ssize_t nargs, int gather)
{
    const char *op = gather ? "im2col" : "col2im_add";
    Array image, cols;
    Geometry g;
    Py_ssize_t oh, ow;
    image.held = cols.held = 0;
    if (nargs != 12) {
        PyErr_Format(PyExc_TypeError, "%s(image, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)",
                     op);
        return NULL;
    }
    if (parse_geometry(args + 2, &g) < 0)
        return NULL;
    oh = PyLong_AsSsize_t(args[10]);
    ow = PyLong_AsSsize_t(args[11]);
    if ((oh == -1 || ow == -1) && PyErr_Occurred())
        return NULL;
    if (get_array(args[0], &image, 4, !gather, op) < 0 ||
        get_array(args[1], &cols, 2, gather, op) < 0 ||
        check_windows(&image, &cols, &g, oh, ow, op) < 0) {
        release(&image);
        release(&cols);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (gather)
        (kind_of(&image) == 'f' ? im2col_f : im2col_d)(&image, &cols, &g, oh, ow);
    else
        (kind_of(&image) == 'f' ? col2im_add_f : col2im_add_d)(&cols, &image, &g, oh, ow);
    Py_END_ALLOW_THREADS
    release(&image);
    release(&cols);
    Py_RETURN_NONE;
}

static PyObject *
host_im2col(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return host_windows(args, nargs, 1);
}

static PyObject *
host_col2im_add(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return host_windows(args, nargs, 0);
}

static PyMethodDef kernel_methods[] = {
    {"block_max", (PyCFunction)(void (*)(void))host_block_max, METH_FASTCALL,
     "block_max(blocks, best, index, relu): max (first-max offset) over disjoint blocks."},
    {"block_scatter", (PyCFunction)(void (*)(void))host_block_scatter, METH_FASTCALL,
     "block_scatter(g, index, gate, out): g at each block's first maximum, zeros elsewhere."},
    {"im2col", (PyCFunction)(void (*)(void))host_im2col, METH_FASTCALL,
     "im2col(image, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow): channels-last windows."},
    {"col2im_add", (PyCFunction)(void (*)(void))host_col2im_add, METH_FASTCALL,
     "col2im_add(image, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow): image += windows."},
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
