/* A convolution's channels-last column matrix: im2col and col2im (backends/kernels/windows.py
 * has the NumPy bodies they follow). */
#include "host_kernels.h"

/* Window geometry of a 2-D convolution: kernel, stride, dilation, top/left padding. */
typedef struct {
    Py_ssize_t kh, kw, sh, sw, dh, dw, pt, pl;
} Geometry;

static int
parse_geometry(PyObject *const *args, Geometry *g, const char *op)
{
    Py_ssize_t *fields[8] = {&g->kh, &g->kw, &g->sh, &g->sw, &g->dh, &g->dw, &g->pt, &g->pl};
    int i;
    for (i = 0; i < 8; i++) {
        *fields[i] = PyLong_AsSsize_t(args[i]);
        if (*fields[i] == -1 && PyErr_Occurred())
            return -1;
    }
    if (g->kh <= 0 || g->kw <= 0 || g->sh <= 0 || g->sw <= 0 || g->dh <= 0 || g->dw <= 0) {
        PyErr_Format(PyExc_ValueError, "%s: kernel, stride and dilation must be >= 1", op);
        return -1;
    }
    if (g->pt < 0 || g->pl < 0) {
        PyErr_Format(PyExc_ValueError, "%s: padding must be >= 0", op);
        return -1;
    }
    return 0;
}

/* Whether the last window of `count` along an axis starts within Py_ssize_t: (count - 1) *
 * stride + (kernel - 1) * dilation fits, so no pixel coordinate the loops compute overflows
 * (they bounds-check every one against the image). */
static int
extent_fits(Py_ssize_t count, Py_ssize_t stride, Py_ssize_t kernel, Py_ssize_t dilation)
{
    Py_ssize_t a, b;
    if (count == 0)
        return 1;
    return mul_size(count - 1, stride, &a) == 0 && mul_size(kernel - 1, dilation, &b) == 0 &&
           a <= PY_SSIZE_T_MAX - b;
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
 * C-contiguous (N*OH*OW, kh*kw*C) columns of the same float dtype; the sizes in 64 bits with
 * overflow checks (a product that wraps around must not pass for the columns' shape). */
static int
check_windows(Array *image, Array *cols, const Geometry *g, Py_ssize_t oh, Py_ssize_t ow,
              const char *op)
{
    const Py_ssize_t *s = image->view.shape;
    Py_ssize_t rows, width;
    char k = kind_of(image);
    if ((k != 'f' && k != 'd') || kind_of(cols) != k) {
        PyErr_Format(PyExc_TypeError, "%s: float32 or float64 image and columns", op);
        return -1;
    }
    if (oh < 0 || ow < 0 || !extent_fits(oh, g->sh, g->kh, g->dh) ||
        !extent_fits(ow, g->sw, g->kw, g->dw)) {
        PyErr_Format(PyExc_ValueError, "%s: an output of %zd x %zd windows does not fit this "
                     "geometry", op, oh, ow);
        return -1;
    }
    if (mul_size(s[0], oh, &rows) < 0 || mul_size(rows, ow, &rows) < 0 ||
        mul_size(g->kh, g->kw, &width) < 0 || mul_size(width, s[3], &width) < 0) {
        PyErr_Format(PyExc_ValueError, "%s: the columns' size (N*OH*OW, kh*kw*C) overflows",
                     op);
        return -1;
    }
    if (cols->view.shape[0] != rows || cols->view.shape[1] != width) {
        PyErr_Format(PyExc_ValueError, "%s: columns of shape (%zd, %zd) do not fit the image "
                     "(expected (%zd, %zd))", op, cols->view.shape[0], cols->view.shape[1],
                     rows, width);
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
    if (parse_geometry(args + 2, &g, op) < 0)
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
    if (ITEMS(&cols) == 0) {  /* nothing to write or add (the loops could still be long) */
        release(&image);
        release(&cols);
        Py_RETURN_NONE;
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

PyObject *
host_im2col(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return host_windows(args, nargs, 1);
}

PyObject *
host_col2im_add(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return host_windows(args, nargs, 0);
}
