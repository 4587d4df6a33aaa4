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
    Py_buffer y, gy, gx;
    char k;
    int held = 0;
    PyObject *result = NULL;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "relu_grad(y, gy, gx)");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &y, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    held = 1;
    if (PyObject_GetBuffer(args[1], &gy, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    held = 2;
    if (PyObject_GetBuffer(args[2], &gx, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0)
        goto done;
    held = 3;
    {
        Array a = {y, 1}, b = {gy, 1}, c = {gx, 1};
        k = kind_of(&a);
        if ((k != 'f' && k != 'd') || kind_of(&b) != k || kind_of(&c) != k) {
            PyErr_SetString(PyExc_TypeError, "relu_grad: float32 or float64 arrays of one dtype");
            goto done;
        }
    }
    if (y.len != gy.len || y.len != gx.len) {
        PyErr_SetString(PyExc_ValueError, "relu_grad: arrays of one size");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    if (k == 'f')
        relu_grad_f(y.buf, gy.buf, gx.buf, y.len / (Py_ssize_t)sizeof(float));
    else
        relu_grad_d(y.buf, gy.buf, gx.buf, y.len / (Py_ssize_t)sizeof(double));
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    if (held >= 3)
        PyBuffer_Release(&gx);
    if (held >= 2)
        PyBuffer_Release(&gy);
    if (held >= 1)
        PyBuffer_Release(&y);
    return result;
}
