/* The matmul ladder: four rungs from the definition to a packed, register-tiled kernel,
 * and gemm(), which picks the fastest rung this CPU has. Part of the typed kernels
 * (see typed_kernels.c): included once per precision. */
/* Element (i, k) of op(A) lives at A[i*rsa + k*csa]: the strides say whether A is read
 * as stored (rsa = K, csa = 1) or transposed (rsa = 1, csa = M). Same for B. This is how
 * all three products of backprop (A B, A^T B, A B^T) are computed without a copy. */
#define STRIDES                                                                         \
    const int64_t rsa = trans_a ? 1 : K, csa = trans_a ? M : 1;                          \
    const int64_t rsb = trans_b ? 1 : N, csb = trans_b ? K : 1

/* ================================================================ the matmul ladder */

/* Rung 1 -- naive i-j-k.
 * The definition: C[i][j] = sum_k A[i][k] B[k][j], one dot product per output.
 * The inner loop walks B down a column, N elements apart: every step touches a new
 * cache line, and the single running sum is a chain of dependent additions, so the
 * CPU waits on memory and on its adder. About 1 GFLOPS. */
void FN(pyn_matmul_naive)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                          const T *B, int trans_b, T *C)
{
    STRIDES;
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            T s = 0;
            for (int64_t k = 0; k < K; ++k)
                s += A[i * rsa + k * csa] * B[k * rsb + j * csb];
            C[i * N + j] = s;
        }
}

/* c[0:n] += a * b[0:n*stride:stride]. With stride 1 (the usual case) the compiler sees a
 * contiguous loop and vectorizes it; the strided form serves the transposed reads. */
static inline void FN(axpy)(int64_t n, T a, const T *restrict b, int64_t stride,
                            T *restrict c)
{
    if (stride == 1) {
        for (int64_t j = 0; j < n; ++j)
            c[j] += a * b[j];
    } else {
        for (int64_t j = 0; j < n; ++j)
            c[j] += a * b[j * stride];
    }
}

/* Rung 2 -- loop order i-k-j.
 * The same arithmetic with the two inner loops swapped: take one A[i][k] and add
 * A[i][k] * (row k of B) into row i of C. Now the inner loop walks B and C
 * contiguously, so every cache line is used fully, the prefetcher sees the stream,
 * and the additions of one row are independent, so the compiler vectorizes them
 * (with the baseline x86-64 flags: SSE2, two doubles per instruction).
 * (The idea holds for the A B form; with trans_b the inner loop is strided again.) */
void FN(pyn_matmul_reorder)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                            const T *B, int trans_b, T *C)
{
    STRIDES;
    for (int64_t i = 0; i < M; ++i) {
        T *c = C + i * N;
        for (int64_t j = 0; j < N; ++j)
            c[j] = 0;
        for (int64_t k = 0; k < K; ++k)
            FN(axpy)(N, A[i * rsa + k * csa], B + k * rsb, csb, c);
    }
}

/* Rung 3 -- cache blocking.
 * i-k-j streams all of B through the cache once per row of A; when B is bigger than
 * the cache (n = 512 doubles: 2 MB) every pass comes from main memory. Cutting the
 * loops into blocks makes a BK x BJ tile of B (64 x 512 doubles = 256 KB, inside
 * Zen 3's 512 KB L2) stay in cache while BI rows of A use it. Same flops, fewer trips
 * to memory. It pays where memory is the limit: in float (twice the numbers per
 * instruction) blocking gains ~1.5x here, while the double loop, at two numbers per
 * SSE2 instruction, is limited by the core itself and gains little -- that limit is
 * what rung 4 removes. This is also the portable fallback of the fast paths, hence
 * the general form C = (accumulate ? C : 0) + alpha op(A) op(B). */
#define BLK_I 32
#define BLK_K 64
#define BLK_J 512

static void FN(gemm_blocked)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                             const T *B, int trans_b, T *C, T alpha, int accumulate)
{
    STRIDES;
    if (!accumulate)
        memset(C, 0, sizeof(T) * (size_t)(M * N));
    for (int64_t i0 = 0; i0 < M; i0 += BLK_I)
        for (int64_t k0 = 0; k0 < K; k0 += BLK_K)
            for (int64_t j0 = 0; j0 < N; j0 += BLK_J) {
                const int64_t i1 = min64(i0 + BLK_I, M), k1 = min64(k0 + BLK_K, K);
                const int64_t j1 = min64(j0 + BLK_J, N);
                for (int64_t i = i0; i < i1; ++i) {
                    T *c = C + i * N;
                    for (int64_t k = k0; k < k1; ++k)
                        FN(axpy)(j1 - j0, alpha * A[i * rsa + k * csa],
                                 B + k * rsb + j0 * csb, csb, c + j0);
                }
            }
}

void FN(pyn_matmul_blocked)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                            const T *B, int trans_b, T *C)
{
    FN(gemm_blocked)(M, N, K, A, trans_a, B, trans_b, C, 1, 0);
}

/* Rung 4 -- packing + a register-tiled AVX2/FMA micro-kernel (the BLIS / GotoBLAS design).
 * Blocking alone still loads and stores C for every multiply-add. Here a 6 x (2 VL) tile
 * of C (6 x 8 doubles or 6 x 16 floats) lives in 12 of the 16 ymm registers for the
 * whole k loop: each step loads two vectors of B, broadcasts six numbers of A and does
 * 12 fused multiply-adds -- 48 (double) or 96 (float) flops for 8 loads, enough to keep
 * both FMA units of a Zen 3 core busy. To make those loads sequential, the blocks of A
 * and B are first copied ("packed") into the workspace in exactly the order the
 * micro-kernel reads them, zero-padded to whole tiles; packing also absorbs the
 * transposes. The loops around it keep a KC x NC panel of packed B in L3, an MC x KC
 * block of packed A in L2 and one KC x NR sliver of B in L1. */
#define MR 6
#define NR (2 * VL)
#define MC 120
#define KC 256
#define NC 2048

#define NARROW_MAX 16 /* products with N <= NARROW_MAX take the narrow rung (typed_narrow.c) */
#define MR512 12          /* rung 6's tile (typed_avx512.c): 12 x 2 zmm registers; the */
#define NR512 (4 * VL)    /* workspace is sized for it, which also covers rung 4's 6 x 2 VL */

int64_t FN(pyn_matmul_workspace)(int64_t M, int64_t N, int64_t K)
{
    const int64_t kc = min64(K, KC);
    const int64_t packed = round_up(min64(M, MC), MR512) * kc + kc * round_up(min64(N, NC), NR512);
    return max64(1, N <= NARROW_MAX ? max64(packed, K * round_up(N, VL)) : packed);
}

#if PYN_HAVE_X86 /* packing serves only the AVX2 path */
/* Copy op(A)[i0:i0+mc, k0:k0+kc] into mr-row slivers: sliver p holds, for each k, the
 * mr numbers op(A)[i0+p*mr .. +mr-1][k] side by side; rows past the edge are zeros.
 * Whole slivers take the branch-free loop; only the last one checks the edge. (mr is
 * the micro-kernel's MR, a constant at every call, so the compiler specializes it.) */
static inline void FN(pack_a)(int64_t mr, int64_t mc, int64_t kc, const T *A, int64_t rsa,
                              int64_t csa, T *restrict out)
{
    for (int64_t p = 0; p < mc; p += mr) {
        const T *a = A + p * rsa;
        if (p + mr <= mc) {
            for (int64_t k = 0; k < kc; ++k, out += mr)
                for (int64_t r = 0; r < mr; ++r)
                    out[r] = a[r * rsa + k * csa];
        } else {
            for (int64_t k = 0; k < kc; ++k, out += mr)
                for (int64_t r = 0; r < mr; ++r)
                    out[r] = p + r < mc ? a[r * rsa + k * csa] : 0;
        }
    }
}

/* Copy op(B)[k0:k0+kc, j0:j0+nc] into nr-column slivers, row by row, zero-padded. */
static inline void FN(pack_b)(int64_t nr, int64_t kc, int64_t nc, const T *B, int64_t rsb,
                              int64_t csb, T *restrict out)
{
    for (int64_t q = 0; q < nc; q += nr) {
        const T *b = B + q * csb;
        if (q + nr <= nc && csb == 1) { /* B as stored: nr neighbours in a row */
            for (int64_t k = 0; k < kc; ++k, out += nr)
                memcpy(out, b + k * rsb, sizeof(T) * (size_t)nr);
        } else if (q + nr <= nc) {
            for (int64_t k = 0; k < kc; ++k, out += nr)
                for (int64_t c = 0; c < nr; ++c)
                    out[c] = b[k * rsb + c * csb];
        } else {
            for (int64_t k = 0; k < kc; ++k, out += nr)
                for (int64_t c = 0; c < nr; ++c)
                    out[c] = q + c < nc ? b[k * rsb + c * csb] : 0;
        }
    }
}

/* C[0:mr, 0:nr] (= or +=) alpha * (packed A sliver) (packed B sliver), kc steps.
 * The 12 accumulators are named variables so that they stay in registers. */
PYN_TARGET_AVX2
static void FN(micro_kernel)(int64_t kc, const T *restrict a, const T *restrict b,
                             T *restrict C, int64_t ldc, int64_t mr, int64_t nr, T alpha,
                             int accumulate)
{
    VEC c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    VEC c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int64_t k = 0; k < kc; ++k) {
        const VEC b0 = *(const UVEC *)b, b1 = *(const UVEC *)(b + VL);
#define ROW(r) c##r##0 += a[r] * b0; c##r##1 += a[r] * b1
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
#undef ROW
        a += MR;
        b += NR;
    }
    if (nr == NR) { /* whole rows of the tile (all of them, or the first mr): straight to C */
#define STORE(r)                                                                       \
    {                                                                                  \
        UVEC *c = (UVEC *)(C + r * ldc);                                               \
        if (accumulate) {                                                              \
            VEC s0 = alpha * c##r##0, s1 = alpha * c##r##1;                            \
            ROUNDED(s0); ROUNDED(s1);                                                  \
            c[0] = c[0] + s0; c[1] = c[1] + s1;                                        \
        } else {                                                                       \
            c[0] = alpha * c##r##0; c[1] = alpha * c##r##1;                            \
        }                                                                              \
    }
        STORE(0);
        if (mr > 1) STORE(1);
        if (mr > 2) STORE(2);
        if (mr > 3) STORE(3);
        if (mr > 4) STORE(4);
        if (mr > 5) STORE(5);
#undef STORE
        return;
    }
    /* a tile cut at C's right edge: spill the registers, then copy the part inside C */
    T tile[MR * NR];
#define SPILL(r) *(UVEC *)(tile + r * NR) = c##r##0; *(UVEC *)(tile + r * NR + VL) = c##r##1
    SPILL(0); SPILL(1); SPILL(2); SPILL(3); SPILL(4); SPILL(5);
#undef SPILL
    for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j) {
            T s = alpha * tile[i * NR + j];
            ROUNDED(s);
            C[i * ldc + j] = accumulate ? C[i * ldc + j] + s : s;
        }
}

/* The five loops around the micro-kernel; work holds the packed blocks. */
PYN_TARGET_AVX2
static void FN(gemm_packed)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                            const T *B, int trans_b, T *C, T alpha, int accumulate, T *work)
{
    STRIDES;
    const int nt = gemm_threads(M, N, K);
    (void)nt;
    T *const packed_a = work;
    T *const packed_b = work + round_up(min64(M, MC), MR) * min64(K, KC);
    for (int64_t j0 = 0; j0 < N; j0 += NC) {
        const int64_t nc = min64(NC, N - j0);
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
            const int64_t kc = min64(KC, K - k0);
            const int acc = accumulate || k0 > 0;
            FN(pack_b)(NR, kc, nc, B + k0 * rsb + j0 * csb, rsb, csb, packed_b);
            for (int64_t i0 = 0; i0 < M; i0 += MC) {
                const int64_t mc = min64(MC, M - i0);
                FN(pack_a)(MR, mc, kc, A + i0 * rsa + k0 * csa, rsa, csa, packed_a);
#ifdef _OPENMP /* the threads rung: each thread takes whole NR-column slivers of C */
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
                for (int64_t q = 0; q < nc; q += NR)
                    for (int64_t p = 0; p < mc; p += MR)
                        FN(micro_kernel)(kc, packed_a + p * kc, packed_b + q * kc,
                                         C + (i0 + p) * N + j0 + q, N, min64(MR, mc - p),
                                         min64(NR, nc - q), alpha, acc);
            }
        }
    }
}
#endif

