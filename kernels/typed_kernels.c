/* The typed kernels, written once for an element type T and included twice by
 * pyneuron_kernels.c (T = double with names ending in _f64, T = float with _f32).
 * Not a translation unit of its own: compile pyneuron_kernels.c.
 */
#ifndef SUF
#error "typed_kernels.c is included by pyneuron_kernels.c; compile that file instead"
#endif

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

int64_t FN(pyn_matmul_workspace)(int64_t M, int64_t N, int64_t K)
{
    const int64_t kc = min64(K, KC);
    return max64(1, round_up(min64(M, MC), MR) * kc + kc * round_up(min64(N, NC), NR));
}

#if PYN_HAVE_X86 /* packing serves only the AVX2 path */
/* Copy op(A)[i0:i0+mc, k0:k0+kc] into MR-row slivers: sliver p holds, for each k, the
 * MR numbers op(A)[i0+p*MR .. +MR-1][k] side by side; rows past the edge are zeros.
 * Whole slivers take the branch-free loop; only the last one checks the edge. */
static void FN(pack_a)(int64_t mc, int64_t kc, const T *A, int64_t rsa, int64_t csa,
                       T *restrict out)
{
    for (int64_t p = 0; p < mc; p += MR) {
        const T *a = A + p * rsa;
        if (p + MR <= mc) {
            for (int64_t k = 0; k < kc; ++k, out += MR)
                for (int64_t r = 0; r < MR; ++r)
                    out[r] = a[r * rsa + k * csa];
        } else {
            for (int64_t k = 0; k < kc; ++k, out += MR)
                for (int64_t r = 0; r < MR; ++r)
                    out[r] = p + r < mc ? a[r * rsa + k * csa] : 0;
        }
    }
}

/* Copy op(B)[k0:k0+kc, j0:j0+nc] into NR-column slivers, row by row, zero-padded. */
static void FN(pack_b)(int64_t kc, int64_t nc, const T *B, int64_t rsb, int64_t csb,
                       T *restrict out)
{
    for (int64_t q = 0; q < nc; q += NR) {
        const T *b = B + q * csb;
        if (q + NR <= nc && csb == 1) { /* B as stored: NR neighbours in a row */
            for (int64_t k = 0; k < kc; ++k, out += NR)
                memcpy(out, b + k * rsb, sizeof(T) * NR);
        } else if (q + NR <= nc) {
            for (int64_t k = 0; k < kc; ++k, out += NR)
                for (int64_t c = 0; c < NR; ++c)
                    out[c] = b[k * rsb + c * csb];
        } else {
            for (int64_t k = 0; k < kc; ++k, out += NR)
                for (int64_t c = 0; c < NR; ++c)
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
    if (mr == MR && nr == NR) { /* a whole tile: straight to C */
#define STORE(r)                                                                       \
    {                                                                                  \
        UVEC *c = (UVEC *)(C + r * ldc);                                               \
        if (accumulate) {                                                              \
            c[0] = c[0] + alpha * c##r##0; c[1] = c[1] + alpha * c##r##1;              \
        } else {                                                                       \
            c[0] = alpha * c##r##0; c[1] = alpha * c##r##1;                            \
        }                                                                              \
    }
        STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
#undef STORE
        return;
    }
    /* an edge tile: spill the registers, then copy the part inside C */
    T tile[MR * NR];
#define SPILL(r) *(UVEC *)(tile + r * NR) = c##r##0; *(UVEC *)(tile + r * NR + VL) = c##r##1
    SPILL(0); SPILL(1); SPILL(2); SPILL(3); SPILL(4); SPILL(5);
#undef SPILL
    for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j)
            C[i * ldc + j] = accumulate ? C[i * ldc + j] + alpha * tile[i * NR + j]
                                        : alpha * tile[i * NR + j];
}

/* The five loops around the micro-kernel; work holds the packed blocks. */
PYN_TARGET_AVX2
static void FN(gemm_packed)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                            const T *B, int trans_b, T *C, T alpha, int accumulate, T *work)
{
    STRIDES;
    T *const packed_a = work;
    T *const packed_b = work + round_up(min64(M, MC), MR) * min64(K, KC);
    for (int64_t j0 = 0; j0 < N; j0 += NC) {
        const int64_t nc = min64(NC, N - j0);
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
            const int64_t kc = min64(KC, K - k0);
            const int acc = accumulate || k0 > 0;
            FN(pack_b)(kc, nc, B + k0 * rsb + j0 * csb, rsb, csb, packed_b);
            for (int64_t i0 = 0; i0 < M; i0 += MC) {
                const int64_t mc = min64(MC, M - i0);
                FN(pack_a)(mc, kc, A + i0 * rsa + k0 * csa, rsa, csa, packed_a);
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
    if (pyn_simd_enabled()) {
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

int FN(pyn_matmul_auto)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                        const T *B, int trans_b, T *C, T *work, int64_t work_len)
{
    if (work_len < FN(pyn_matmul_workspace)(M, N, K))
        return PYN_ERR_WORKSPACE;
    FN(gemm)(M, N, K, A, trans_a, B, trans_b, C, 1, 0, work);
    return 0;
}

/* ================================================================ activations */

/* The element-wise loops below may run in place (A == Z, dZ == dA): each output depends
 * only on the inputs at the same index, so they are safe to vectorize even then -- which
 * GCC cannot prove by itself, hence ivdep. */
#ifndef PYN_IVDEP
#if defined(__GNUC__) && !defined(__clang__)
#define PYN_IVDEP _Pragma("GCC ivdep")
#else
#define PYN_IVDEP
#endif
#endif

/* sigma(z) = 1 / (1 + e^-z) without overflow: e = e^-|z| <= 1 always, and for z < 0
 * the algebraically equal e^z / (1 + e^z) is used (as the numpy backend does). */
static inline T FN(sigmoid)(T z)
{
    const T e = EXP(-ABS(z));
    return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/* Softmax of one row of n: subtract the row maximum so no exponent is positive. */
static void FN(softmax_row)(int64_t n, const T *z, T *a)
{
    T mx = z[0], s = 0;
    for (int64_t j = 1; j < n; ++j)
        if (z[j] > mx || z[j] != z[j]) /* a NaN makes the whole row NaN, as in NumPy */
            mx = z[j];
    for (int64_t j = 0; j < n; ++j) {
        a[j] = EXP(z[j] - mx);
        s += a[j];
    }
    for (int64_t j = 0; j < n; ++j)
        a[j] /= s;
}

/* A = f(Z), element-wise (row-wise for softmax); A may be Z itself. */
void FN(pyn_activation_forward)(int64_t m, int64_t n, int act, T alpha, const T *Z, T *A)
{
    const int64_t size = m * n;
    switch (act) {
    case ACT_SIGMOID:
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i)
            A[i] = FN(sigmoid)(Z[i]);
        break;
    case ACT_TANH:
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i)
            A[i] = TANH(Z[i]);
        break;
    case ACT_RELU: /* max(z, 0), keeping NaN like np.maximum */
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i)
            A[i] = Z[i] > 0 || Z[i] != Z[i] ? Z[i] : (T)0;
        break;
    case ACT_LEAKY_RELU:
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i) {
            const T z = Z[i];
            A[i] = z > 0 ? z : z * alpha;
        }
        break;
    case ACT_SOFTMAX:
        for (int64_t s = 0; s < m; ++s)
            FN(softmax_row)(n, Z + s * n, A + s * n);
        break;
    default: /* linear */
        if (A != Z)
            memcpy(A, Z, sizeof(T) * (size_t)size);
    }
}

/* dZ = dA * f'(Z), the chain rule through the activation; dZ may be dA itself.
 * Softmax is the row-wise Jacobian-vector product dz_i = a_i (da_i - sum_k da_k a_k). */
void FN(pyn_activation_backward)(int64_t m, int64_t n, int act, T alpha, const T *dA,
                                 const T *Z, const T *A, T *dZ)
{
    const int64_t size = m * n;
    switch (act) {
    case ACT_SIGMOID:
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i)
            dZ[i] = dA[i] * A[i] * (1 - A[i]);
        break;
    case ACT_TANH:
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i)
            dZ[i] = dA[i] * (1 - A[i] * A[i]);
        break;
    case ACT_RELU:
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i) {
            const T d = dA[i]; /* loaded unconditionally: a select, not a branch */
            dZ[i] = Z[i] > 0 ? d : (T)0;
        }
        break;
    case ACT_LEAKY_RELU:
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i) {
            const T d = dA[i];
            dZ[i] = Z[i] > 0 ? d : d * alpha;
        }
        break;
    case ACT_SOFTMAX:
        for (int64_t s = 0; s < m; ++s) {
            const T *da = dA + s * n, *a = A + s * n;
            T dot = 0;
            for (int64_t j = 0; j < n; ++j)
                dot += da[j] * a[j];
            for (int64_t j = 0; j < n; ++j)
                dZ[s * n + j] = a[j] * (da[j] - dot);
        }
        break;
    default:
        if (dZ != dA)
            memcpy(dZ, dA, sizeof(T) * (size_t)size);
    }
}

/* ================================================================ dense layer */

int64_t FN(pyn_dense_workspace)(int64_t m, int64_t n_in, int64_t n_out)
{
    /* forward X W^T (m x n_out, K = n_in), backward dZ W (m x n_in, K = n_out) and
     * dZ^T X (n_out x n_in, K = m) */
    return max64(FN(pyn_matmul_workspace)(m, n_out, n_in),
                 max64(FN(pyn_matmul_workspace)(m, n_in, n_out),
                       FN(pyn_matmul_workspace)(n_out, n_in, m)));
}

/* Z = X W^T, then Z += b row by row, then A = f(Z) over the whole block. */
static void FN(dense_forward)(int64_t m, int64_t n_in, int64_t n_out, const T *X,
                              const T *W, const T *b, int act, T alpha, T *Z, T *A, T *work)
{
    FN(gemm)(m, n_out, n_in, X, 0, W, 1, Z, 1, 0, work);
    for (int64_t s = 0; s < m; ++s) {
        T *restrict z = Z + s * n_out;
        for (int64_t j = 0; j < n_out; ++j)
            z[j] += b[j];
    }
    if (act >= 0)
        FN(pyn_activation_forward)(m, n_out, act, alpha, Z, A);
}

int FN(pyn_dense_forward)(int64_t m, int64_t n_in, int64_t n_out, const T *X, const T *W,
                          const T *b, int act, T alpha, T *Z, T *A, T *work, int64_t work_len)
{
    if (work_len < FN(pyn_dense_workspace)(m, n_in, n_out))
        return PYN_ERR_WORKSPACE;
    FN(dense_forward)(m, n_in, n_out, X, W, b, act, alpha, Z, A, work);
    return 0;
}

/* db_i = sum_s dZ[s][i], adding whole rows so the loop runs along memory. */
static void FN(column_sums)(int64_t m, int64_t n, const T *dZ, T *restrict db)
{
    for (int64_t j = 0; j < n; ++j)
        db[j] = 0;
    for (int64_t s = 0; s < m; ++s) {
        const T *restrict row = dZ + s * n;
        for (int64_t j = 0; j < n; ++j)
            db[j] += row[j];
    }
}

int FN(pyn_linear_backward)(int64_t m, int64_t n_in, int64_t n_out, const T *dZ,
                            const T *X, const T *W, T *dX, T *dW, T *db, T *work,
                            int64_t work_len)
{
    if (work_len < FN(pyn_dense_workspace)(m, n_in, n_out))
        return PYN_ERR_WORKSPACE;
    if (dX)
        FN(gemm)(m, n_in, n_out, dZ, 0, W, 0, dX, 1, 0, work); /* dX = dZ W */
    FN(gemm)(n_out, n_in, m, dZ, 1, X, 0, dW, 1, 0, work);     /* dW = dZ^T X */
    FN(column_sums)(m, n_out, dZ, db);
    return 0;
}

/* ================================================================ losses */

/* dZ = (A - Y) / N: the output gradient of sigmoid + BCE and softmax + CE. */
void FN(pyn_output_delta)(int64_t size, const T *A, const T *Y, T n_terms, T *dZ)
{
    for (int64_t i = 0; i < size; ++i)
        dZ[i] = (A[i] - Y[i]) / n_terms;
}

/* A probability clipped to [PROB_EPS, 1 - PROB_EPS], in double for both precisions:
 * in float32 the bound 1 - 1e-12 rounds to 1.0 and log(1 - p) would be -inf. */
static inline double FN(clip_probability)(T a)
{
    const double x = (double)a;
    return x < PROB_EPS ? PROB_EPS : x > 1.0 - PROB_EPS ? 1.0 - PROB_EPS : x;
}

/* dL/dA of the mean loss (Backend.loss_gradient), p = A clipped to [PROB_EPS, 1-PROB_EPS]:
 *   mse  2 (a - y) / (m k),   bce  (p - y) / (p (1 - p)) / (m k),   cce  -y / p / m.
 * In the numpy backend's order of operations; bce and cce in double, rounded to T. */
void FN(pyn_loss_gradient)(int64_t m, int64_t k, int loss, const T *A, const T *Y, T *dA)
{
    const int64_t size = m * k;
    for (int64_t i = 0; i < size; ++i) {
        const double p = FN(clip_probability)(A[i]);
        if (loss == LOSS_MSE)
            dA[i] = 2 * (A[i] - Y[i]) / (T)size;
        else if (loss == LOSS_BCE)
            dA[i] = (T)((p - (double)Y[i]) / (p * (1.0 - p)) / (double)size);
        else
            dA[i] = (T)(-(double)Y[i] / p / (double)m);
    }
}

/* Mean loss (see Backend.loss_value), summed in double for both precisions. */
double FN(pyn_loss_value)(int64_t m, int64_t k, int loss, const T *A, const T *Y)
{
    const int64_t size = m * k;
    double total = 0;
    if (loss == LOSS_MSE) {
        for (int64_t i = 0; i < size; ++i) {
            const T d = A[i] - Y[i];
            total += (double)(d * d);
        }
        return total / (double)size;
    }
    for (int64_t i = 0; i < size; ++i) {
        const double p = FN(clip_probability)(A[i]);
        /* a term whose weight y (or 1 - y) is exactly 0 adds exactly 0: skip its log */
        if (Y[i] != 0)
            total -= (double)Y[i] * log(p);
        if (loss == LOSS_BCE && Y[i] != 1)
            total -= (double)(1 - Y[i]) * log(1.0 - p);
    }
    return total / (double)(loss == LOSS_CCE ? m : size);
}

/* dL/dZ of the output layer (Backend.output_gradient): the fused (A - Y) / N for
 * sigmoid + BCE and softmax + CE, else dL/dA chained through the activation. */
static void FN(output_gradient)(int64_t m, int64_t k, int act, int loss, T alpha,
                                const T *Z, const T *A, const T *Y, T *dZ)
{
    const int64_t size = m * k;
    if (act == ACT_SIGMOID && loss == LOSS_BCE) {
        FN(pyn_output_delta)(size, A, Y, (T)size, dZ);
        return;
    }
    if (act == ACT_SOFTMAX && loss == LOSS_CCE) {
        FN(pyn_output_delta)(size, A, Y, (T)m, dZ);
        return;
    }
    FN(pyn_loss_gradient)(m, k, loss, A, Y, dZ);
    FN(pyn_activation_backward)(m, k, act, alpha, dZ, Z, A, dZ);
}

/* ================================================================ the whole training step */

/* Workspace layout, for the layers l = 1..L: Z_l and A_l (m x n_l each), then two
 * m x max(n) buffers that take turns holding dZ and dA, then the packing space of the
 * largest product. */
int64_t FN(pyn_train_step_workspace)(int64_t L, const int64_t *sizes, int64_t m)
{
    int64_t total = 0, widest = 1, pack = 1;
    for (int64_t l = 0; l < L; ++l) {
        total += 2 * m * sizes[l + 1];
        widest = max64(widest, max64(sizes[l], sizes[l + 1]));
        pack = max64(pack, FN(pyn_dense_workspace)(m, sizes[l], sizes[l + 1]));
    }
    return total + 2 * m * widest + widest + pack;
}

static int FN(all_finite)(int64_t size, const T *x)
{
    for (int64_t i = 0; i < size; ++i)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* Checks that need raw addresses: X and Y must not overlap a parameter (which is
 * written), and no two parameters may overlap. */
static int FN(check_step)(int64_t L, const int64_t *sizes, int64_t m, const T *X, const T *Y,
                          T **W, T **b)
{
    const int64_t xb = m * sizes[0] * (int64_t)sizeof(T), yb = m * sizes[L] * (int64_t)sizeof(T);
    for (int64_t l = 0; l < L; ++l) {
        const int64_t wb = sizes[l + 1] * sizes[l] * (int64_t)sizeof(T);
        const int64_t bb = sizes[l + 1] * (int64_t)sizeof(T);
        if (overlaps(X, xb, W[l], wb) || overlaps(X, xb, b[l], bb))
            return PYN_ERR_X_ALIAS;
        if (overlaps(Y, yb, W[l], wb) || overlaps(Y, yb, b[l], bb))
            return PYN_ERR_Y_ALIAS;
        if (overlaps(W[l], wb, b[l], bb))
            return PYN_ERR_PARAM_ALIAS;
        for (int64_t o = 0; o < l; ++o) {
            const int64_t wo = sizes[o + 1] * sizes[o] * (int64_t)sizeof(T);
            const int64_t bo = sizes[o + 1] * (int64_t)sizeof(T);
            if (overlaps(W[l], wb, W[o], wo) || overlaps(W[l], wb, b[o], bo) ||
                overlaps(b[l], bb, W[o], wo) || overlaps(b[l], bb, b[o], bo))
                return PYN_ERR_PARAM_ALIAS;
        }
    }
    if (!FN(all_finite)(m * sizes[0], X))
        return PYN_ERR_X_NONFINITE;
    if (!FN(all_finite)(m * sizes[L], Y))
        return PYN_ERR_Y_NONFINITE;
    return 0;
}

/* Forward through every layer, the loss, then backward from the output layer down; each
 * layer's W and b are updated (W -= lr dW, b -= lr db) as soon as dX = dZ W (which needs
 * the old W) has been computed. dW is never stored: the product dZ^T X is accumulated
 * straight into W with the factor -lr. */
int FN(pyn_train_step)(int64_t L, const int64_t *sizes, int64_t m, const T *X, const T *Y,
                       T **W, T **b, const int *acts, int loss, T lr, T alpha, T *work,
                       int64_t work_len, double *loss_out)
{
    if (L < 1 || L > 64)
        return PYN_ERR_LAYERS;
    if (work_len < FN(pyn_train_step_workspace)(L, sizes, m))
        return PYN_ERR_WORKSPACE;
    const int err = FN(check_step)(L, sizes, m, X, Y, W, b);
    if (err)
        return err;

    T *Z[64], *A[64]; /* the wrapper limits L to 64 layers */
    T *cursor = work;
    int64_t widest = 1;
    for (int64_t l = 0; l < L; ++l) {
        Z[l] = cursor;
        A[l] = cursor + m * sizes[l + 1];
        cursor += 2 * m * sizes[l + 1];
        widest = max64(widest, max64(sizes[l], sizes[l + 1]));
    }
    T *grad = cursor, *spare = cursor + m * widest, *db = cursor + 2 * m * widest;
    T *pack = db + widest;

    const T *input = X;
    for (int64_t l = 0; l < L; ++l) {
        FN(dense_forward)(m, sizes[l], sizes[l + 1], input, W[l], b[l], acts[l], alpha, Z[l],
                          A[l], pack);
        input = A[l];
    }
    *loss_out = FN(pyn_loss_value)(m, sizes[L], loss, A[L - 1], Y);
    FN(output_gradient)(m, sizes[L], acts[L - 1], loss, alpha, Z[L - 1], A[L - 1], Y, grad);

    for (int64_t l = L - 1; l >= 0; --l) { /* grad holds dZ of layer l */
        const int64_t n_in = sizes[l], n_out = sizes[l + 1];
        const T *layer_input = l > 0 ? A[l - 1] : X;
        if (l > 0) /* dA of the layer below = dZ W, with the old W */
            FN(gemm)(m, n_in, n_out, grad, 0, W[l], 0, spare, 1, 0, pack);
        FN(gemm)(n_out, n_in, m, grad, 1, layer_input, 0, W[l], -lr, 1, pack);
        FN(column_sums)(m, n_out, grad, db);
        for (int64_t j = 0; j < n_out; ++j)
            b[l][j] -= lr * db[j];
        if (l > 0) {
            FN(pyn_activation_backward)(m, n_in, acts[l - 1], alpha, spare, Z[l - 1],
                                        A[l - 1], spare);
            T *t = grad;
            grad = spare;
            spare = t;
        }
    }
    return 0;
}

/* ================================================================ regularization */

/* P = l2/(2m) sum W^2 + l1/m sum |W|; the caller passes c2 = l2/(2m) and c1 = l1/m.
 * Both sums run in double for both precisions (as pyn_loss_value does). */
double FN(pyn_penalty)(int64_t size, const T *W, double c2, double c1)
{
    double squares = 0, absolutes = 0;
    for (int64_t i = 0; i < size; ++i) {
        const double w = (double)W[i];
        squares += w * w;
        absolutes += fabs(w);
    }
    return c2 * squares + c1 * absolutes;
}

/* dP/dW = a W + c sign(W), with a = l2/m and c = l1/m (sign(0) = 0, sign(NaN) = NaN). */
void FN(pyn_penalty_gradient)(int64_t size, const T *W, T a, T c, T *out)
{
    for (int64_t i = 0; i < size; ++i) {
        const T w = W[i];
        const T sign = w > 0 ? (T)1 : w < 0 ? (T)-1 : w == 0 ? (T)0 : w;
        out[i] = a * w + c * sign;
    }
}

/* Inverted dropout, forward and backward alike: out = A * mask / keep_prob
 * (mask holds 0/1; dividing by keep_prob keeps the expected value). */
void FN(pyn_dropout)(int64_t size, const T *A, const T *mask, T keep_prob, T *out)
{
    for (int64_t i = 0; i < size; ++i)
        out[i] = A[i] * mask[i] / keep_prob;
}

/* ================================================================ batch normalization
 * Z is m x n, statistics per column. Column sums run down the rows in order, in T, adding
 * whole rows so the loops walk memory: the same order NumPy's axis-0 reduction uses.
 * work holds n elements (the per-column sqrt(var + eps) or scale). */

/* sum[j] = sum_s f(s, j), rows in order, starting from the first row. */
#define COLUMN_SUM(sum, m, n, EXPR)                                                      \
    do {                                                                                 \
        for (int64_t j = 0; j < (n); ++j) {                                              \
            const int64_t s = 0;                                                         \
            (sum)[j] = (m) > 0 ? (EXPR) : (T)0;                                          \
        }                                                                                \
        for (int64_t s = 1; s < (m); ++s)                                                \
            for (int64_t j = 0; j < (n); ++j)                                            \
                (sum)[j] += (EXPR);                                                      \
    } while (0)

/* Training mode: mu = mean_s Z, var = mean_s (Z - mu)^2 (biased),
 * Zhat = (Z - mu) / sqrt(var + eps), Y = gamma Zhat + beta. */
int FN(pyn_batchnorm_forward)(int64_t m, int64_t n, const T *Z, const T *gamma,
                              const T *beta, T eps, T *Y, T *Zhat, T *mean, T *var,
                              T *work, int64_t work_len)
{
    if (work_len < n)
        return PYN_ERR_WORKSPACE;
    COLUMN_SUM(mean, m, n, Z[s * n + j]);
    for (int64_t j = 0; j < n; ++j)
        mean[j] /= (T)m;
    COLUMN_SUM(var, m, n, (Z[s * n + j] - mean[j]) * (Z[s * n + j] - mean[j]));
    for (int64_t j = 0; j < n; ++j) {
        var[j] /= (T)m;
        work[j] = SQRT(var[j] + eps);
    }
    for (int64_t s = 0; s < m; ++s)
        for (int64_t j = 0; j < n; ++j) {
            const T zh = (Z[s * n + j] - mean[j]) / work[j];
            Zhat[s * n + j] = zh;
            Y[s * n + j] = gamma[j] * zh + beta[j];
        }
    return 0;
}

/* Inference mode: Y = gamma (Z - mu_run) / sqrt(var_run + eps) + beta. */
int FN(pyn_batchnorm_inference)(int64_t m, int64_t n, const T *Z, const T *gamma,
                                const T *beta, const T *running_mean, const T *running_var,
                                T eps, T *Y, T *work, int64_t work_len)
{
    if (work_len < n)
        return PYN_ERR_WORKSPACE;
    for (int64_t j = 0; j < n; ++j)
        work[j] = SQRT(running_var[j] + eps);
    for (int64_t s = 0; s < m; ++s)
        for (int64_t j = 0; j < n; ++j)
            Y[s * n + j] = gamma[j] * (Z[s * n + j] - running_mean[j]) / work[j] + beta[j];
    return 0;
}

/* Backward: dbeta = sum_s dY, dgamma = sum_s dY Zhat,
 * dZ = gamma / (m sqrt(var + eps)) (m dY - dbeta - Zhat dgamma). */
int FN(pyn_batchnorm_backward)(int64_t m, int64_t n, const T *dY, const T *Zhat,
                               const T *gamma, const T *var, T eps, T *dZ, T *dgamma,
                               T *dbeta, T *work, int64_t work_len)
{
    if (work_len < n)
        return PYN_ERR_WORKSPACE;
    COLUMN_SUM(dbeta, m, n, dY[s * n + j]);
    COLUMN_SUM(dgamma, m, n, dY[s * n + j] * Zhat[s * n + j]);
    for (int64_t j = 0; j < n; ++j)
        work[j] = gamma[j] / ((T)m * SQRT(var[j] + eps));
    for (int64_t s = 0; s < m; ++s)
        for (int64_t j = 0; j < n; ++j) {
            const int64_t i = s * n + j;
            dZ[i] = work[j] * ((T)m * dY[i] - dbeta[j] - Zhat[i] * dgamma[j]);
        }
    return 0;
}
#undef COLUMN_SUM

/* ================================================================ optimizer steps
 * In place over n elements (any shape, flat). The wrapper has checked that the state
 * arrays overlap neither each other nor param nor grad, and that grad does not overlap
 * param, hence restrict. Constants such as 1 - beta come from Python (in double, then
 * rounded to T), exactly as NumPy forms them; each element follows the numpy backend's
 * order of operations, so the results agree bit for bit where the compiler does not
 * contract a * b + c into an FMA (it does not on baseline x86-64). */

/* theta <- theta - lr g */
void FN(pyn_sgd_step)(int64_t n, T *restrict param, const T *restrict grad, T lr)
{
    for (int64_t i = 0; i < n; ++i)
        param[i] -= lr * grad[i];
}

/* v <- beta v + (1 - d) g;  u = g + beta v (Nesterov) or v;  theta <- theta - lr u.
 * one_minus_d = 1 - dampening. */
void FN(pyn_momentum_step)(int64_t n, T *restrict param, const T *restrict grad,
                           T *restrict velocity, T lr, T beta, T one_minus_d, int nesterov)
{
    for (int64_t i = 0; i < n; ++i) {
        const T g = grad[i];
        const T v = velocity[i] * beta + one_minus_d * g;
        velocity[i] = v;
        param[i] -= lr * (nesterov ? g + beta * v : v);
    }
}

/* s <- rho s + (1 - rho) g^2;  theta <- theta - lr g / (sqrt(s) + eps).
 * one_minus_rho = 1 - rho. */
void FN(pyn_rmsprop_step)(int64_t n, T *restrict param, const T *restrict grad,
                          T *restrict square_avg, T lr, T rho, T one_minus_rho, T eps)
{
    for (int64_t i = 0; i < n; ++i) {
        const T g = grad[i];
        const T s = square_avg[i] * rho + one_minus_rho * g * g;
        square_avg[i] = s;
        param[i] -= lr * g / (SQRT(s) + eps);
    }
}

/* Adam / AdamW:  theta <- theta shrink (if decay; shrink = 1 - lr lambda),
 * m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g^2,
 * m_hat = m / bc1,  v_hat = v / bc2  (bc_i = 1 - beta_i^t, formed by the caller),
 * theta <- theta - lr m_hat / (sqrt(v_hat) + eps). */
void FN(pyn_adam_step)(int64_t n, T *restrict param, const T *restrict grad, T *restrict m,
                       T *restrict v, T lr, T beta1, T one_minus_beta1, T beta2,
                       T one_minus_beta2, T eps, T bc1, T bc2, int decay, T shrink)
{
    for (int64_t i = 0; i < n; ++i) {
        const T g = grad[i];
        T p = param[i];
        if (decay)
            p *= shrink;
        const T mi = m[i] * beta1 + one_minus_beta1 * g;
        const T vi = v[i] * beta2 + one_minus_beta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        const T m_hat = mi / bc1, v_hat = vi / bc2;
        param[i] = p - lr * m_hat / (SQRT(v_hat) + eps);
    }
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
