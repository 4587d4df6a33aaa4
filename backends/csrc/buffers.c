/* Arrays through the buffer protocol: dimensions, dtype kind, a contiguous last axis. */
#include "host_kernels.h"

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
    return 0;
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
    return 0;
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
    if (f[1] != '\0')
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

/* Whether the last axis of every array is contiguous (the loops below rely on it). */
int
unit_last(const Array *a)
{
    return a->view.strides[a->view.ndim - 1] == a->view.itemsize;
}
