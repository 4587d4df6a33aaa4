/* fast_math.h: exp, sigmoid and tanh in double as straight-line arithmetic, so that a loop
 * calling them vectorises (libm's exp is one call per element, and NumPy's SIMD exp cannot be
 * called from C). Used by loops whose NumPy bodies go through exp (the recurrent cells, GELU):
 * they compute in double and round once to the array's dtype, like softmax.c.
 *
 * exp: Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, then the Taylor polynomial of
 * degree 12 (its remainder is below 2e-16 relative there) times 2^n built in the exponent
 * bits: within a few double ulps of exp(x) for x in [-708, 708]; x is clamped to that range
 * (exp(-708) ~ 3e-308, exp(708) ~ 3e307: both saturate float32 and the sigmoid and tanh
 * below), NaN stays NaN.
 *
 * The float forms (fm_expf, fm_sigmoidf, fm_tanhf) do the same in float, twice as many lanes
 * per vector, for float32 arrays: exp's Taylor polynomial of degree 7 (remainder below 6e-9
 * relative) within a float ulp or two, tanh within a few (its series below 0.3 in magnitude,
 * where 1 - e would cancel). Loops calling these need -fno-trapping-math to vectorise the
 * clamps (GCC will not if-convert a float compare otherwise); it changes no value. */
#ifndef KEDJA_FAST_MATH_H
#define KEDJA_FAST_MATH_H

#include <stdint.h>
#include <string.h>

static inline double
fm_exp(double x)
{
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01; /* ln 2 in two parts, the first with */
    const double ln2_lo = 1.90821492927058770002e-10; /* trailing zeros: n * ln2_hi is exact */
    double t, n, r, p, scale;
    uint64_t bits, shifter_bits;
    x = x < -708.0 ? -708.0 : x;
    x = x > 708.0 ? 708.0 : x;
    t = x * log2e + shifter; /* n in the low bits of t's mantissa */
    n = t - shifter;
    r = x - n * ln2_hi;
    r = r - n * ln2_lo;
    p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    memcpy(&bits, &t, sizeof bits);
    memcpy(&shifter_bits, &shifter, sizeof shifter_bits);
    bits = (bits - shifter_bits + 1023u) << 52; /* 2^n: |n| <= 1022 stays in t's binade */
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* 1 / (1 + exp(-x)). */
static inline double
fm_sigmoid(double x)
{
    return 1.0 / (1.0 + fm_exp(-x));
}

/* tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2 |x|), and x - x^3 / 3 below 1e-4 in
 * magnitude, where 1 - e would cancel (the series' next term is 2e-17 relative there). */
static inline double
fm_tanh(double x)
{
    double a = x < 0 ? -x : x;
    double e = fm_exp(-2.0 * a);
    double t = (1.0 - e) / (1.0 + e);
    t = x < 0 ? -t : t;
    return a < 1e-4 ? x - x * x * x / 3.0 : t;
}

static inline float
fm_expf(float x)
{
    const float shifter = 12582912.0f; /* 1.5 * 2^23 */
    const float log2e = 1.44269504f;
    const float ln2_hi = 0.693359375f; /* exact in 9 bits: n * ln2_hi is exact */
    const float ln2_lo = -2.12194440e-4f;
    float t, n, r, p, scale;
    uint32_t bits, shifter_bits;
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    t = x * log2e + shifter;
    n = t - shifter;
    r = x - n * ln2_hi;
    r = r - n * ln2_lo;
    p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    memcpy(&bits, &t, sizeof bits);
    memcpy(&shifter_bits, &shifter, sizeof shifter_bits);
    bits = (bits - shifter_bits + 127u) << 23;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float
fm_sigmoidf(float x)
{
    return 1.0f / (1.0f + fm_expf(-x));
}

static inline float
fm_tanhf(float x)
{
    float a = x < 0 ? -x : x;
    float e = fm_expf(-2.0f * a);
    float t = (1.0f - e) / (1.0f + e);
    float x2 = x * x, s;
    t = x < 0 ? -t : t;
    /* the series to x^13 (coefficients of tanh's Taylor series), for |x| < 0.3 */
    s = -929569.0f / 638512875.0f;
    s = s * x2 + 21844.0f / 6081075.0f;
    s = s * x2 - 1382.0f / 155925.0f;
    s = s * x2 + 62.0f / 2835.0f;
    s = s * x2 - 17.0f / 315.0f;
    s = s * x2 + 2.0f / 15.0f;
    s = s * x2 - 1.0f / 3.0f;
    s = s * x2 * x + x;
    s = a < 0.3f ? s : t;
    return x == 0.0f ? x : s; /* keeps -0 */
}

#endif
