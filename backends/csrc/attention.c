/* The attention's softmax over the rows of float32 scores (..., L, S), in place, with an
 * optional causal mask (query i sees keys 0..i): autograd/ops/attention.py's `_probabilities`
 * has the NumPy body (the causal bias added, the row max, exp(s - max), the row sums as a
 * GEMV, the division), backends/kernels/attention.py the dispatcher.
 *
 * The steps are the NumPy body's, each rounded as it rounds them, but for two: exp is
 * fast_math.h's (a float ulp or two from NumPy's; 0 below -87, where NumPy's is 0 or
 * subnormal) and the row sum is taken in double (NumPy's GEMV sums in float32): the
 * probabilities agree to within (S + 4) float32 epsilons relative plus the smallest normal
 * (docs/kernels.md; tests/backends/test_results_agree.py). A masked key gets exactly 0, NaN and
 * inf go where the NumPy body sends them. */
#include <math.h>

#include "fast_math.h"
#include "host_kernels.h"

/* The rows of `s` (rows of `cols` scores; row r is query r mod `length`), in place. With
 * `causal` only the first i + 1 keys of query i take part: the NumPy body adds -inf to the
 * rest, which leaves NaN and +inf scores NaN, so such a score makes its row's max NaN, and the
 * whole row NaN (as does a NaN among the keys that take part); otherwise masked keys get
 * exactly 0. */
WIDE static void
softmax_rows_f(float *restrict all, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t length,
               int causal)
{
    Py_ssize_t r, j;
    for (r = 0; r < rows; r++) {
        float *restrict s = all + r * cols;
        Py_ssize_t i = r % length;
        Py_ssize_t seen = causal ? (i + 1 < cols ? i + 1 : cols) : cols;
        float m = -INFINITY, sum;
        int nan = 0;
        for (j = 0; j < seen; j++) {
            nan |= s[j] != s[j];
            m = s[j] > m ? s[j] : m;
        }
        for (j = seen; j < cols; j++)
            nan |= !(s[j] < INFINITY); /* NaN or +inf, plus -inf: NaN */
        if (nan) {
            for (j = 0; j < cols; j++)
                s[j] = NAN;
            continue;
        }
        if (causal && m == -INFINITY)
            m = 0; /* every score -inf: shift by 0, its exps are all 0 */
        for (j = 0; j < seen; j++) {
            float d = s[j] - m;
            float e = fm_expf(d);
            s[j] = d < -87.0f ? 0.0f : e;
        }
        sum = (float)row_sum(s, seen);
        if (causal)
            sum = sum > 0 ? sum : 1.0f; /* NumPy's where(total > 0, total, 1) */
        for (j = 0; j < seen; j++)
            s[j] = s[j] / sum;
        for (j = seen; j < cols; j++)
            s[j] = 0.0f;
    }
}

/* softmax_rows(s, causal): s (..., L, S) C-contiguous aligned float32, written in place;
 * causal: query i (i = row index mod L) sees keys 0..i. True when done; False, nothing
 * written, for anything else (the NumPy body then runs). */
PyObject *
host_softmax_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array s = {0};
    Py_ssize_t rows, cols, length;
    int causal;
    PyObject *result = Py_False;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "softmax_rows(s, causal)");
        return NULL;
    }
    causal = PyObject_IsTrue(args[1]);
    if (causal < 0)
        return NULL;
    if (!try_buffer(args[0], &s, 1) || !dense_of_kind(&s, 'f') || s.view.ndim < 2 ||
        s.view.shape[s.view.ndim - 1] < 1 || s.view.shape[s.view.ndim - 2] < 1)
        goto done;
    cols = s.view.shape[s.view.ndim - 1];
    length = s.view.shape[s.view.ndim - 2];
    rows = ITEMS(&s) / cols;
    Py_BEGIN_ALLOW_THREADS
    softmax_rows_f(s.view.buf, rows, cols, length, causal);
    Py_END_ALLOW_THREADS
    result = Py_True;
done:
    release(&s);
    return Py_NewRef(result);
}
