/* Layer normalisation over the rows of float32 (R, n) arrays, forward and the input's gradient,
 * one pass over each row (backends/kernels/normalization.py has the NumPy bodies).
 *
 * Like softmax.c these cannot give the NumPy body's bits: its row sums are BLAS GEMVs with a
 * column of ones, summed in an order BLAS picks. The loops take the row statistics in double
 * (the sums in eight fixed partial sums, so that they vectorise; the variance from the centred
 * row, as the NumPy body) and round once to float32, so they are the more accurate of the two;
 * docs/kernels.md states how far apart they may be and tests/backends/test_results_agree.py
 * holds them to it. What follows the statistics (`xhat * w + b`) is rounded as the NumPy body
 * rounds it. Float64 arrays take the NumPy body (in double the loops would be no more accurate,
 * only different), so float64 results are the same bits on both builds. */
#include <math.h>

#include "host_kernels.h"

/* The sum of (a - mean)^2 over a[0..n), in the same order. */
static inline double
row_square_sum(const float *restrict a, double mean, Py_ssize_t n)
{
    double part[LANES] = {0};
    double total = 0, d;
    Py_ssize_t j, k, full = n - n % LANES;
    for (j = 0; j < full; j += LANES)
        for (k = 0; k < LANES; k++) {
            d = (double)a[j + k] - mean;
            part[k] += d * d;
        }
    for (k = 0; k < LANES; k++)
        total += part[k];
    for (j = full; j < n; j++) {
        d = (double)a[j] - mean;
        total += d * d;
    }
    return total;
}

/* g = gy * w (rounded to float, as the NumPy body's product; gy where w is NULL) into `g` (the
 * row of gx, overwritten next), and the sums of g and of g * xhat in the order of `row_sum`. */
static inline void
grad_sums(const float *restrict gy, const float *restrict w, const float *restrict xh,
          float *restrict g, Py_ssize_t n, double *sum_g, double *sum_gx)
{
    double pg[LANES] = {0}, px[LANES] = {0};
    double tg = 0, tx = 0;
    Py_ssize_t j, k, full = n - n % LANES;
    if (w != NULL)
        for (j = 0; j < n; j++)
            g[j] = gy[j] * w[j];
    else
        memcpy(g, gy, (size_t)n * sizeof(float));
    for (j = 0; j < full; j += LANES)
        for (k = 0; k < LANES; k++) {
            pg[k] += (double)g[j + k];
            px[k] += (double)g[j + k] * (double)xh[j + k];
        }
    for (k = 0; k < LANES; k++) {
        tg += pg[k];
        tx += px[k];
    }
    for (j = full; j < n; j++) {
        tg += (double)g[j];
        tx += (double)g[j] * (double)xh[j];
    }
    *sum_g = tg;
    *sum_gx = tx;
}

/* Per row: mean and biased variance in double, rstd = 1 / sqrt(var + eps), xhat = (x - mean)
 * rstd rounded once, y = xhat * w + b (each step rounded to float, as NumPy's passes). */
WIDE static void
layer_norm_f(const float *restrict x, const float *restrict w, const float *restrict b,
             double eps, float *restrict y, float *restrict xhat, float *restrict rstd,
             Py_ssize_t rows, Py_ssize_t n)
{
    Py_ssize_t i, j;
    for (i = 0; i < rows; i++) {
        const float *xr = x + i * n;
        float *yr = y + i * n, *hr = xhat + i * n;
        double mean = row_sum(xr, n) / (double)n;
        double r = 1.0 / sqrt(row_square_sum(xr, mean, n) / (double)n + eps);
        rstd[i] = (float)r;
        for (j = 0; j < n; j++)
            hr[j] = (float)(((double)xr[j] - mean) * r);
        if (w != NULL && b != NULL)
            for (j = 0; j < n; j++)
                yr[j] = hr[j] * w[j] + b[j];
        else if (w != NULL)
            for (j = 0; j < n; j++)
                yr[j] = hr[j] * w[j];
        else if (b != NULL)
            for (j = 0; j < n; j++)
                yr[j] = hr[j] + b[j];
        else
            memcpy(yr, hr, (size_t)n * sizeof(float));
    }
}

/* Per row, with g = gy * w: gx = rstd (g - mean(g) - xhat mean(g xhat)), the means in double
 * and gx rounded once (where gx is not NULL; g lives in gx's row meanwhile).
 * Where gw / gb are not NULL, the columns' sums of gy xhat and of gy over the rows, in double
 * (`acc`: 2n of them, zeroed here), rounded once. */
WIDE static void
layer_norm_grad_f(const float *restrict gy, const float *restrict xhat,
                  const float *restrict w, const float *restrict rstd, float *restrict gx,
                  float *restrict gw, float *restrict gb, double *restrict acc,
                  Py_ssize_t rows, Py_ssize_t n)
{
    Py_ssize_t i, j;
    double *acc_w = acc, *acc_b = acc + n;
    if (gw != NULL || gb != NULL)
        memset(acc, 0, 2 * (size_t)n * sizeof(double));
    for (i = 0; i < rows; i++) {
        const float *gyr = gy + i * n, *hr = xhat + i * n;
        if (gw != NULL)
            for (j = 0; j < n; j++)
                acc_w[j] += (double)gyr[j] * (double)hr[j];
        if (gb != NULL)
            for (j = 0; j < n; j++)
                acc_b[j] += (double)gyr[j];
        if (gx != NULL) {
            float *gr = gx + i * n;
            double sum_g, sum_gx, mg, mgx, r = (double)rstd[i];
            grad_sums(gyr, w, hr, gr, n, &sum_g, &sum_gx);
            mg = sum_g / (double)n;
            mgx = sum_gx / (double)n;
            for (j = 0; j < n; j++)
                gr[j] = (float)((((double)gr[j] - mg) - (double)hr[j] * mgx) * r);
        }
    }
    if (gw != NULL)
        for (j = 0; j < n; j++)
            gw[j] = (float)acc_w[j];
    if (gb != NULL)
        for (j = 0; j < n; j++)
            gb[j] = (float)acc_b[j];
}

/* A buffer of `obj` that is C-contiguous, aligned float32 of `count` items (or None where
 * `optional`: then a->held stays 0); 0 (declined, no exception) otherwise. */
static int
dense_floats_of(PyObject *obj, Array *a, Py_ssize_t count, int writable, int optional)
{
    if (optional && obj == Py_None)
        return 1;
    if (!try_buffer(obj, a, writable))
        return 0;
    return dense_of_kind(a, 'f') && ITEMS(a) == count;
}

/* The (rows, n) shape of x: a C-contiguous aligned float32 array of 2 dimensions, n >= 1. */
static int
rows_of(PyObject *obj, Array *x, Py_ssize_t *rows, Py_ssize_t *n)
{
    if (!try_buffer(obj, x, 0) || !dense_of_kind(x, 'f') || x->view.ndim != 2 ||
        x->view.shape[1] < 1)
        return 0;
    *rows = x->view.shape[0];
    *n = x->view.shape[1];
    return 1;
}

PyObject *
host_layer_norm(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array x = {0}, w = {0}, b = {0}, y = {0}, xhat = {0}, rstd = {0};
    Py_ssize_t rows = 0, n = 0, items = 0;
    double eps;
    PyObject *result = Py_False;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "layer_norm(x, w, b, eps, y, xhat, rstd)");
        return NULL;
    }
    eps = PyFloat_AsDouble(args[3]);
    if (eps == -1.0 && PyErr_Occurred())
        return NULL;
    /* Anything but what the loop takes: False, nothing written (the NumPy body runs). */
    if (!rows_of(args[0], &x, &rows, &n) || mul_size(rows, n, &items) < 0 ||
        !dense_floats_of(args[1], &w, n, 0, 1) || !dense_floats_of(args[2], &b, n, 0, 1) ||
        !dense_floats_of(args[4], &y, items, 1, 0) ||
        !dense_floats_of(args[5], &xhat, items, 1, 0) ||
        !dense_floats_of(args[6], &rstd, rows, 1, 0))
        goto done;
    Py_BEGIN_ALLOW_THREADS
    layer_norm_f(x.view.buf, w.held ? w.view.buf : NULL, b.held ? b.view.buf : NULL, eps,
                 y.view.buf, xhat.view.buf, rstd.view.buf, rows, n);
    Py_END_ALLOW_THREADS
    result = Py_True;
done:
    release(&rstd);
    release(&xhat);
    release(&y);
    release(&b);
    release(&w);
    release(&x);
    return Py_NewRef(result);
}

PyObject *
host_layer_norm_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array gy = {0}, xhat = {0}, w = {0}, rstd = {0}, gx = {0}, gw = {0}, gb = {0};
    Py_ssize_t rows = 0, n = 0, items = 0;
    double *acc = NULL;
    PyObject *result = Py_False;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "layer_norm_grad(gy, xhat, w, rstd, gx, gw, gb)");
        return NULL;
    }
    if (!rows_of(args[0], &gy, &rows, &n) || mul_size(rows, n, &items) < 0 ||
        !dense_floats_of(args[1], &xhat, items, 0, 0) ||
        !dense_floats_of(args[2], &w, n, 0, 1) || !dense_floats_of(args[3], &rstd, rows, 0, 0) ||
        !dense_floats_of(args[4], &gx, items, 1, 1) || !dense_floats_of(args[5], &gw, n, 1, 1) ||
        !dense_floats_of(args[6], &gb, n, 1, 1))
        goto done;
    if (gw.held || gb.held) {
        acc = PyMem_Malloc(2 * (size_t)n * sizeof(double)); /* n < 2^60: a buffer's items */
        if (acc == NULL) {
            PyErr_NoMemory();
            result = NULL;
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    layer_norm_grad_f(gy.view.buf, xhat.view.buf, w.held ? w.view.buf : NULL, rstd.view.buf,
                      gx.held ? gx.view.buf : NULL, gw.held ? gw.view.buf : NULL,
                      gb.held ? gb.view.buf : NULL, acc, rows, n);
    Py_END_ALLOW_THREADS
    result = Py_True;
done:
    PyMem_Free(acc);
    release(&gb);
    release(&gw);
    release(&gx);
    release(&rstd);
    release(&w);
    release(&xhat);
    release(&gy);
    return result == NULL ? NULL : Py_NewRef(result);
}
