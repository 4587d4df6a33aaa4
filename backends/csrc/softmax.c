/* Softmax cross-entropy over the rows of float32 (N, C) logits with class-index targets,
 * forward and gradient, one pass over each row (backends/kernels/softmax.py has the NumPy
 * bodies).
 *
 * Unlike the other loops these cannot give NumPy's bits: NumPy's exp and log are its own SIMD
 * routines. They compute in double (exp, log and the row sums) and round once to float32, so
 * they are more accurate than the float32 NumPy bodies and agree with them to within 8 float32
 * epsilons (docs/kernels.md; tests/backends/test_results_agree.py holds them to it). Float64
 * logits take the NumPy body: in double this loop's row sums (in order) would be no more
 * accurate than NumPy's pairwise ones, only different. */
#include <math.h>

#include "host_kernels.h"

/* Whether every class index lies in [0, c). */
static int
in_range(const long long *target, Py_ssize_t n, Py_ssize_t c)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++)
        if (target[i] < 0 || target[i] >= c)
            return 0;
    return 1;
}

/* Per row n: shift = max(x) (NaN if the row holds one), log_total = log(sum exp(x - shift)),
 * nll = (shift - x[target]) + log_total. Returns 0, or 1 without finishing where a target is
 * out of [0, C) (the caller takes the general path, which ignores or reports it). */
#define XENT(T, NAME)                                                                         \
    static int NAME(const T *x, const long long *target, T *shift, T *log_total, T *nll,      \
                    Py_ssize_t n, Py_ssize_t c)                                               \
    {                                                                                         \
        Py_ssize_t i, j;                                                                      \
        if (!in_range(target, n, c))                                                          \
            return 1;                                                                         \
        for (i = 0; i < n; i++) {                                                             \
            const T *row = x + i * c;                                                         \
            T m = row[0];                                                                     \
            double total = 0, lt;                                                             \
            for (j = 1; j < c; j++) {                                                         \
                if (row[j] != row[j]) {                                                       \
                    m = row[j];                                                               \
                    break;                                                                    \
                }                                                                             \
                if (row[j] > m)                                                               \
                    m = row[j];                                                               \
            }                                                                                 \
            for (j = 0; j < c; j++)                                                           \
                total += exp((double)row[j] - (double)m);                                     \
            lt = log(total);                                                                  \
            shift[i] = m;                                                                     \
            log_total[i] = (T)lt;                                                             \
            nll[i] = (T)(((double)m - (double)row[target[i]]) + lt);                          \
        }                                                                                     \
        return 0;                                                                             \
    }

XENT(float, xent_f)

/* gx[n, c] = scale[n] softmax(x)[n, c] - hot[n] (c == target[n]); `scale` and `hot` hold one
 * value per row, or one for all (a stride of 0). Returns 1, writing nothing, where a target is
 * out of [0, C). */
#define XENT_GRAD(T, NAME)                                                                    \
    static int NAME(const T *x, const long long *target, const T *shift, const T *log_total, \
                     const T *scale, Py_ssize_t scale_step, const T *hot, Py_ssize_t hot_step, \
                     T *gx, Py_ssize_t n, Py_ssize_t c)                                        \
    {                                                                                         \
        Py_ssize_t i, j;                                                                      \
        if (!in_range(target, n, c))                                                          \
            return 1;                                                                         \
        for (i = 0; i < n; i++) {                                                             \
            const T *row = x + i * c;                                                         \
            T *out = gx + i * c;                                                              \
            const double s = scale[i * scale_step];                                           \
            const double m = shift[i], lt = log_total[i];                                     \
            for (j = 0; j < c; j++)                                                           \
                out[j] = (T)(s * exp(((double)row[j] - m) - lt));                             \
            out[target[i]] = (T)((double)out[target[i]] - (double)hot[i * hot_step]);         \
        }                                                                                     \
        return 0;                                                                             \
    }

XENT_GRAD(float, xent_grad_f)

/* A C-contiguous buffer of `obj` of `kind` ('f', 'd', or 'q' for int64) and `count` items. */
static int
flat(PyObject *obj, Array *a, char kind, Py_ssize_t count, int writable, const char *what)
{
    if (get_contiguous(obj, a, writable) < 0)
        return -1;
    if (kind_of(a) != kind) {
        PyErr_Format(PyExc_TypeError, "%s: expected %s data", what,
                     kind == 'q' ? "int64" : kind == 'f' ? "float32" : "float64");
        return -1;
    }
    if (a->view.len != count * a->view.itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd items, got %zd", what, count,
                     a->view.len / a->view.itemsize);
        return -1;
    }
    return 0;
}

/* The (N, C) shape of the float32 logits `x`, and its dtype kind. */
static int
logits(PyObject *obj, Array *x, Py_ssize_t *n, Py_ssize_t *c, char *k)
{
    if (get_contiguous(obj, x, 0) < 0)
        return -1;
    *k = kind_of(x);
    if (*k != 'f' || x->view.ndim != 2 || x->view.shape[1] < 1) {
        PyErr_SetString(PyExc_TypeError,
                        "softmax_xent: float32 logits of shape (N, C), C >= 1");
        return -1;
    }
    *n = x->view.shape[0];
    *c = x->view.shape[1];
    return 0;
}

PyObject *
host_softmax_xent(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array x = {0}, t = {0}, shift = {0}, lt = {0}, nll = {0};
    Py_ssize_t n, c;
    char k;
    int bad = 0;
    PyObject *result = NULL;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "softmax_xent(x, target, shift, log_total, nll)");
        return NULL;
    }
    if (logits(args[0], &x, &n, &c, &k) < 0 || flat(args[1], &t, 'q', n, 0, "target") < 0 ||
        flat(args[2], &shift, k, n, 1, "shift") < 0 ||
        flat(args[3], &lt, k, n, 1, "log_total") < 0 || flat(args[4], &nll, k, n, 1, "nll") < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    bad = xent_f(x.view.buf, t.view.buf, shift.view.buf, lt.view.buf, nll.view.buf, n, c);
    Py_END_ALLOW_THREADS
    result = PyBool_FromLong(!bad);
done:
    release(&nll);
    release(&lt);
    release(&shift);
    release(&t);
    release(&x);
    return result;
}

PyObject *
host_softmax_xent_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array x = {0}, t = {0}, shift = {0}, lt = {0}, scale = {0}, hot = {0}, gx = {0};
    Py_ssize_t n, c, scale_step, hot_step;
    char k;
    int bad = 0;
    PyObject *result = NULL;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "softmax_xent_grad(x, target, shift, log_total, scale, hot, gx)");
        return NULL;
    }
    if (logits(args[0], &x, &n, &c, &k) < 0 || flat(args[1], &t, 'q', n, 0, "target") < 0 ||
        flat(args[2], &shift, k, n, 0, "shift") < 0 ||
        flat(args[3], &lt, k, n, 0, "log_total") < 0 ||
        flat(args[6], &gx, k, n * c, 1, "gx") < 0)
        goto done;
    /* scale and hot: one value per row, or a single one for every row */
    if (get_contiguous(args[4], &scale, 0) < 0 || get_contiguous(args[5], &hot, 0) < 0)
        goto done;
    if (kind_of(&scale) != k || kind_of(&hot) != k) {
        PyErr_SetString(PyExc_TypeError, "softmax_xent_grad: scale and hot in x's dtype");
        goto done;
    }
    scale_step = scale.view.len == scale.view.itemsize ? 0 : 1;
    hot_step = hot.view.len == hot.view.itemsize ? 0 : 1;
    if ((scale_step && scale.view.len != n * scale.view.itemsize) ||
        (hot_step && hot.view.len != n * hot.view.itemsize) ||
        (n > 0 && (scale.view.len == 0 || hot.view.len == 0))) {
        PyErr_SetString(PyExc_ValueError,
                        "softmax_xent_grad: scale and hot need one value, or one per row");
        goto done;
    }
    if (n > 0) {
        Py_BEGIN_ALLOW_THREADS
        bad = xent_grad_f(x.view.buf, t.view.buf, shift.view.buf, lt.view.buf, scale.view.buf,
                          scale_step, hot.view.buf, hot_step, gx.view.buf, n, c);
        Py_END_ALLOW_THREADS
    }
    if (bad) {
        PyErr_SetString(PyExc_IndexError, "softmax_xent_grad: a target is out of [0, C)");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    release(&gx);
    release(&hot);
    release(&scale);
    release(&lt);
    release(&shift);
    release(&t);
    release(&x);
    return result;
}
