/* The LSTM cell of one time step and its gradient in one pass each (backends/kernels/
 * recurrent.py has the NumPy bodies they follow; autograd/ops/rnn_sequence.py calls them once
 * per step, which made the NumPy bodies' ~20 passes over small (batch, 4H) blocks the larger
 * half of an LSTM step's elementwise time).
 *
 * The forward's sigmoid and tanh are fast_math.h's, in float for float32 and in double for
 * float64: they cannot give the bits of NumPy's SIMD exp and tanh, and agree with the NumPy body
 * to a few float epsilons (which computes tanh of the g gate as 2 sigmoid(2x) - 1 and is the
 * less accurate of the two near 0); the cell-state update and h are the body's products and
 * sums in its order. The gradient is arithmetic only: the NumPy body's bits, in one pass. */
#include "fast_math.h"
#include "host_kernels.h"

/* One step: gate pre-activations a = xg + hg (rows of 4H, blocks i, f, g, o), then
 * c_out = f c_in + i g, h_out = o tanh(c_out); `gates` keeps i, f, g, o and `tc` tanh(c_out).
 * c_out may be c_in. */
#define LSTM_CELL(T, SIG, TANH, NAME)                                                         \
    WIDE static void NAME(const T *restrict xg, const T *restrict hg, const T *c_in, T *c_out, \
                          T *restrict h_out, T *restrict gates, T *restrict tc, Py_ssize_t n, \
                          Py_ssize_t hidden)                                                  \
    {                                                                                         \
        Py_ssize_t r, j;                                                                      \
        for (r = 0; r < n; r++) {                                                             \
            const T *x = xg + r * 4 * hidden, *h = hg + r * 4 * hidden;                       \
            const T *cp = c_in + r * hidden;                                                  \
            T *g = gates + r * 4 * hidden, *cn = c_out + r * hidden;                          \
            T *ho = h_out + r * hidden, *t = tc + r * hidden;                                 \
            for (j = 0; j < hidden; j++) {                                                    \
                const T ai = x[j] + h[j], af = x[j + hidden] + h[j + hidden];                 \
                const T ag = x[j + 2 * hidden] + h[j + 2 * hidden];                           \
                const T ao = x[j + 3 * hidden] + h[j + 3 * hidden];                           \
                const T i = SIG(ai), f = SIG(af), gg = TANH(ag), o = SIG(ao);                 \
                const T ig = i * gg;                                                          \
                T c = f * cp[j];                                                              \
                T th;                                                                         \
                c = c + ig;                                                                   \
                th = TANH(c);                                                                 \
                g[j] = i;                                                                     \
                g[j + hidden] = f;                                                            \
                g[j + 2 * hidden] = gg;                                                       \
                g[j + 3 * hidden] = o;                                                        \
                cn[j] = c;                                                                    \
                t[j] = th;                                                                    \
                ho[j] = o * th;                                                               \
            }                                                                                 \
        }                                                                                     \
    }

LSTM_CELL(float, fm_sigmoidf, fm_tanhf, lstm_cell_f)
LSTM_CELL(double, fm_sigmoid, fm_tanh, lstm_cell_d)

/* The gradient, in the NumPy body's order: dh = gh (+ gh_more), dc = dh o (1 - tc^2) + gc_in,
 * gc_out = dc f and the pre-activations' gradients (dc g) i (1 - i), (dc c_in) f (1 - f),
 * (dc i) (1 - g^2), (dh tc) o (1 - o). gc_out may be gc_in. */
#define LSTM_CELL_GRAD(T, NAME, DH)                                                           \
    WIDE static void NAME(const T *restrict gh, const T *restrict gh_more, const T *gc_in,    \
                          T *gc_out, const T *restrict gates, const T *restrict tc,           \
                          const T *restrict c_in, T *restrict grads, Py_ssize_t n,            \
                          Py_ssize_t hidden)                                                  \
    {                                                                                         \
        Py_ssize_t r, j;                                                                      \
        for (r = 0; r < n; r++) {                                                             \
            const T *a = gates + r * 4 * hidden, *t = tc + r * hidden;                        \
            const T *cp = c_in + r * hidden, *dy = gh + r * hidden;                           \
            const T *dy2 = gh_more != NULL ? gh_more + r * hidden : dy;                       \
            const T *gcin = gc_in + r * hidden;                                               \
            T *gcout = gc_out + r * hidden, *out = grads + r * 4 * hidden;                    \
            for (j = 0; j < hidden; j++) {                                                    \
                const T i = a[j], f = a[j + hidden], g = a[j + 2 * hidden];                   \
                const T o = a[j + 3 * hidden], th = t[j];                                     \
                const T dh = DH;                                                              \
                T dc = dh * o, tmp = th * th;                                                 \
                T gi, gf, gg, go;                                                             \
                tmp = (T)1 - tmp;                                                             \
                dc = dc * tmp;                                                                \
                dc = dc + gcin[j];                                                            \
                gi = dc * g;                                                                  \
                gf = dc * cp[j];                                                              \
                gg = dc * i;                                                                  \
                go = dh * th;                                                                 \
                gcout[j] = dc * f;                                                            \
                out[j] = gi * (((T)1 - i) * i);                                               \
                out[j + hidden] = gf * (((T)1 - f) * f);                                      \
                out[j + 2 * hidden] = gg * ((T)1 - g * g);                                    \
                out[j + 3 * hidden] = go * (((T)1 - o) * o);                                  \
            }                                                                                 \
        }                                                                                     \
    }

/* dh is gh alone (dy2 unused, NULL) or gh + gh_more: two loops, no test per item. */
LSTM_CELL_GRAD(float, lstm_cell_grad_f1, dy[j])
LSTM_CELL_GRAD(float, lstm_cell_grad_f2, dy[j] + dy2[j])
LSTM_CELL_GRAD(double, lstm_cell_grad_d1, dy[j])
LSTM_CELL_GRAD(double, lstm_cell_grad_d2, dy[j] + dy2[j])

/* Takes the soft checks of `arrays` (n of them, shapes rows x cols[k] with cols[k] = widths[k] *
 * hidden): C-contiguous, aligned, one float kind, 2-D, the expected shapes. Returns the kind, or
 * 0 if any check fails (the caller then answers False: the NumPy body runs). */
static char
cell_operands(Array *arrays, const int *widths, int n, Py_ssize_t *rows, Py_ssize_t *hidden)
{
    char k = kind_of(&arrays[0]);
    int a;
    if (k != 'f' && k != 'd')
        return 0;
    for (a = 0; a < n; a++) {
        if (!dense_of_kind(&arrays[a], k) || arrays[a].view.ndim != 2)
            return 0;
    }
    *rows = arrays[0].view.shape[0];
    *hidden = arrays[0].view.shape[1] / widths[0];
    for (a = 0; a < n; a++) {
        if (arrays[a].view.shape[0] != *rows ||
            arrays[a].view.shape[1] != *hidden * widths[a])
            return 0;
    }
    return k;
}

PyObject *
host_lstm_cell(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    /* xg, hg, c_in, c_out, h_out, gates, tc */
    static const int widths[7] = {4, 4, 1, 1, 1, 4, 1};
    static const int writable[7] = {0, 0, 0, 1, 1, 1, 1};
    Array arr[7];
    Py_ssize_t rows = 0, hidden = 0;
    char k = 0;
    int a, got = 0;
    memset(arr, 0, sizeof arr);
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "lstm_cell(xg, hg, c_in, c_out, h_out, gates, tc)");
        return NULL;
    }
    for (a = 0; a < 7 && try_buffer(args[a], &arr[a], writable[a]); a++)
        got++;
    if (got == 7)
        k = cell_operands(arr, widths, 7, &rows, &hidden);
    if (k != 0) {
        Py_BEGIN_ALLOW_THREADS
        if (k == 'f')
            lstm_cell_f(arr[0].view.buf, arr[1].view.buf, arr[2].view.buf, arr[3].view.buf,
                        arr[4].view.buf, arr[5].view.buf, arr[6].view.buf, rows, hidden);
        else
            lstm_cell_d(arr[0].view.buf, arr[1].view.buf, arr[2].view.buf, arr[3].view.buf,
                        arr[4].view.buf, arr[5].view.buf, arr[6].view.buf, rows, hidden);
        Py_END_ALLOW_THREADS
    }
    for (a = 0; a < 7; a++)
        release(&arr[a]);
    return Py_NewRef(k != 0 ? Py_True : Py_False);
}

PyObject *
host_lstm_cell_grad(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    /* gh, gh_more (or None), gc_in, gc_out, gates, tc, c_in, grads */
    static const int widths[8] = {1, 1, 1, 1, 4, 1, 1, 4};
    static const int writable[8] = {0, 0, 0, 1, 0, 0, 0, 1};
    Array arr[8];
    Py_ssize_t rows = 0, hidden = 0;
    char k = 0;
    int a, got = 0, more;
    memset(arr, 0, sizeof arr);
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "lstm_cell_grad(gh, gh_more, gc_in, gc_out, gates, tc, c_in, grads)");
        return NULL;
    }
    more = args[1] != Py_None;
    for (a = 0; a < 8; a++) {
        PyObject *obj = (a == 1 && !more) ? args[0] : args[a]; /* gh stands in for None */
        if (!try_buffer(obj, &arr[a], writable[a]))
            break;
        got++;
    }
    if (got == 8)
        k = cell_operands(arr, widths, 8, &rows, &hidden);
    if (k != 0) {
        const void *extra = more ? arr[1].view.buf : NULL;
        Py_BEGIN_ALLOW_THREADS
        if (k == 'f')
            (more ? lstm_cell_grad_f2 : lstm_cell_grad_f1)(
                arr[0].view.buf, extra, arr[2].view.buf, arr[3].view.buf, arr[4].view.buf,
                arr[5].view.buf, arr[6].view.buf, arr[7].view.buf, rows, hidden);
        else
            (more ? lstm_cell_grad_d2 : lstm_cell_grad_d1)(
                arr[0].view.buf, extra, arr[2].view.buf, arr[3].view.buf, arr[4].view.buf,
                arr[5].view.buf, arr[6].view.buf, arr[7].view.buf, rows, hidden);
        Py_END_ALLOW_THREADS
    }
    for (a = 0; a < 8; a++)
        release(&arr[a]);
    return Py_NewRef(k != 0 ? Py_True : Py_False);
}
