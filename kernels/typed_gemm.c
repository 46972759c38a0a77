/* The dispatch of the matmul ladder: gemm() picks the fastest rung this CPU has for a
 * product's shape, and the public entry points of the top rungs. Part of the typed
 * kernels (see typed_kernels.c): included once per precision. */

/* C = (accumulate ? C : 0) + alpha op(A) op(B), on the fastest path this CPU has.
 * work must hold pyn_matmul_workspace(M, N, K) elements. */
static void FN(gemm)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a, const T *B,
                     int trans_b, T *C, T alpha, int accumulate, T *work)
{
    if (M == 0 || N == 0)
        return;
    if (K == 0) {
        if (!accumulate)
            memset(C, 0, sizeof(T) * (size_t)(M * N));
        return;
    }
#if PYN_HAVE_X86
    const int level = pyn_simd_enabled();
    if (level && N <= NARROW_MAX) {
        FN(gemm_narrow)(M, N, K, A, trans_a, B, trans_b, C, alpha, accumulate, work);
        return;
    }
    if (level >= PYN_SIMD_AVX512) {
#ifdef _OPENMP
        const int nt = gemm_threads(M, N, K);
        if (nt > 1) {
            FN(gemm_packed512_threads)(M, N, K, A, trans_a, B, trans_b, C, alpha, accumulate,
                                       work, nt);
            return;
        }
#endif
        if (FN(small_product)(N, K))
            FN(gemm_small)(M, N, K, A, trans_a, B, trans_b, C, alpha, accumulate, work);
        else
            FN(gemm_packed512)(M, N, K, A, trans_a, B, trans_b, C, alpha, accumulate, work);
        return;
    }
    if (level) {
        FN(gemm_packed)(M, N, K, A, trans_a, B, trans_b, C, alpha, accumulate, work);
        return;
    }
#endif
    (void)work;
    FN(gemm_blocked)(M, N, K, A, trans_a, B, trans_b, C, alpha, accumulate);
}

int FN(pyn_matmul_simd)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                        const T *B, int trans_b, T *C, T *work, int64_t work_len)
{
    if (!pyn_simd_available())
        return PYN_ERR_NO_SIMD;
    if (work_len < FN(pyn_matmul_workspace)(M, N, K))
        return PYN_ERR_WORKSPACE;
#if PYN_HAVE_X86
    if (M > 0 && N > 0 && K > 0) {
        FN(gemm_packed)(M, N, K, A, trans_a, B, trans_b, C, 1, 0, work);
        return 0;
    }
#endif
    (void)work;
    FN(gemm_blocked)(M, N, K, A, trans_a, B, trans_b, C, 1, 0); /* empty products */
    return 0;
}

int FN(pyn_matmul_avx512)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                          const T *B, int trans_b, T *C, T *work, int64_t work_len)
{
    if (pyn_simd_available() < PYN_SIMD_AVX512)
        return PYN_ERR_NO_SIMD;
    if (work_len < FN(pyn_matmul_workspace)(M, N, K))
        return PYN_ERR_WORKSPACE;
#if PYN_HAVE_X86
    if (M > 0 && N > 0 && K > 0) {
#ifdef _OPENMP
        const int nt = gemm_threads(M, N, K);
        if (nt > 1) {
            FN(gemm_packed512_threads)(M, N, K, A, trans_a, B, trans_b, C, 1, 0, work, nt);
            return 0;
        }
#endif
        FN(gemm_packed512)(M, N, K, A, trans_a, B, trans_b, C, 1, 0, work);
        return 0;
    }
#endif
    FN(gemm_blocked)(M, N, K, A, trans_a, B, trans_b, C, 1, 0); /* empty products */
    return 0;
}

/* Rung 7 on its own, for any shape (one thread; K in passes of KC as rung 6): the same
 * numbers as pyn_matmul_avx512, bit for bit. gemm_small's panel of Bᵀ (at most
 * min(K, KC) x round_up(min(N, SMALL_NV VL512), VL512) numbers) fits in
 * pyn_matmul_workspace for every shape, narrow N included: that asks for at least
 * min(K, KC) x round_up(min(N, NC), NR512), and NR512 is a multiple of VL512 = 2 VL. */
#if PYN_HAVE_X86
_Static_assert(NR512 % (2 * VL) == 0 && SMALL_NV * 2 * VL <= NC,
               "rung 7's panel of B transposed must fit in pyn_matmul_workspace");
#endif
int FN(pyn_matmul_small)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                         const T *B, int trans_b, T *C, T *work, int64_t work_len)
{
    if (pyn_simd_available() < PYN_SIMD_AVX512)
        return PYN_ERR_NO_SIMD;
    if (work_len < FN(pyn_matmul_workspace)(M, N, K))
        return PYN_ERR_WORKSPACE;
#if PYN_HAVE_X86
    if (M > 0 && N > 0 && K > 0) {
        FN(gemm_small)(M, N, K, A, trans_a, B, trans_b, C, 1, 0, work);
        return 0;
    }
#endif
    (void)work;
    FN(gemm_blocked)(M, N, K, A, trans_a, B, trans_b, C, 1, 0); /* empty products */
    return 0;
}

int FN(pyn_matmul_narrow)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                          const T *B, int trans_b, T *C, T *work, int64_t work_len)
{
    if (!pyn_simd_available())
        return PYN_ERR_NO_SIMD;
    if (N > NARROW_MAX)
        return PYN_ERR_SHAPE;
    if (work_len < FN(pyn_matmul_workspace)(M, N, K))
        return PYN_ERR_WORKSPACE;
#if PYN_HAVE_X86
    if (M > 0 && N > 0 && K > 0) {
        FN(gemm_narrow)(M, N, K, A, trans_a, B, trans_b, C, 1, 0, work);
        return 0;
    }
#endif
    FN(gemm_blocked)(M, N, K, A, trans_a, B, trans_b, C, 1, 0); /* empty products */
    return 0;
}

int FN(pyn_matmul_auto)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                        const T *B, int trans_b, T *C, T *work, int64_t work_len)
{
    if (work_len < FN(pyn_matmul_workspace)(M, N, K))
        return PYN_ERR_WORKSPACE;
    FN(gemm)(M, N, K, A, trans_a, B, trans_b, C, 1, 0, work);
    return 0;
}


#undef STRIDES
#undef BLK_I
#undef BLK_K
#undef BLK_J
#undef MR
#undef NR
#undef MC
#undef KC
#undef NC
#undef NARROW_MAX
