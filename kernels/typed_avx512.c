/* Rung 6 of the matmul ladder: the packed kernel on AVX-512. Part of the typed kernels
 * (see typed_kernels.c): included once per precision.
 *
 * Rung 6 -- the same packing and loops as rung 4, with a micro-kernel for AVX-512.
 * A zmm register holds twice the numbers of a ymm one (8 doubles, 16 floats), and there
 * are 32 of them instead of 16. The tile of C grows to MR512 x 2 zmm = 12 x 16 doubles
 * (12 x 32 floats) held in 24 registers: each k step loads two vectors of packed B,
 * broadcasts twelve numbers of A and does 24 fused multiply-adds -- 384 (double) or 768
 * (float) flops for 14 loads, four times rung 4's flops per k step, enough to keep two
 * 512-bit FMA units busy. Compiled for AVX-512 per function and chosen at run time only
 * where the CPU (and the OS, which must save the zmm registers) has AVX-512F. */

#if PYN_HAVE_X86
#define VL512 (2 * VL)

/* C[0:mr, 0:nr] (= or +=) alpha * (packed A sliver) (packed B sliver), kc steps. */
PYN_TARGET_AVX512
static void FN(micro_kernel512)(int64_t kc, const T *restrict a, const T *restrict b,
                                T *restrict C, int64_t ldc, int64_t mr, int64_t nr, T alpha,
                                int accumulate)
{
    VEC512 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    VEC512 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    VEC512 c60 = {0}, c61 = {0}, c70 = {0}, c71 = {0}, c80 = {0}, c81 = {0};
    VEC512 c90 = {0}, c91 = {0}, cA0 = {0}, cA1 = {0}, cB0 = {0}, cB1 = {0};
    for (int64_t k = 0; k < kc; ++k) {
        const VEC512 b0 = *(const UVEC512 *)b, b1 = *(const UVEC512 *)(b + VL512);
#define ROW(r, i) c##r##0 += a[i] * b0; c##r##1 += a[i] * b1
        ROW(0, 0); ROW(1, 1); ROW(2, 2); ROW(3, 3); ROW(4, 4); ROW(5, 5);
        ROW(6, 6); ROW(7, 7); ROW(8, 8); ROW(9, 9); ROW(A, 10); ROW(B, 11);
#undef ROW
        a += MR512;
        b += NR512;
    }
    if (nr == NR512) { /* whole rows of the tile (all of them, or the first mr): straight to C */
#define STORE(r, i)                                                                    \
    {                                                                                  \
        UVEC512 *c = (UVEC512 *)(C + (i) * ldc);                                       \
        if (accumulate) {                                                              \
            VEC512 s0 = alpha * c##r##0, s1 = alpha * c##r##1;                         \
            ROUNDED(s0); ROUNDED(s1);                                                  \
            c[0] = c[0] + s0; c[1] = c[1] + s1;                                        \
        } else {                                                                       \
            c[0] = alpha * c##r##0; c[1] = alpha * c##r##1;                            \
        }                                                                              \
    }
        STORE(0, 0);
        if (mr > 1) STORE(1, 1);
        if (mr > 2) STORE(2, 2);
        if (mr > 3) STORE(3, 3);
        if (mr > 4) STORE(4, 4);
        if (mr > 5) STORE(5, 5);
        if (mr > 6) STORE(6, 6);
        if (mr > 7) STORE(7, 7);
        if (mr > 8) STORE(8, 8);
        if (mr > 9) STORE(9, 9);
        if (mr > 10) STORE(A, 10);
        if (mr > 11) STORE(B, 11);
#undef STORE
        return;
    }
    /* a tile cut at C's right edge: spill the registers, then copy the part inside C */
    T tile[MR512 * NR512];
#define SPILL(r, i)                                                                    \
    *(UVEC512 *)(tile + (i) * NR512) = c##r##0;                                        \
    *(UVEC512 *)(tile + (i) * NR512 + VL512) = c##r##1
    SPILL(0, 0); SPILL(1, 1); SPILL(2, 2); SPILL(3, 3); SPILL(4, 4); SPILL(5, 5);
    SPILL(6, 6); SPILL(7, 7); SPILL(8, 8); SPILL(9, 9); SPILL(A, 10); SPILL(B, 11);
#undef SPILL
    for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j) {
            T s = alpha * tile[i * NR512 + j];
            ROUNDED(s);
            C[i * ldc + j] = accumulate ? C[i * ldc + j] + s : s;
        }
}

/* The five loops of rung 4 around the AVX-512 micro-kernel, on one thread. */
PYN_TARGET_AVX512
static void FN(gemm_packed512)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                               const T *B, int trans_b, T *C, T alpha, int accumulate,
                               T *work)
{
    STRIDES;
    T *const packed_a = work;
    T *const packed_b = work + round_up(min64(M, MC), MR512) * min64(K, KC);
    for (int64_t j0 = 0; j0 < N; j0 += NC) {
        const int64_t nc = min64(NC, N - j0);
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
            const int64_t kc = min64(KC, K - k0);
            const int acc = accumulate || k0 > 0;
            FN(pack_b)(NR512, kc, nc, B + k0 * rsb + j0 * csb, rsb, csb, packed_b);
            for (int64_t i0 = 0; i0 < M; i0 += MC) {
                const int64_t mc = min64(MC, M - i0);
                FN(pack_a)(MR512, mc, kc, A + i0 * rsa + k0 * csa, rsa, csa, packed_a);
                for (int64_t q = 0; q < nc; q += NR512)
                    for (int64_t p = 0; p < mc; p += MR512)
                        FN(micro_kernel512)(kc, packed_a + p * kc, packed_b + q * kc,
                                            C + (i0 + p) * N + j0 + q, N,
                                            min64(MR512, mc - p), min64(NR512, nc - q),
                                            alpha, acc);
            }
        }
    }
}

#ifdef _OPENMP
/* The threads rung on AVX-512: one parallel region per product, two barriers per KC x NC
 * panel of B -- not one fork and join per block, which on a busy machine waits for a
 * descheduled thread every time.
 *   Rows: each thread owns one contiguous share of C's MR512-row slivers, as equal as
 * whole slivers allow (512 rows on 2 threads: 22 and 21 slivers). Blocks of MC_T rows
 * shared out in turn left one thread a whole block more (6 blocks of 48 against 5 at
 * n = 512), which capped two threads at 1.83x one before any other cost.
 *   B: every thread packs its share of the panel's NR512-column slivers into the shared
 * buffer (no thread waits while one packs it all); a barrier, then each thread runs its
 * rows against the whole packed panel, packing its own blocks of A on its stack; a second
 * barrier before the next panel overwrites the packed B.
 * Each element of C is summed by one thread in rung 6's order: bit for bit the single
 * thread's result. */
#define MC_T 48 /* rows per thread block: 48 x KC numbers of A on each thread's stack */
PYN_TARGET_AVX512
static void FN(gemm_packed512_threads)(int64_t M, int64_t N, int64_t K, const T *A,
                                       int trans_a, const T *B, int trans_b, T *C, T alpha,
                                       int accumulate, T *work, int nt)
{
    STRIDES;
    T *const packed_b = work + round_up(min64(M, MC), MR512) * min64(K, KC);
    const int64_t row_slivers = (M + MR512 - 1) / MR512;
#pragma omp parallel num_threads(nt)
    {
        T own_a[MC_T * KC] __attribute__((aligned(64)));
        const int64_t id = omp_get_thread_num(), count = omp_get_num_threads();
        const int64_t r0 = min64(M, row_slivers * id / count * MR512);
        const int64_t r1 = min64(M, row_slivers * (id + 1) / count * MR512);
        for (int64_t j0 = 0; j0 < N; j0 += NC) {
            const int64_t nc = min64(NC, N - j0);
            const int64_t col_slivers = (nc + NR512 - 1) / NR512;
            const int64_t q0 = min64(nc, col_slivers * id / count * NR512);
            const int64_t q1 = min64(nc, col_slivers * (id + 1) / count * NR512);
            for (int64_t k0 = 0; k0 < K; k0 += KC) {
                const int64_t kc = min64(KC, K - k0);
                const int acc = accumulate || k0 > 0;
                if (q1 > q0) /* this thread's slivers of B, where pack_b would put them */
                    FN(pack_b)(NR512, kc, q1 - q0, B + k0 * rsb + (j0 + q0) * csb, rsb, csb,
                               packed_b + q0 * kc);
#pragma omp barrier
                for (int64_t i0 = r0; i0 < r1; i0 += MC_T) {
                    const int64_t mc = min64(MC_T, r1 - i0);
                    FN(pack_a)(MR512, mc, kc, A + i0 * rsa + k0 * csa, rsa, csa, own_a);
                    for (int64_t q = 0; q < nc; q += NR512)
                        for (int64_t p = 0; p < mc; p += MR512)
                            FN(micro_kernel512)(kc, own_a + p * kc, packed_b + q * kc,
                                                C + (i0 + p) * N + j0 + q, N,
                                                min64(MR512, mc - p), min64(NR512, nc - q),
                                                alpha, acc);
                }
#pragma omp barrier
            }
        }
    }
}
#undef MC_T
#endif
#undef VL512
#endif
