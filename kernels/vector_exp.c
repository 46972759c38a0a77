/* e^x eight doubles at a time (AVX-512), for the softmax of fit's fused step. Included
 * once by pyneuron_kernels.c, before the typed kernels.
 *
 * A call to the C library's exp per number (about 6 ns here) made the digits net's 320
 * exponentials per step a twentieth of the step. The same function for a whole vector:
 *   1. range reduction  e^x = 2^k e^r,  k = round(x log2 e),  r = x - k ln 2, so
 *      |r| <= ln 2 / 2 (+ a rounding): ln 2 in two parts (hi + lo, Cody and Waite),
 *      each subtracted with one fused multiply-add, so r keeps its digits;
 *   2. e^r by its Taylor series to r^13 / 13! (the first term left out, r^14 / 14!, is
 *      below 2^-57 for |r| <= 0.35), evaluated by Horner's rule with fused multiply-adds;
 *   3. 2^k e^r by VSCALEFPD, which scales by a power of two with one rounding -- also
 *      where the result is subnormal, infinite or zero, so no special cases for them.
 * x is first clamped to [-746, 710] (beyond, e^x is 0 or inf anyway, and k fits); a NaN
 * comes back as itself. The result is within 1 unit in the last place of the correctly
 * rounded e^x, and differs from glibc's exp in the last bit for a few percent of
 * arguments (tests/test_c_vector_exp.py measures both against mpmath). e^0 = 1 exactly,
 * and e^x <= 1 for x <= 0 (the last Horner step rounds 1 + a negative number), which the
 * fused step's accuracy count relies on (see output_and_loss). */

#if PYN_HAVE_X86
PYN_TARGET_AVX512
static void exp_shifted_avx512(int64_t n, const double *z, double shift, double *out)
{
    static const double inverse_factorial[14] = {
        1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
        1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800};
    const __m512d log2e = _mm512_set1_pd(0x1.71547652b82fep0);
    const __m512d ln2_hi = _mm512_set1_pd(0x1.62e42fefa39efp-1);  /* ln 2 rounded */
    const __m512d ln2_lo = _mm512_set1_pd(0x1.abc9e3b39803fp-56); /* ln 2 - ln2_hi */
    const __m512d low = _mm512_set1_pd(-746.0), high = _mm512_set1_pd(710.0);
    const __m512d s = _mm512_set1_pd(shift);
    for (int64_t i = 0; i < n; i += 8) {
        const __mmask8 lanes = n - i >= 8 ? 0xFF : (__mmask8)((1u << (n - i)) - 1);
        const __m512d x = _mm512_sub_pd(_mm512_maskz_loadu_pd(lanes, z + i), s);
        const __m512d xc = _mm512_min_pd(_mm512_max_pd(x, low), high);
        const __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(xc, log2e),
                                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512d r = _mm512_fnmadd_pd(k, ln2_hi, xc); /* xc - k hi */
        r = _mm512_fnmadd_pd(k, ln2_lo, r);          /* - k lo */
        __m512d p = _mm512_set1_pd(inverse_factorial[13]);
        for (int j = 12; j >= 0; --j)
            p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(inverse_factorial[j]));
        __m512d e = _mm512_scalef_pd(p, k);
        e = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), e, x); /* NaN */
        _mm512_mask_storeu_pd(out + i, lanes, e);
    }
}
#endif

/* out[j] = e^(z[j] - shift), the difference rounded to double first, as a loop of
 * exp((double)z[j] - shift) computes it: the vector exp above where the fast paths may use
 * AVX-512, the C library's elsewhere. z and out may be the same array. */
static void exp_shifted_f64(int64_t n, const double *z, double shift, double *out)
{
#if PYN_HAVE_X86
    if (pyn_simd_enabled() >= PYN_SIMD_AVX512) {
        exp_shifted_avx512(n, z, shift, out);
        return;
    }
#endif
    for (int64_t j = 0; j < n; ++j)
        out[j] = exp(z[j] - shift);
}

/* The same for float arrays, in double, each result rounded to float once (the typed
 * softmax of output_and_loss runs only in double, but is compiled for both). */
static void exp_shifted_f32(int64_t n, const float *z, double shift, float *out)
{
    for (int64_t j = 0; j < n; ++j)
        out[j] = (float)exp((double)z[j] - shift);
}

void pyn_exp_f64(int64_t n, const double *x, double *out)
{
    exp_shifted_f64(n, x, 0.0, out);
}
