/* Activation gradients in one pass (backends/kernels/activations.py has the NumPy bodies they
 * follow). */
#include "host_kernels.h"

/* relu_grad: gx = gy * (y > 0), written as a select (gy, or gy * 0: a NaN or inf gy stays NaN,
 * a negative one leaves -0, as NumPy's product with the boolean mask does), over contiguous
 * arrays of one dtype: one pass and no boolean temporary. */
#define RELU_GRAD(T, NAME)                                                                    \
    WIDE static void NAME(const T *restrict y, const T *restrict gy, T *restrict gx,          \
                          Py_ssize_t n)                                                       \
    {                                                                                         \
        Py_ssize_t i;                                                                         \
        for (i = 0; i < n; i++)                                                               \
            gx[i] = y[i] > 0 ? gy[i] : gy[i] * (T)0;                                          \
    }

RELU_GRAD(float, relu_grad_f)
RELU_GRAD(double, relu_grad_d)

PyObject *
host_relu_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array y = {0}, gy = {0}, gx = {0};
    char k;
    PyObject *result = NULL;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "relu_grad(y, gy, gx)");
        return NULL;
    }
    if (get_contiguous(args[0], &y, 0) < 0 || get_contiguous(args[1], &gy, 0) < 0 ||
        get_contiguous(args[2], &gx, 1) < 0)
        goto done;
    k = kind_of(&y);
    if ((k != 'f' && k != 'd') || kind_of(&gy) != k || kind_of(&gx) != k) {
        PyErr_SetString(PyExc_TypeError, "relu_grad: float32 or float64 arrays of one dtype");
        goto done;
    }
    if (y.view.len != gy.view.len || y.view.len != gx.view.len) {
        PyErr_SetString(PyExc_ValueError, "relu_grad: arrays of one size");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    if (k == 'f')
        relu_grad_f(y.view.buf, gy.view.buf, gx.view.buf,
                    y.view.len / (Py_ssize_t)sizeof(float));
    else
        relu_grad_d(y.view.buf, gy.view.buf, gx.view.buf,
                    y.view.len / (Py_ssize_t)sizeof(double));
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release(&gx);
    release(&gy);
    release(&y);
    return result;
}
