/* Activation gradients in one pass (backends/kernels/activations.py has the NumPy bodies they
 * follow). */
#include <stdint.h>

#include "fast_math.h"
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

/* GELU, tanh form: y = x s with s = (1 + tanh(u)) / 2 = 1 / (1 + exp(-2u)),
 * u = sqrt(2/pi) (x + 0.044715 x^3), and its gradient from the kept s (backends/kernels/
 * activations.py: `_gelu_sigmoid`, `gelu`, `gelu_grad`). The constants are the NumPy body's
 * Python floats (-2 sqrt(2/pi) 0.044715, 2 sqrt(2/pi), 6 sqrt(2/pi) 0.044715), cast to T as
 * NumPy casts them. */
#define GELU_K_CUBE -0.07135481627260025
#define GELU_K_LINEAR 1.5957691216057308
#define GELU_K_SLOPE 0.21406444881780076

/* The forward: -2u in the NumPy body's order and rounding (x * x, times the cubic constant,
 * minus the linear one, times x), then exp from fast_math.h (NumPy's own SIMD exp cannot be
 * called from C: this one is within a T ulp or two of it), then 1 / (1 + e) and x s as NumPy
 * rounds them. Past the exp's clamp (-2u > 88 in float, 708 in double; NumPy's exp overflows
 * at 88.7 and 709.8) s is 0, as NumPy's 1 / (1 + inf): gelu(-inf) is NaN (-inf * 0) in both. */
#define GELU_TANH(T, NAME, EXP, LIMIT)                                                         \
    WIDE static void NAME(const T *restrict x, T *restrict y, T *restrict s, Py_ssize_t n)    \
    {                                                                                         \
        Py_ssize_t i;                                                                         \
        for (i = 0; i < n; i++) {                                                             \
            T v = x[i];                                                                       \
            T t = v * v;                                                                      \
            T r;                                                                              \
            t = t * (T)GELU_K_CUBE;                                                           \
            t = t - (T)GELU_K_LINEAR;                                                         \
            t = t * v; /* -2u */                                                              \
            r = (T)1 / (EXP(t) + (T)1);                                                       \
            r = t > (T)LIMIT ? (T)0 : r;                                                      \
            s[i] = r;                                                                         \
            y[i] = v * r;                                                                     \
        }                                                                                     \
    }

GELU_TANH(float, gelu_tanh_f, fm_expf, 88)
GELU_TANH(double, gelu_tanh_d, fm_exp, 708)

/* The gradient: gx = gy s (1 + x (1 - s) 2u'(x)), 2u' = 2 sqrt(2/pi) (1 + 3 0.044715 x^2),
 * in the NumPy body's order (x * x, times the slope constant, plus the linear one, times x,
 * times 1 - s, plus 1, times s, times gy), each step rounded to T: given s, NumPy's bits. */
#define GELU_TANH_GRAD(T, NAME)                                                               \
    WIDE static void NAME(const T *restrict x, const T *restrict s, const T *restrict gy,     \
                          T *restrict gx, Py_ssize_t n)                                       \
    {                                                                                         \
        Py_ssize_t i;                                                                         \
        for (i = 0; i < n; i++) {                                                             \
            T v = x[i], si = s[i];                                                            \
            T t = v * v;                                                                      \
            t = t * (T)GELU_K_SLOPE;                                                          \
            t = t + (T)GELU_K_LINEAR;                                                         \
            t = t * v;                                                                        \
            t = t * ((T)1 - si);                                                              \
            t = t + (T)1;                                                                     \
            t = t * si;                                                                       \
            gx[i] = t * gy[i];                                                                \
        }                                                                                     \
    }

GELU_TANH_GRAD(float, gelu_tanh_grad_f)
GELU_TANH_GRAD(double, gelu_tanh_grad_d)

/* `count` buffers of `objs` (the last `writable` of them writable), all C-contiguous, aligned
 * and of one float dtype and shape: their kind ('f' or 'd'), or 0 with every buffer released
 * and no exception (the caller returns False and the NumPy body runs). */
static char
dense_floats(PyObject *const *objs, Array *arrays, int count, int writable)
{
    int i;
    char k = 0;
    for (i = 0; i < count; i++) {
        if (!try_buffer(objs[i], &arrays[i], i >= count - writable))
            goto declined;
        if (i == 0)
            k = kind_of(&arrays[0]);
        if ((k != 'f' && k != 'd') || !dense_of_kind(&arrays[i], k) ||
            !same_shape(&arrays[0], &arrays[i]))
            goto declined;
    }
    return k;
declined:
    for (i = 0; i < count; i++)
        release(&arrays[i]);
    return 0;
}

/* Above this many items a loop releases the GIL (it costs more than a small loop). */
#define GELU_NOGIL_ITEMS 16384

PyObject *
host_gelu_tanh(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array a[3] = {{0}};
    Py_ssize_t n;
    char k;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "gelu_tanh(x, y, s)");
        return NULL;
    }
    k = dense_floats(args, a, 3, 2);
    if (!k)
        Py_RETURN_FALSE;
    n = ITEMS(&a[0]);
    if (n >= GELU_NOGIL_ITEMS) {
        Py_BEGIN_ALLOW_THREADS
        if (k == 'f')
            gelu_tanh_f(a[0].view.buf, a[1].view.buf, a[2].view.buf, n);
        else
            gelu_tanh_d(a[0].view.buf, a[1].view.buf, a[2].view.buf, n);
        Py_END_ALLOW_THREADS
    }
    else if (k == 'f')
        gelu_tanh_f(a[0].view.buf, a[1].view.buf, a[2].view.buf, n);
    else
        gelu_tanh_d(a[0].view.buf, a[1].view.buf, a[2].view.buf, n);
    release(&a[2]);
    release(&a[1]);
    release(&a[0]);
    Py_RETURN_TRUE;
}

PyObject *
host_gelu_tanh_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array a[4] = {{0}};
    Py_ssize_t n;
    char k;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "gelu_tanh_grad(x, s, gy, gx)");
        return NULL;
    }
    k = dense_floats(args, a, 4, 1);
    if (!k)
        Py_RETURN_FALSE;
    n = ITEMS(&a[0]);
    if (n >= GELU_NOGIL_ITEMS) {
        Py_BEGIN_ALLOW_THREADS
        if (k == 'f')
            gelu_tanh_grad_f(a[0].view.buf, a[1].view.buf, a[2].view.buf, a[3].view.buf, n);
        else
            gelu_tanh_grad_d(a[0].view.buf, a[1].view.buf, a[2].view.buf, a[3].view.buf, n);
        Py_END_ALLOW_THREADS
    }
    else if (k == 'f')
        gelu_tanh_grad_f(a[0].view.buf, a[1].view.buf, a[2].view.buf, a[3].view.buf, n);
    else
        gelu_tanh_grad_d(a[0].view.buf, a[1].view.buf, a[2].view.buf, a[3].view.buf, n);
    release(&a[3]);
    release(&a[2]);
    release(&a[1]);
    release(&a[0]);
    Py_RETURN_TRUE;
}
