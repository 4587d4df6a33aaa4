/* scatter_add_rows: target[index[i]] += values[i] over rows, in index order (the rule of
 * `weight[index]`, an embedding's backward). backends/kernels/indexing.py has the NumPy body,
 * `np.add.at`, which does the same additions in the same order (one element at a time, each
 * rounded to the dtype): the same bits, at a fraction of its per-element cost. */
#include "host_kernels.h"

#define SCATTER_ROWS(T, NAME)                                                                 \
    WIDE static void NAME(T *restrict target, const long long *restrict index,                \
                          const T *restrict values, Py_ssize_t n, Py_ssize_t rows,            \
                          Py_ssize_t width)                                                   \
    {                                                                                         \
        Py_ssize_t i, j;                                                                      \
        for (i = 0; i < n; i++) {                                                             \
            long long k = index[i] < 0 ? index[i] + rows : index[i];                          \
            T *out = target + (Py_ssize_t)k * width;                                          \
            const T *in = values + i * width;                                                 \
            for (j = 0; j < width; j++)                                                       \
                out[j] += in[j];                                                              \
        }                                                                                     \
    }

SCATTER_ROWS(float, scatter_rows_f)
SCATTER_ROWS(double, scatter_rows_d)

/* scatter_add_rows(target, index, values): target (V, ...) and values (N, ...) C-contiguous of
 * one float dtype, rows of one size, index N int64 in [-V, V) (NumPy's negative indices). True
 * when done; False, nothing written, for anything else (the NumPy body then runs, and raises
 * where an index is out of range). */
PyObject *
host_scatter_add_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array target = {0}, index = {0}, values = {0};
    Py_ssize_t rows, width, n, i, items;
    const long long *ix;
    char k;
    PyObject *result = Py_False;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "scatter_add_rows(target, index, values)");
        return NULL;
    }
    if (!try_buffer(args[0], &target, 1) || !try_buffer(args[1], &index, 0) ||
        !try_buffer(args[2], &values, 0))
        goto done;
    k = kind_of(&target);
    if ((k != 'f' && k != 'd') || !dense_of_kind(&target, k) || !dense_of_kind(&values, k) ||
        !dense_of_kind(&index, 'q') || target.view.ndim < 1 || target.view.shape[0] < 1)
        goto done;
    rows = target.view.shape[0];
    width = ITEMS(&target) / rows;
    n = ITEMS(&index);
    if (width < 1 || mul_size(n, width, &items) < 0 || ITEMS(&values) != items)
        goto done;
    ix = index.view.buf;
    for (i = 0; i < n; i++)
        if (ix[i] < -(long long)rows || ix[i] >= (long long)rows)
            goto done;
    if (items >= 16384) {
        Py_BEGIN_ALLOW_THREADS
        if (k == 'f')
            scatter_rows_f(target.view.buf, ix, values.view.buf, n, rows, width);
        else
            scatter_rows_d(target.view.buf, ix, values.view.buf, n, rows, width);
        Py_END_ALLOW_THREADS
    }
    else if (k == 'f')
        scatter_rows_f(target.view.buf, ix, values.view.buf, n, rows, width);
    else
        scatter_rows_d(target.view.buf, ix, values.view.buf, n, rows, width);
    result = Py_True;
done:
    release(&values);
    release(&index);
    release(&target);
    return Py_NewRef(result);
}
