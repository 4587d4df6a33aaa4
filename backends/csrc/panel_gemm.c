/* panel_gemm.c: C = A @ B for a few rows of A against a B packed once into column panels.
 *
 * A recurrent layer multiplies a small batch of states (16-32 rows) by the same weight matrix
 * at every time step. A BLAS call packs that matrix (1 MiB for hidden 256) into its own layout
 * on every call, which at 16 rows costs about as much as the products (OpenBLAS: 140 us, 60
 * GFLOPS, at 16 x 256 x 1024 on one AVX2 core). Here the weights are packed once per layer and
 * time loop (`pack_panels`), and each step runs AVX2/FMA tiles of 4 rows by 24 columns over
 * blocks of 256 of the depth (`panel_matmul`). Each output is a sum over k in order with fused
 * multiply-adds per block, the blocks added in order, as OpenBLAS's own kernels do; results agree with NumPy's matmul to rounding
 * (docs/kernels.md). Without AVX2 and FMA (or another compiler) `panel_matmul` declines and the
 * caller uses the BLAS.
 */
#include <stdint.h>

#include "host_kernels.h"

#define NR 24 /* columns per panel: three vectors of 8 floats */
#define MR 4  /* rows per tile: 12 accumulators */
#define KC 256 /* depth per block: a block of a panel (24 KiB) stays in L1; the blocks' sums
                * are added in order, as OpenBLAS adds its depth blocks */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PANEL_SIMD 1

/* One row of a tile: its three accumulators += a[k] times the panel's row k (b0, b1, b2);
 * added to / stored at the NR floats at `p`. */
#define ROW_FMA(a, r0, r1, r2)                                                              \
    do {                                                                                    \
        __m256 x_ = _mm256_broadcast_ss((a) + k);                                           \
        r0 = _mm256_fmadd_ps(x_, b0, r0);                                                   \
        r1 = _mm256_fmadd_ps(x_, b1, r1);                                                   \
        r2 = _mm256_fmadd_ps(x_, b2, r2);                                                   \
    } while (0)
#define ROW_ADD(p, r0, r1, r2)                                                              \
    do {                                                                                    \
        r0 = _mm256_add_ps(r0, _mm256_loadu_ps(p));                                         \
        r1 = _mm256_add_ps(r1, _mm256_loadu_ps((p) + 8));                                   \
        r2 = _mm256_add_ps(r2, _mm256_loadu_ps((p) + 16));                                  \
    } while (0)
#define ROW_STORE(p, r0, r1, r2)                                                            \
    do {                                                                                    \
        _mm256_storeu_ps(p, r0);                                                            \
        _mm256_storeu_ps((p) + 8, r1);                                                      \
        _mm256_storeu_ps((p) + 16, r2);                                                     \
    } while (0)

/* rows x NR of C = A[rows, :K] @ panel (rows <= MR), twelve named accumulators so that they
 * stay in registers; the rows past `rows` repeat row 0 and are not stored. */
static __attribute__((target("avx2,fma"))) void
tile(const float *a, Py_ssize_t lda, const float *panel, Py_ssize_t depth, float *c,
     Py_ssize_t ldc, int rows, int cols, int add)
{
    const float *a0 = a, *a1 = rows > 1 ? a + lda : a, *a2 = rows > 2 ? a + 2 * lda : a;
    const float *a3 = rows > 3 ? a + 3 * lda : a;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    float out[MR][NR];
    Py_ssize_t k;
    int r, j;
    for (k = 0; k < depth; k++) {
        const float *b = panel + k * NR;
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 b2 = _mm256_loadu_ps(b + 16);
        ROW_FMA(a0, c00, c01, c02);
        ROW_FMA(a1, c10, c11, c12);
        ROW_FMA(a2, c20, c21, c22);
        ROW_FMA(a3, c30, c31, c32);
    }
    if (add) { /* a later block of the depth: C += this block's sums */
        if (rows < MR || cols < NR)
            memset(out, 0, sizeof out); /* the lanes past C's edge: never stored */
        for (r = 0; r < rows; r++)
            for (j = 0; j < cols; j++)
                out[r][j] = c[r * ldc + j];
        ROW_ADD(out[0], c00, c01, c02);
        ROW_ADD(out[1], c10, c11, c12);
        ROW_ADD(out[2], c20, c21, c22);
        ROW_ADD(out[3], c30, c31, c32);
    }
    if (rows == MR && cols == NR) {
        ROW_STORE(c, c00, c01, c02);
        ROW_STORE(c + ldc, c10, c11, c12);
        ROW_STORE(c + 2 * ldc, c20, c21, c22);
        ROW_STORE(c + 3 * ldc, c30, c31, c32);
        return;
    }
    ROW_STORE(out[0], c00, c01, c02);
    ROW_STORE(out[1], c10, c11, c12);
    ROW_STORE(out[2], c20, c21, c22);
    ROW_STORE(out[3], c30, c31, c32);
    for (r = 0; r < rows; r++)
        for (j = 0; j < cols; j++)
            c[r * ldc + j] = out[r][j];
}

static void
panel_gemm(const float *a, Py_ssize_t lda, const float *packed, Py_ssize_t depth, float *c,
           Py_ssize_t ldc, Py_ssize_t m, Py_ssize_t n)
{
    Py_ssize_t p, i, kb, panels = (n + NR - 1) / NR;
    for (p = 0; p < panels; p++) {
        const float *panel = packed + p * depth * NR;
        int cols = (int)(n - p * NR < NR ? n - p * NR : NR);
        for (kb = 0; kb < depth; kb += KC) {
            Py_ssize_t block = depth - kb < KC ? depth - kb : KC;
            for (i = 0; i < m; i += MR)
                tile(a + i * lda + kb, lda, panel + kb * NR, block, c + i * ldc + p * NR, ldc,
                     (int)(m - i < MR ? m - i : MR), cols, kb > 0);
        }
    }
}

static int
have_simd(void)
{
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return known;
}
#else
#define PANEL_SIMD 0
#endif

/* Whether the memory spans of two buffers (first to last item, any strides) meet: an output
 * that overlaps an input declines to NumPy, which copies first. */
static int
overlaps(const Array *x, const Array *y)
{
    const char *lo[2], *hi[2];
    const Array *both[2] = {x, y};
    int t, d;
    for (t = 0; t < 2; t++) {
        const Py_buffer *v = &both[t]->view;
        lo[t] = hi[t] = v->buf;
        for (d = 0; d < v->ndim; d++) {
            Py_ssize_t span = (v->shape[d] - 1) * v->strides[d];
            if (v->shape[d] == 0)
                return 0;
            if (span < 0)
                lo[t] += span;
            else
                hi[t] += span;
        }
        hi[t] += v->itemsize;
    }
    return lo[0] < hi[1] && lo[1] < hi[0];
}

/* The number of floats the panels of a (depth, n) matrix take, or -1 on overflow. */
static Py_ssize_t
packed_size(Py_ssize_t depth, Py_ssize_t n)
{
    Py_ssize_t panels = (n + NR - 1) / NR, size;
    if (mul_size(panels, NR, &size) < 0 || mul_size(size, depth, &size) < 0)
        return -1;
    return size;
}

PyObject *
host_pack_panels(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array b, out;
    Py_ssize_t depth, n, size, p, k, j;
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "pack_panels(b, packed)");
        return NULL;
    }
    memset(&b, 0, sizeof b);
    memset(&out, 0, sizeof out);
    if (get_array(args[0], &b, 2, 0, "pack_panels: b") < 0 ||
        get_contiguous(args[1], &out, 1) < 0)
        goto fail;
    if (kind_of(&b) != 'f' || kind_of(&out) != 'f') {
        PyErr_SetString(PyExc_TypeError, "pack_panels: b and packed must be float32");
        goto fail;
    }
    depth = b.view.shape[0];
    n = b.view.shape[1];
    size = packed_size(depth, n);
    if (size < 0 || ITEMS(&out) != size) {
        PyErr_Format(PyExc_ValueError, "pack_panels: packed must hold %zd floats for b of "
                     "shape (%zd, %zd), got %zd", size, depth, n, ITEMS(&out));
        goto fail;
    }
    {
        const char *src = b.view.buf;
        float *dst = out.view.buf;
        Py_ssize_t s0 = b.view.strides[0], s1 = b.view.strides[1];
        Py_BEGIN_ALLOW_THREADS
        for (p = 0; p * NR < n; p++) {
            float *panel = dst + p * depth * NR;
            Py_ssize_t cols = n - p * NR < NR ? n - p * NR : NR;
            for (k = 0; k < depth; k++) /* the padding columns */
                for (j = cols; j < NR; j++)
                    panel[k * NR + j] = 0.0f;
            if ((s0 < 0 ? -s0 : s0) < (s1 < 0 ? -s1 : s1)) { /* b = W.T: read down k */
                for (j = 0; j < cols; j++) {
                    const char *col = src + (p * NR + j) * s1;
                    for (k = 0; k < depth; k++)
                        panel[k * NR + j] = *(const float *)(col + k * s0);
                }
            } else {
                for (k = 0; k < depth; k++) {
                    const char *row = src + k * s0 + p * NR * s1;
                    for (j = 0; j < cols; j++)
                        panel[k * NR + j] = *(const float *)(row + j * s1);
                }
            }
        }
        Py_END_ALLOW_THREADS
    }
    release(&b);
    release(&out);
    Py_RETURN_NONE;
fail:
    release(&b);
    release(&out);
    return NULL;
}

PyObject *
host_panel_matmul(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Array a, packed, c;
    Py_ssize_t m, depth, n, size;
    int ok = 0;
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "panel_matmul(a, packed, out)");
        return NULL;
    }
    memset(&a, 0, sizeof a);
    memset(&packed, 0, sizeof packed);
    memset(&c, 0, sizeof c);
    if (!try_buffer(args[0], &a, 0) || !try_buffer(args[1], &packed, 0) ||
        !try_buffer(args[2], &c, 1))
        goto done; /* not buffers: the caller's BLAS runs */
    if (a.view.ndim != 2 || c.view.ndim != 2 || packed.view.ndim != 1 ||
        kind_of(&a) != 'f' || kind_of(&packed) != 'f' || kind_of(&c) != 'f' ||
        !unit_last(&a) || !unit_last(&c) || !dense_of_kind(&packed, 'f') ||
        a.view.strides[0] % 4 != 0 || c.view.strides[0] % 4 != 0 ||
        (uintptr_t)a.view.buf % 4 != 0 || (uintptr_t)c.view.buf % 4 != 0)
        goto done;
    m = a.view.shape[0];
    depth = a.view.shape[1];
    n = c.view.shape[1];
    size = packed_size(depth, n);
    if (c.view.shape[0] != m || size < 0 || ITEMS(&packed) != size) {
        PyErr_Format(PyExc_ValueError, "panel_matmul: a (%zd, %zd) and out (%zd, %zd) need "
                     "%zd packed floats, got %zd", m, depth, c.view.shape[0], n, size,
                     ITEMS(&packed));
        release(&a);
        release(&packed);
        release(&c);
        return NULL;
    }
#if PANEL_SIMD
    if (have_simd() && !overlaps(&a, &c) && !overlaps(&packed, &c)) {
        const float *pa = a.view.buf, *pp = packed.view.buf;
        float *pc = c.view.buf;
        Py_ssize_t lda = a.view.strides[0] / 4, ldc = c.view.strides[0] / 4;
        if (m > 0 && n > 0) {
            Py_BEGIN_ALLOW_THREADS
            if (depth == 0) {
                Py_ssize_t i, j;
                for (i = 0; i < m; i++)
                    for (j = 0; j < n; j++)
                        pc[i * ldc + j] = 0.0f;
            } else {
                panel_gemm(pa, lda, pp, depth, pc, ldc, m, n);
            }
            Py_END_ALLOW_THREADS
        }
        ok = 1;
    }
#endif
done:
    release(&a);
    release(&packed);
    release(&c);
    return Py_NewRef(ok ? Py_True : Py_False);
}
