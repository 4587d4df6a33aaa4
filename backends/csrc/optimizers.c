/* Optimizer steps in one pass over the parameter (backends/kernels/optimizers.py has the NumPy
 * bodies they follow, rounding step for rounding step: every product and sum is rounded to the
 * parameter's dtype in the same order, and the extension is built without FMA contraction, so
 * both give the same bits). */
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

/* A C-contiguous buffer of `obj` (writable if asked) into `a`; the caller releases it. */
static int
contiguous(PyObject *obj, Array *a, int writable)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    a->held = 0;
    if (PyObject_GetBuffer(obj, &a->view, flags) < 0)
        return -1;
    a->held = 1;
    return 0;
}

PyObject *
host_sgd(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array p = {0}, g = {0}, buf = {0};
    double scalars[5];
    int nesterov, first, with_buf, i;
    char k;
    PyObject *result = NULL;
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError,
                        "sgd(p, g, buf, lr, sign, l2, momentum, damp_c, nesterov, first)");
        return NULL;
    }
    for (i = 0; i < 5; i++) {
        scalars[i] = PyFloat_AsDouble(args[3 + i]);
        if (scalars[i] == -1.0 && PyErr_Occurred())
            return NULL;
    }
    if ((nesterov = PyObject_IsTrue(args[8])) < 0 || (first = PyObject_IsTrue(args[9])) < 0)
        return NULL;
    with_buf = args[2] != Py_None;
    if (contiguous(args[0], &p, 1) < 0 || contiguous(args[1], &g, 0) < 0 ||
        (with_buf && contiguous(args[2], &buf, 1) < 0))
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
