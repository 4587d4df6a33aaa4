/* Activation gradients in one pass (backends/kernels/activations.py has the NumPy bodies they
 * follow). */
#include <stdint.h>

#include "host_kernels.h"

/* relu_grad: gx = gy * (y > 0), NumPy's product with the boolean mask (a NaN or inf gy times 0
 * gives NaN, a negative one -0), over contiguous arrays of one dtype: one pass and no boolean
 * temporary. The mask is a select of constants, so the product is unconditional and the loop
 * vectorises (a select between gy and gy * 0 did not: under GCC's default -ftrapping-math it
 * may not compute gy * 0 where the source did not, and the loop ran 5x slower than NumPy's
 * two passes). */
#define RELU_GRAD(T, NAME)                                                                    \
    WIDE static void NAME(const T *restrict y, const T *restrict gy, T *restrict gx,          \
                          Py_ssize_t n)                                                       \
    {                                                                                         \
        Py_ssize_t i;                                                                         \
        for (i = 0; i < n; i++) {                                                             \
            T mask = y[i] > 0 ? (T)1 : (T)0; /* its own statement: AVX2 vectorises this */    \
            gx[i] = gy[i] * mask;                                                             \
        }                                                                                     \
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

/* tanh_grad: gx = gy * (1 - y * y) for y = tanh(x), in NumPy's order (y * y, 1 minus it, times
 * gy), each product rounded to T as NumPy's three passes round it (the kernels are built without
 * FMA contraction): the same bits in one pass and no temporary. */
#define TANH_GRAD(T, NAME)                                                                    \
    WIDE static void NAME(const T *restrict y, const T *restrict gy, T *restrict gx,          \
                          Py_ssize_t n)                                                       \
    {                                                                                         \
        Py_ssize_t i;                                                                         \
        for (i = 0; i < n; i++) {                                                             \
            T s = y[i] * y[i];                                                                \
            s = (T)1 - s;                                                                     \
            gx[i] = s * gy[i];                                                                \
        }                                                                                     \
    }

TANH_GRAD(float, tanh_grad_f)
TANH_GRAD(double, tanh_grad_d)

/* Releasing the GIL costs more than a small loop: only above this many items. */
#define TANH_GRAD_NOGIL_ITEMS 16384

PyObject *
host_tanh_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array y = {0}, gy = {0}, gx = {0};
    Py_ssize_t n;
    char k;
    PyObject *result = Py_False;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "tanh_grad(y, gy, gx)");
        return NULL;
    }
    /* Anything but three C-contiguous arrays of one float dtype and shape: False, untouched. */
    if (!try_buffer(args[0], &y, 0) || !try_buffer(args[1], &gy, 0) ||
        !try_buffer(args[2], &gx, 1))
        goto done;
    k = kind_of(&y);
    if ((k != 'f' && k != 'd') || !dense_of_kind(&y, k) || !dense_of_kind(&gy, k) ||
        !dense_of_kind(&gx, k) || !same_shape(&y, &gy) || !same_shape(&y, &gx))
        goto done;
    n = y.view.len / y.view.itemsize;
    if (n >= TANH_GRAD_NOGIL_ITEMS) {
        Py_BEGIN_ALLOW_THREADS
        if (k == 'f')
            tanh_grad_f(y.view.buf, gy.view.buf, gx.view.buf, n);
        else
            tanh_grad_d(y.view.buf, gy.view.buf, gx.view.buf, n);
        Py_END_ALLOW_THREADS
    }
    else if (k == 'f')
        tanh_grad_f(y.view.buf, gy.view.buf, gx.view.buf, n);
    else
        tanh_grad_d(y.view.buf, gy.view.buf, gx.view.buf, n);
    result = Py_True;
done:
    release(&gx);
    release(&gy);
    release(&y);
    return Py_NewRef(result);
}
