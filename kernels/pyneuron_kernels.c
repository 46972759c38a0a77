/* pyneuron's C kernels: the part shared by both precisions, then the typed kernels
 * stamped out twice from kernels/typed_kernels.c (once for double, once for float).
 *
 * Build notes: compiled with -O3 but never -ffast-math (IEEE results, NaN kept).
 * There is no -march=native: the AVX2/FMA code is compiled per function with
 * __attribute__((target("avx2,fma"))) and chosen at run time, so the same binary runs
 * on any x86-64 (and the portable code serves every other CPU).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "pyneuron_kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define PYN_HAVE_X86 1
#define PYN_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define PYN_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define PYN_HAVE_X86 0
#define PYN_TARGET_AVX2
#define PYN_TARGET_AVX512
#endif
/* Element-wise loops with no FMA to contract (optimizer steps, dropout): an AVX2 clone
 * (twice the numbers per instruction of the SSE2 baseline) chosen by the loader where the
 * CPU has it. The clone has no FMA, so every result stays bit for bit the baseline's. */
#if PYN_HAVE_X86 && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define PYN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PYN_CLONES
#endif
#if defined(_MSC_VER) && !defined(__clang__)
#define restrict __restrict
#endif

enum { ACT_LINEAR = 0, ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_LEAKY_RELU, ACT_SOFTMAX };
enum { LOSS_MSE = 0, LOSS_BCE, LOSS_CCE };
#define PROB_EPS 1e-12 /* pyneuron.backends.base.PROB_EPS */

/* ---------------------------------------------------------------- run-time dispatch */
/* The SIMD level the fast paths use: -1 not asked yet; 0 portable code (PYN_SIMD_NONE);
 * 1 AVX2 + FMA (PYN_SIMD_AVX2); 2 AVX-512F as well (PYN_SIMD_AVX512). */
static int simd_state = -1;

int pyn_simd_available(void)
{
#if PYN_HAVE_X86
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        return PYN_SIMD_NONE;
    /* libgcc reports avx512f only where the OS also saves the zmm registers */
    return __builtin_cpu_supports("avx512f") ? PYN_SIMD_AVX512 : PYN_SIMD_AVX2;
#else
    return PYN_SIMD_NONE;
#endif
}

int pyn_simd_enabled(void)
{
    if (simd_state < 0)
        simd_state = pyn_simd_available();
    return simd_state;
}

void pyn_set_simd_enabled(int enabled)
{
    simd_state = enabled ? pyn_simd_available() : PYN_SIMD_NONE;
}

int pyn_set_simd_level(int level)
{
    const int available = pyn_simd_available();
    simd_state = level < PYN_SIMD_NONE ? PYN_SIMD_NONE : level > available ? available : level;
    return simd_state;
}

/* ---------------------------------------------------------------- threads
 * The threads rung: big packed products split their columns over threads (OpenMP, when
 * the compiler has it; one thread otherwise). The count starts from PYNEURON_THREADS or
 * OMP_NUM_THREADS (else 1: opt-in, as the machines this teaches on are often shared)
 * and pyn_set_threads changes it. Each element of C is still summed by one thread in one
 * order, so the result is the same bit for bit on any number of threads. */
static int thread_count = 0; /* 0: not read from the environment yet */

int pyn_openmp_available(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int pyn_set_threads(int n)
{
    thread_count = n < 1 || !pyn_openmp_available() ? 1 : n > 1024 ? 1024 : n;
    return thread_count;
}

int pyn_get_threads(void)
{
    if (thread_count < 1) {
        const char *env = getenv("PYNEURON_THREADS");
        if (!env || !*env)
            env = getenv("OMP_NUM_THREADS");
        pyn_set_threads(env && *env ? atoi(env) : 1);
    }
    return thread_count;
}

/* Threads for a product of M x N x K: one below 2^21 multiply-adds (128^3), where
 * starting them costs more than they save. */
static int gemm_threads(int64_t M, int64_t N, int64_t K)
{
    const int n = pyn_get_threads();
    return n > 1 && M * N * K >= ((int64_t)1 << 21) ? n : 1;
}

/* Do the byte ranges [p, p+n) and [q, q+k) overlap? (n, k in bytes) */
static int overlaps(const void *p, int64_t n, const void *q, int64_t k)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)q;
    if (n <= 0 || k <= 0)
        return 0;
    return a < b + (uintptr_t)k && b < a + (uintptr_t)n;
}

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ROUNDED(x): x as computed, rounded on its own. GCC fuses a product into the addition
 * that follows it (-ffp-contract=fast, its default outside ISO C mode): one rounding
 * instead of two, chosen differently in differently shaped copies of one loop. An empty
 * asm that claims to change x stops it. The matmul rungs use it where they store
 * C = C + alpha (sum): the product is rounded first, as two separate kernel calls (the
 * product, then an optimizer's W - lr dW) would round it, whatever the rung or tile. */
#if defined(__GNUC__) && PYN_HAVE_X86
#define ROUNDED(x) __asm__("" : "+x"(x))
#else
#define ROUNDED(x) ((void)0)
#endif

#if PYN_HAVE_X86
#include <immintrin.h>

/* The 8 x 8 block of doubles at src (rows lds apart) transposed into dst (rows ldd
 * apart), in registers: pairs of rows interleaved (unpacklo/hi: 2 x 2 blocks), then
 * pairs of 128-bit lanes, then pairs of 256-bit halves -- 24 shuffles for 64 numbers,
 * where copying them one by one takes a load and a store each. Used by rung 7. */
PYN_TARGET_AVX512
static inline void transpose8x8_f64(const double *src, int64_t lds, double *dst, int64_t ldd)
{
    __m512d r[8], t[8], u[8];
    for (int i = 0; i < 8; ++i)
        r[i] = _mm512_loadu_pd(src + i * lds);
    for (int i = 0; i < 8; i += 2) { /* t[i]: columns 0,2,4,6 of rows i,i+1; t[i+1]: 1,3,5,7 */
        t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
    }
    for (int h = 0; h < 2; ++h) { /* h = 0: the even columns, h = 1: the odd ones */
        u[4 * h] = _mm512_shuffle_f64x2(t[h], t[h + 2], 0x88);     /* columns 0+h, 4+h: rows 0-3 */
        u[4 * h + 1] = _mm512_shuffle_f64x2(t[h], t[h + 2], 0xDD); /* columns 2+h, 6+h: rows 0-3 */
        u[4 * h + 2] = _mm512_shuffle_f64x2(t[h + 4], t[h + 6], 0x88); /* the same, rows 4-7 */
        u[4 * h + 3] = _mm512_shuffle_f64x2(t[h + 4], t[h + 6], 0xDD);
    }
    for (int h = 0; h < 2; ++h) {
        _mm512_storeu_pd(dst + (0 + h) * ldd, _mm512_shuffle_f64x2(u[4 * h], u[4 * h + 2], 0x88));
        _mm512_storeu_pd(dst + (4 + h) * ldd, _mm512_shuffle_f64x2(u[4 * h], u[4 * h + 2], 0xDD));
        _mm512_storeu_pd(dst + (2 + h) * ldd, _mm512_shuffle_f64x2(u[4 * h + 1], u[4 * h + 3], 0x88));
        _mm512_storeu_pd(dst + (6 + h) * ldd, _mm512_shuffle_f64x2(u[4 * h + 1], u[4 * h + 3], 0xDD));
    }
}
#endif

#include "vector_exp.c"

/* ---------------------------------------------------------------- the typed kernels */
/* VEC is one 256-bit AVX register of T; UVEC the same type read or written at any
 * address (alignment of one T), which is what GCC's vector extensions need for
 * unaligned loads. VL is the number of lanes. */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUF)

#define T double
#define SUF _f64
#define VL 4
#define EXP exp
#define TANH tanh
#define ABS fabs
#define SQRT sqrt
#if PYN_HAVE_X86 /* GCC/Clang vector extensions, used only by the AVX2 micro-kernel */
typedef double vec_f64 __attribute__((vector_size(32)));
typedef double uvec_f64 __attribute__((vector_size(32), aligned(8)));
typedef float vec_f32 __attribute__((vector_size(32)));
typedef float uvec_f32 __attribute__((vector_size(32), aligned(4)));
/* the same for one 512-bit AVX-512 register (rung 6) */
typedef double vec512_f64 __attribute__((vector_size(64)));
typedef double uvec512_f64 __attribute__((vector_size(64), aligned(8)));
typedef float vec512_f32 __attribute__((vector_size(64)));
typedef float uvec512_f32 __attribute__((vector_size(64), aligned(4)));
#endif
#define VEC vec_f64
#define UVEC uvec_f64
#define VEC512 vec512_f64
#define UVEC512 uvec512_f64
/* rung 7's masked loads and stores of one zmm register, and its transposer */
#define MASK512 __mmask8
#define FULL512 0xFFu
#define MASKZ_LOAD512(m, p) ((VEC512)_mm512_maskz_loadu_pd((m), (p)))
#define MASK_STORE512(p, m, v) _mm512_mask_storeu_pd((p), (m), (__m512d)(v))
#define TRANSPOSE8x8 transpose8x8_f64
#define HAVE_TRANSPOSE8x8 1
#include "typed_kernels.c"
#undef T
#undef SUF
#undef VL
#undef EXP
#undef TANH
#undef ABS
#undef SQRT
#undef VEC
#undef UVEC
#undef VEC512
#undef UVEC512
#undef MASK512
#undef FULL512
#undef MASKZ_LOAD512
#undef MASK_STORE512
#undef TRANSPOSE8x8
#undef HAVE_TRANSPOSE8x8

#define T float
#define SUF _f32
#define VL 8
#define EXP expf
#define TANH tanhf
#define ABS fabsf
#define SQRT sqrtf
#define VEC vec_f32
#define UVEC uvec_f32
#define VEC512 vec512_f32
#define UVEC512 uvec512_f32
#define MASK512 __mmask16
#define FULL512 0xFFFFu
#define MASKZ_LOAD512(m, p) ((VEC512)_mm512_maskz_loadu_ps((m), (p)))
#define MASK_STORE512(p, m, v) _mm512_mask_storeu_ps((p), (m), (__m512)(v))
#define HAVE_TRANSPOSE8x8 0 /* float: element by element */
#include "typed_kernels.c"
