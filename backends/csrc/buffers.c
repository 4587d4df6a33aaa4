/* Arrays through the buffer protocol: dimensions, dtype kind, a contiguous last axis. */
#include <stdint.h>

#include "host_kernels.h"

/* Whether the data and every stride are multiples of the item size: the loops read items
 * through typed pointers, which a misaligned buffer (NumPy makes them from an offset into
 * bytes) would make undefined. Raises ValueError if not. */
static int
check_aligned(Array *a, const char *what)
{
    Py_ssize_t size = a->view.itemsize, d;
    int ok = size <= 1 || (uintptr_t)a->view.buf % (uintptr_t)size == 0;
    for (d = 0; ok && a->view.strides != NULL && d < a->view.ndim; d++)
        ok = size <= 1 || a->view.strides[d] % size == 0;
    if (!ok)
        PyErr_Format(PyExc_ValueError, "%s: misaligned data (items must lie at multiples of "
                     "their size)", what);
    return ok ? 0 : -1;
}

int
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
    return check_aligned(a, what);
}

/* A C-contiguous buffer of `obj` (writable if asked), any number of dimensions. */
int
get_contiguous(PyObject *obj, Array *a, int writable)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    a->held = 0;
    if (PyObject_GetBuffer(obj, &a->view, flags) < 0)
        return -1;
    a->held = 1;
    return check_aligned(a, "host kernels");
}

void
release(Array *a)
{
    if (a->held)
        PyBuffer_Release(&a->view);
    a->held = 0;
}

/* 'f', 'd', 'B' (uint8), 'i' (int32) or 'q' (int64); anything else is 0. */
char
kind_of(Array *a)
{
    const char *f = a->view.format;
    if (f == NULL)
        return 'B';
    if (f[0] == '<' || f[0] == '=' || f[0] == '@')
        f++;
    if (f[0] == '\0' || f[1] != '\0')
        return 0;
    if ((f[0] == 'f' && a->view.itemsize == 4) || (f[0] == 'd' && a->view.itemsize == 8) ||
        (f[0] == 'B' && a->view.itemsize == 1))
        return f[0];
    if ((f[0] == 'i' || f[0] == 'l') && a->view.itemsize == 4)
        return 'i';
    if ((f[0] == 'q' || f[0] == 'l') && a->view.itemsize == 8)
        return 'q';
    return 0;
}

int
mul_size(Py_ssize_t a, Py_ssize_t b, Py_ssize_t *out)
{
    if (a < 0 || b < 0 || (a != 0 && b > PY_SSIZE_T_MAX / a))
        return -1;
    *out = a * b;
    return 0;
}

/* Whether the last axis of every array is contiguous (the loops below rely on it). */
int
unit_last(const Array *a)
{
    return a->view.strides[a->view.ndim - 1] == a->view.itemsize;
}

/* A strided buffer of `obj`, or 0 with no exception where `obj` exports none (then the caller
 * takes NumPy's path). */
int
try_buffer(PyObject *obj, Array *a, int writable)
{
    int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    a->held = 0;
    if (PyObject_GetBuffer(obj, &a->view, flags) < 0) {
        PyErr_Clear();
        return 0;
    }
    a->held = 1;
    return 1;
}

/* Whether `a` is C-contiguous, aligned for its item size and of kind `k`. */
int
dense_of_kind(Array *a, char k)
{
    return kind_of(a) == k && PyBuffer_IsContiguous(&a->view, 'C') &&
           ((uintptr_t)a->view.buf % (uintptr_t)a->view.itemsize) == 0;
}

/* Whether `a` and `b` have one shape (not only one size: NumPy would broadcast the others). */
int
same_shape(const Array *a, const Array *b)
{
    int d;
    if (a->view.ndim != b->view.ndim || a->view.len != b->view.len)
        return 0;
    for (d = 0; d < a->view.ndim; d++) {
        if (a->view.shape[d] != b->view.shape[d])
            return 0;
    }
    return 1;
}
