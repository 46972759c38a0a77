/* Rung 5 of the matmul ladder: narrow products. Part of the typed kernels (see
 * typed_kernels.c): included once per precision.
 *
 * Rung 5 -- narrow products (N <= NARROW_MAX = 16), as in output layers, in the backward
 * products of small nets, and everywhere in a net like 2-16-8-1.
 * Rung 4 packs A into 6-row slivers and B into 2 VL-column slivers and pads C's edge
 * tiles: for a C of a few columns that costs more than the product itself (a 1-column
 * C is padded to 8 or 16). Here A is read in place and only op(B) is copied, once, into
 * K rows of NP = N rounded up to whole vectors (zero padded; the copy absorbs trans_b).
 * Each row of C is then accumulated in NP / VL vector registers (at most 4) over the
 * whole k loop -- one broadcast of op(A)[i][k] and NP / VL fused multiply-adds per k --
 * and stored once.
 * Rows are taken R at a time (NARROW_BLOCK): each k step loads the NV vectors of op(B)
 * once for all R rows and does R x NV independent multiply-adds. One row at a time did
 * NV x U dependent chains -- 4 for N = 8 -- so the FMA units waited out their latency
 * (4 cycles) instead of starting two a cycle: on 2-16-8-1's products (batch 32) the
 * blocked rows took half the time. The rows left over (fewer than R) go one at a time. */

#if PYN_HAVE_X86
/* op(B) (K x N) into K rows of NP numbers, zero padded. The padding (fewer than VL
 * numbers) is written as one zero vector over the row's last VL places before the values:
 * a loop of zeros became a memset call per row, which cost more than the row. */
static void FN(pack_narrow_b)(int64_t K, int64_t N, int64_t NP, const T *B, int64_t rsb,
                              int64_t csb, T *restrict out)
{
    for (int64_t k = 0; k < K; ++k, out += NP) {
        if (NP != N)
            *(UVEC *)(out + NP - VL) = (VEC){0};
        for (int64_t j = 0; j < N; ++j)
            out[j] = B[k * rsb + j * csb];
    }
}

/* Every row of C with NV x U accumulators (compile-time counts, so they stay in
 * registers): U partial sums over alternating k break the chain of dependent
 * multiply-adds, which would otherwise wait out the FMA latency when NV is small. */
#define NARROW_ROWS(NV, U)                                                               \
    for (; i < M; ++i) {                                                                 \
        VEC acc[U][NV];                                                                  \
        _Pragma("GCC unroll 8")                                                          \
        for (int u = 0; u < U; ++u)                                                      \
            _Pragma("GCC unroll 8")                                                      \
            for (int v = 0; v < NV; ++v)                                                 \
                acc[u][v] = (VEC){0};                                                    \
        const T *a = A + i * rsa, *b = Bp;                                               \
        int64_t k = 0;                                                                   \
        for (; k + U <= K; k += U, b += U * ldb)                                         \
            _Pragma("GCC unroll 8")                                                      \
            for (int u = 0; u < U; ++u) {                                                \
                const T x = a[(k + u) * csa];                                            \
                _Pragma("GCC unroll 8")                                                  \
                for (int v = 0; v < NV; ++v)                                             \
                    acc[u][v] += x * *(const UVEC *)(b + u * ldb + v * VL);              \
            }                                                                            \
        for (; k < K; ++k, b += ldb) {                                                   \
            const T x = a[k * csa];                                                      \
            _Pragma("GCC unroll 8")                                                      \
            for (int v = 0; v < NV; ++v)                                                 \
                acc[0][v] += x * *(const UVEC *)(b + v * VL);                            \
        }                                                                                \
        _Pragma("GCC unroll 8")                                                          \
        for (int u = 1; u < U; ++u)                                                      \
            _Pragma("GCC unroll 8")                                                      \
            for (int v = 0; v < NV; ++v)                                                 \
                acc[0][v] += acc[u][v];                                                  \
        T *c = C + i * N;                                                                \
        if (N == NV * VL) { /* whole vectors: stored straight from the registers */      \
            _Pragma("GCC unroll 8")                                                      \
            for (int v = 0; v < NV; ++v) {                                               \
                UVEC *cv = (UVEC *)(c + v * VL);                                         \
                VEC scaled = alpha * acc[0][v];                                          \
                ROUNDED(scaled);                                                         \
                *cv = accumulate ? *cv + scaled : scaled;                                \
            }                                                                            \
            continue;                                                                    \
        }                                                                                \
        T tile[NV * VL];                                                                 \
        _Pragma("GCC unroll 8")                                                          \
        for (int v = 0; v < NV; ++v)                                                     \
            *(UVEC *)(tile + v * VL) = acc[0][v];                                           \
        if (accumulate) {                                                                \
            for (int64_t j = 0; j < N; ++j) {                                            \
                T scaled = alpha * tile[j];                                              \
                ROUNDED(scaled);                                                         \
                c[j] += scaled;                                                          \
            }                                                                            \
        } else {                                                                         \
            for (int64_t j = 0; j < N; ++j)                                              \
                c[j] = alpha * tile[j];                                                  \
        }                                                                                \
    }

/* Row i of C from the accumulator vectors acc[0..NV): whole vectors straight from the
 * registers, else through a tile (the columns past N are padding). */
#define NARROW_STORE(NV, acc)                                                            \
    {                                                                                    \
        T *c = C + i * N;                                                                \
        if (N == NV * VL) {                                                              \
            _Pragma("GCC unroll 8")                                                      \
            for (int v = 0; v < NV; ++v) {                                               \
                UVEC *cv = (UVEC *)(c + v * VL);                                         \
                VEC scaled = alpha * (acc)[v];                                           \
                ROUNDED(scaled);                                                         \
                *cv = accumulate ? *cv + scaled : scaled;                                \
            }                                                                            \
        } else {                                                                         \
            T tile[NV * VL];                                                             \
            _Pragma("GCC unroll 8")                                                      \
            for (int v = 0; v < NV; ++v)                                                 \
                *(UVEC *)(tile + v * VL) = (acc)[v];                                     \
            for (int64_t j = 0; j < N; ++j) {                                            \
                T scaled = alpha * tile[j];                                              \
                ROUNDED(scaled);                                                         \
                c[j] = accumulate ? c[j] + scaled : scaled;                              \
            }                                                                            \
        }                                                                                \
    }

/* R rows of C at a time (R x NV accumulators and NV vectors of op(B) in registers). */
#define NARROW_BLOCK(NV, R)                                                              \
    for (; i + R <= M; i += R) {                                                         \
        VEC acc[R][NV];                                                                  \
        _Pragma("GCC unroll 8")                                                          \
        for (int r = 0; r < R; ++r)                                                      \
            _Pragma("GCC unroll 8")                                                      \
            for (int v = 0; v < NV; ++v)                                                 \
                acc[r][v] = (VEC){0};                                                    \
        const T *a = A + i * rsa, *b = Bp;                                               \
        for (int64_t k = 0; k < K; ++k, b += ldb) {                                      \
            VEC bv[NV];                                                                  \
            _Pragma("GCC unroll 8")                                                      \
            for (int v = 0; v < NV; ++v)                                                 \
                bv[v] = *(const UVEC *)(b + v * VL);                                     \
            _Pragma("GCC unroll 8")                                                      \
            for (int r = 0; r < R; ++r) {                                                \
                const T x = a[r * rsa + k * csa];                                        \
                _Pragma("GCC unroll 8")                                                  \
                for (int v = 0; v < NV; ++v)                                             \
                    acc[r][v] += x * bv[v];                                              \
            }                                                                            \
        }                                                                                \
        _Pragma("GCC unroll 8")                                                          \
        for (int r = 0; r < R; ++r, ++i)                                                 \
            NARROW_STORE(NV, acc[r]);                                                    \
        i -= R;                                                                          \
    }

/* C = (accumulate ? C : 0) + alpha op(A) op(B) for N <= NARROW_MAX; work holds
 * K * round_up(N, VL) elements (pyn_matmul_workspace asks for at least that). */
PYN_TARGET_AVX2
static void FN(gemm_narrow)(int64_t M, int64_t N, int64_t K, const T *A, int trans_a,
                            const T *B, int trans_b, T *C, T alpha, int accumulate, T *work)
{
    STRIDES;
    const int64_t NP = round_up(N, VL);
    const T *Bp = B; /* B as stored, whole vectors per row: read in place */
    int64_t ldb = rsb;
    if (trans_b || NP != N) { /* else copy op(B), zero padded, into the workspace */
        FN(pack_narrow_b)(K, N, NP, B, rsb, csb, work);
        Bp = work;
        ldb = NP;
    }
    int64_t i = 0;
    switch (NP / VL) {
    case 1:
        NARROW_BLOCK(1, 6);
        NARROW_ROWS(1, 4);
        break;
    case 2:
        NARROW_BLOCK(2, 4);
        NARROW_ROWS(2, 2);
        break;
#if VL == 4
    case 3:
        NARROW_BLOCK(3, 3);
        NARROW_ROWS(3, 2);
        break;
    default:
        NARROW_BLOCK(4, 2);
        NARROW_ROWS(4, 2);
#endif
    }
}
#undef NARROW_ROWS
#undef NARROW_BLOCK
#undef NARROW_STORE
#endif
