/* Optimizer steps in one pass over the parameter (backends/kernels/optimizers.py has the NumPy
 * bodies they follow, rounding step for rounding step: every product and sum is rounded to the
 * parameter's dtype in the same order, and the extension is built without FMA contraction, so
 * both give the same bits). */
#include <math.h>

#include "host_kernels.h"

/* sgd: d = g * sign (+ p * l2 where l2 != 0); without a momentum buffer p -= d * lr; with one
 * buf = d on the first step, else buf * momentum + d * damp_c, and then
 * p -= (buf * momentum + d) * lr (nesterov) or buf * lr. */
#define SGD(T, NAME)                                                                          \
    WIDE static void NAME(T *restrict p, const T *restrict g, T *restrict buf, Py_ssize_t n,  \
                          double lr_, double sign_, double l2_, double momentum_,             \
                          double damp_c_, int nesterov, int first)                            \
    {                                                                                         \
        const T lr = (T)lr_, sign = (T)sign_, l2 = (T)l2_, momentum = (T)momentum_;           \
        const T damp_c = (T)damp_c_;                                                          \
        Py_ssize_t i;                                                                         \
        if (buf == NULL && l2_ == 0) {                                                        \
            for (i = 0; i < n; i++)                                                           \
                p[i] = p[i] - (g[i] * sign) * lr;                                             \
            return;                                                                           \
        }                                                                                     \
        if (buf == NULL) {                                                                    \
            for (i = 0; i < n; i++)                                                           \
                p[i] = p[i] - (g[i] * sign + p[i] * l2) * lr;                                 \
            return;                                                                           \
        }                                                                                     \
        for (i = 0; i < n; i++) {                                                             \
            T d = g[i] * sign, b;                                                             \
            if (l2_ != 0)                                                                     \
                d = d + p[i] * l2;                                                            \
            b = first ? d : buf[i] * momentum + d * damp_c;                                   \
            buf[i] = b;                                                                       \
            p[i] = p[i] - (nesterov ? (b * momentum + d) * lr : b * lr);                      \
        }                                                                                     \
    }

SGD(float, sgd_f)
SGD(double, sgd_d)

/* adam: p *= decay (where decay != 1), d = g * sign (+ p * l2 where l2 != 0),
 * m = m * beta1 + d * c1, v = v * beta2 + (d * d) * c2, vmax = max(vmax, v) (amsgrad, NaN
 * propagating as NumPy's maximum), p -= (m / (sqrt(v or vmax) + eps_hat)) * step_size. */
#define ADAM(T, NAME, SQRT)                                                                   \
    WIDE static void NAME(T *restrict p, const T *restrict g, T *restrict m, T *restrict v,    \
                          T *restrict vmax, Py_ssize_t n, const double *s)                    \
    {                                                                                         \
        const T sign = (T)s[0], l2 = (T)s[1], decay = (T)s[2], beta1 = (T)s[3];               \
        const T c1 = (T)s[4], beta2 = (T)s[5], c2 = (T)s[6], step_size = (T)s[7];             \
        const T eps_hat = (T)s[8];                                                            \
        const int decayed = s[2] != 1.0, coupled = s[1] != 0;                                 \
        Py_ssize_t i;                                                                         \
        for (i = 0; i < n; i++) {                                                             \
            T pv = decayed ? p[i] * decay : p[i], d = g[i] * sign, mv, vv, den;               \
            if (coupled)                                                                      \
                d = d + pv * l2;                                                              \
            mv = m[i] * beta1 + d * c1;                                                       \
            vv = v[i] * beta2 + (d * d) * c2;                                                 \
            m[i] = mv;                                                                        \
            v[i] = vv;                                                                        \
            if (vmax != NULL) {                                                               \
                T old = vmax[i];                                                              \
                vv = (old != old || old > vv) ? old : vv;                                     \
                vmax[i] = vv;                                                                 \
            }                                                                                 \
            den = SQRT(vv) + eps_hat;                                                         \
            p[i] = pv - (mv / den) * step_size;                                               \
        }                                                                                     \
    }

ADAM(float, adam_f, sqrtf)
ADAM(double, adam_d, sqrt)

/* The hyperparameters: `count` Python numbers as doubles. */
static int
doubles(PyObject *const *args, int count, double *out)
{
    int i;
    for (i = 0; i < count; i++) {
        out[i] = PyFloat_AsDouble(args[i]);
        if (out[i] == -1.0 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

PyObject *
host_sgd(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array p = {0}, g = {0}, buf = {0};
    double scalars[5];
    int nesterov, first, with_buf;
    char k;
    PyObject *result = NULL;
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError,
                        "sgd(p, g, buf, lr, sign, l2, momentum, damp_c, nesterov, first)");
        return NULL;
    }
    if (doubles(args + 3, 5, scalars) < 0)
        return NULL;
    if ((nesterov = PyObject_IsTrue(args[8])) < 0 || (first = PyObject_IsTrue(args[9])) < 0)
        return NULL;
    with_buf = args[2] != Py_None;
    if (get_contiguous(args[0], &p, 1) < 0 || get_contiguous(args[1], &g, 0) < 0 ||
        (with_buf && get_contiguous(args[2], &buf, 1) < 0))
        goto done;
    k = kind_of(&p);
    if ((k != 'f' && k != 'd') || kind_of(&g) != k || (with_buf && kind_of(&buf) != k)) {
        PyErr_SetString(PyExc_TypeError, "sgd: float32 or float64 arrays of one dtype");
        goto done;
    }
    if (g.view.len != p.view.len || (with_buf && buf.view.len != p.view.len)) {
        PyErr_SetString(PyExc_ValueError, "sgd: arrays of one size");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    if (k == 'f')
        sgd_f(p.view.buf, g.view.buf, with_buf ? buf.view.buf : NULL,
              p.view.len / (Py_ssize_t)sizeof(float), scalars[0], scalars[1], scalars[2],
              scalars[3], scalars[4], nesterov, first);
    else
        sgd_d(p.view.buf, g.view.buf, with_buf ? buf.view.buf : NULL,
              p.view.len / (Py_ssize_t)sizeof(double), scalars[0], scalars[1], scalars[2],
              scalars[3], scalars[4], nesterov, first);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release(&buf);
    release(&g);
    release(&p);
    return result;
}

PyObject *
host_adam(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array a[5];
    double scalars[9];
    int i, with_max;
    char k;
    PyObject *result = NULL;
    for (i = 0; i < 5; i++)
        a[i].held = 0;
    if (nargs != 14) {
        PyErr_SetString(PyExc_TypeError, "adam(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, sign, "
                                         "l2, decay, beta1, c1, beta2, c2, step_size, eps_hat)");
        return NULL;
    }
    if (doubles(args + 5, 9, scalars) < 0)
        return NULL;
    with_max = args[4] != Py_None;
    for (i = 0; i < 4 + with_max; i++)
        if (get_contiguous(args[i], &a[i], i != 1) < 0)
            goto done;
    k = kind_of(&a[0]);
    for (i = 0; i < 4 + with_max; i++) {
        if ((k != 'f' && k != 'd') || kind_of(&a[i]) != k) {
            PyErr_SetString(PyExc_TypeError, "adam: float32 or float64 arrays of one dtype");
            goto done;
        }
        if (a[i].view.len != a[0].view.len) {
            PyErr_SetString(PyExc_ValueError, "adam: arrays of one size");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    if (k == 'f')
        adam_f(a[0].view.buf, a[1].view.buf, a[2].view.buf, a[3].view.buf,
               with_max ? a[4].view.buf : NULL, a[0].view.len / (Py_ssize_t)sizeof(float),
               scalars);
    else
        adam_d(a[0].view.buf, a[1].view.buf, a[2].view.buf, a[3].view.buf,
               with_max ? a[4].view.buf : NULL, a[0].view.len / (Py_ssize_t)sizeof(double),
               scalars);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    for (i = 4; i >= 0; i--)
        release(&a[i]);
    return result;
}
