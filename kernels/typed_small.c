/* Rung 7 of the matmul ladder: small products on AVX-512. Part of the typed kernels (see
 * typed_kernels.c): included once per precision.
 *
 * Rung 7 -- small products (every operand in L1 or L2: K <= SMALL_MAX_K and K x N <=
 * SMALL_MAX_KN), as in the layers of a 64-64-32-10 net at batch 32.
 * Rung 6 copies blocks of A and B into packed slivers and computes 12-row tiles. When a
 * whole product is a few microseconds, that copying is a fifth of the time, and a C of 32
 * rows takes three 12-row tiles (36 rows of work for 32). Here op(A) is read in place:
 * each k step broadcasts one number of each of the tile's rows straight from A, whether
 * A is read as stored or transposed (the broadcast reads one number, so the stride costs
 * nothing). op(B) is read in place too, row k of it a run of N numbers -- except when
 * trans_b asks for the rows of Bᵀ, whose numbers lie K apart: then one panel of columns at a
 * time is first copied, transposed, into the workspace (transpose_panel).
 * A tile is SMALL_MR rows x SMALL_NV zmm vectors of C (4 x 32 doubles, 4 x 64 floats) in
 * 16 registers; each k step loads SMALL_NV vectors of op(B), broadcasts SMALL_MR numbers
 * of A and does 16 fused multiply-adds. The last vector of a row is loaded and stored
 * with a mask, so N need not be a multiple of the vector, and tiles at C's bottom edge
 * have fewer rows (each shape is its own compiled loop, see SMALL_TILE), so no work is
 * wasted on padding.
 * Every element of C is summed over k in order with one fused multiply-add per step,
 * K split at KC as rung 6 splits it: the same numbers as rung 6, bit for bit. */

#if PYN_HAVE_X86
#define VL512 (2 * VL)
#define SMALL_MR 4
#define SMALL_NV 4
#define SMALL_MAX_K KC       /* one pass over k, as in rung 6's panels */
#define SMALL_MAX_KN 32768   /* op(B) of at most 256 KB (double): inside L2 */

/* Does rung 7 serve a product of this shape (and N > NARROW_MAX, which rung 5 takes)? */
static int FN(small_product)(int64_t N, int64_t K)
{
    return K <= SMALL_MAX_K && K * N <= SMALL_MAX_KN;
}

/* Columns j0 .. j0+cols-1 of op(B) = Bᵀ (B stored N x K) into kc rows of `width`
 * numbers: out[k][c] = B[(j0 + c) K + k0 + k]. Whole 8 x 8 blocks of doubles go through
 * registers (transpose8x8_f64); the rest, and float, element by element. */
PYN_TARGET_AVX512
static void FN(transpose_panel)(int64_t kc, int64_t cols, const T *B, int64_t K, T *restrict out,
                                int64_t width)
{
    int64_t k = 0;
#if HAVE_TRANSPOSE8x8
    for (; k + 8 <= kc; k += 8) {
        int64_t c = 0;
        for (; c + 8 <= cols; c += 8)
            TRANSPOSE8x8(B + c * K + k, K, out + k * width + c, width);
        for (; c < cols; ++c)
            for (int64_t r = k; r < k + 8; ++r)
                out[r * width + c] = B[c * K + r];
    }
#endif
    for (; k < kc; ++k)
        for (int64_t c = 0; c < cols; ++c)
            out[k * width + c] = B[c * K + k];
}

/* One tile of C: MR_ rows x NV_ vectors, the last vector's lanes masked by `last`.
 * A points at the tile's first row of op(A) (element (r, k) at A[r rsa + k csa]), Bp at
 * its first column of op(B)'s row 0 (rows ldb apart). The loops run over compile-time
 * counts, fully unrolled, so the accumulators stay in registers. */
#define SMALL_TILE(MR_, NV_)                                                             \
    {                                                                                    \
        VEC512 acc[MR_][NV_];                                                            \
        _Pragma("GCC unroll 4") for (int r = 0; r < MR_; ++r)                            \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV_; ++v)                        \
                acc[r][v] = (VEC512){0};                                                 \
        const T *a = A, *b = Bp;                                                         \
        for (int64_t k = 0; k < kc; ++k, a += csa, b += ldb) {                           \
            VEC512 bv[NV_];                                                              \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV_; ++v)                        \
                bv[v] = MASKZ_LOAD512(v == NV_ - 1 ? last : FULL512, b + v * VL512);     \
            _Pragma("GCC unroll 4") for (int r = 0; r < MR_; ++r) {                      \
                const T x = a[r * rsa];                                                  \
                _Pragma("GCC unroll 4") for (int v = 0; v < NV_; ++v)                    \
                    acc[r][v] += x * bv[v];                                              \
            }                                                                            \
        }                                                                                \
        _Pragma("GCC unroll 4") for (int r = 0; r < MR_; ++r)                            \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV_; ++v) {                      \
                T *c = C + r * ldc + v * VL512;                                          \
                const MASK512 mask = v == NV_ - 1 ? last : FULL512;                      \
                VEC512 value = alpha * acc[r][v];                                        \
                if (accumulate) { /* the product rounded first: see ROUNDED */           \
                    ROUNDED(value);                                                      \
                    value = MASKZ_LOAD512(mask, c) + value;                              \
                }                                                                        \
                MASK_STORE512(c, mask, value);                                           \
            }                                                                            \
    }

PYN_TARGET_AVX512
static void FN(small_tile)(int mr, int nv, int64_t kc, const T *A, int64_t rsa, int64_t csa,
                           const T *Bp, int64_t ldb, T *C, int64_t ldc, MASK512 last, T alpha,
                           int accumulate)
{
    switch (mr * 8 + nv) {
    case 4 * 8 + 4: SMALL_TILE(4, 4); break;
    case 4 * 8 + 3: SMALL_TILE(4, 3); break;
    case 4 * 8 + 2: SMALL_TILE(4, 2); break;
    case 4 * 8 + 1: SMALL_TILE(4, 1); break;
    case 3 * 8 + 4: SMALL_TILE(3, 4); break;
    case 3 * 8 + 3: SMALL_TILE(3, 3); break;
    case 3 * 8 + 2: SMALL_TILE(3, 2); break;
    case 3 * 8 + 1: SMALL_TILE(3, 1); break;
    case 2 * 8 + 4: SMALL_TILE(2, 4); break;
    case 2 * 8 + 3: SMALL_TILE(2, 3); break;
    case 2 * 8 + 2: SMALL_TILE(2, 2); break;
    case 2 * 8 + 1: SMALL_TILE(2, 1); break;
    case 1 * 8 + 4: SMALL_TILE(1, 4); break;
    case 1 * 8 + 3: SMALL_TILE(1, 3); break;
    case 1 * 8 + 2: SMALL_TILE(1, 2); break;
    default: SMALL_TILE(1, 1); break;
    }
}
#undef SMALL_TILE

/* C = (accumulate ? C : 0) + alpha op(A) op(B) on rung 7, any shape (K in passes of
 * KC, as rung 6). With trans_b, work holds a KC x (SMALL_NV VL512) panel -- no more than
 * pyn_matmul_workspace asks for any N > NARROW_MAX. */
PYN_TARGET_AVX512
static void FN(gemm_small)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                           const T *B, int trans_b, T *C, T alpha, int accumulate, T *work)
{
    STRIDES;
    const int64_t panel = SMALL_NV * VL512;
    for (int64_t j0 = 0; j0 < N; j0 += panel) {
        const int64_t cols = min64(panel, N - j0);
        const int nv = (int)((cols + VL512 - 1) / VL512);
        const int tail = (int)(cols - (nv - 1) * VL512); /* lanes of the last vector */
        const MASK512 last = (MASK512)(FULL512 >> (VL512 - tail));
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
            const int64_t kc = min64(KC, K - k0);
            const T *Bp = B + k0 * rsb + j0 * csb;
            int64_t ldb = rsb;
            if (trans_b) {
                const int64_t width = round_up(cols, VL512);
                FN(transpose_panel)(kc, cols, Bp, csb, work, width);
                Bp = work;
                ldb = width;
            }
            for (int64_t i0 = 0; i0 < M; i0 += SMALL_MR)
                FN(small_tile)((int)min64(SMALL_MR, M - i0), nv, kc, A + i0 * rsa + k0 * csa,
                               rsa, csa, Bp, ldb, C + i0 * N + j0, N, last, alpha,
                               accumulate || k0 > 0);
        }
    }
}
#undef VL512
#endif
