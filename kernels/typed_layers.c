/* Activations, the dense layer and the losses. Part of the typed kernels (see
 * typed_kernels.c): included once per precision. */

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

/* A = f(Z), element-wise (row-wise for softmax); A may be Z itself. Cloned for AVX2 like
 * the optimizer steps (no FMA in the clone: the same numbers): the loops of the
 * piecewise-linear activations run four doubles a step instead of one. */
PYN_CLONES
void FN(pyn_activation_forward)(int64_t m, int64_t n, int act, T negative_slope, const T *Z, T *A)
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
            A[i] = Z[i] <= 0 ? (T)0 : Z[i]; /* NaN <= 0 is false: NaN is kept */
        break;
    case ACT_LEAKY_RELU:
        PYN_IVDEP
        for (int64_t i = 0; i < size; ++i) {
            const T z = Z[i];
            A[i] = z > 0 ? z : z * negative_slope;
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
PYN_CLONES
void FN(pyn_activation_backward)(int64_t m, int64_t n, int act, T negative_slope, const T *dA,
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
            dZ[i] = Z[i] > 0 ? d : d * negative_slope;
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
                              const T *W, const T *b, int act, T negative_slope, T *Z, T *A, T *work)
{
    FN(gemm)(m, n_out, n_in, X, 0, W, 1, Z, 1, 0, work);
    for (int64_t s = 0; s < m; ++s) {
        T *restrict z = Z + s * n_out;
        for (int64_t j = 0; j < n_out; ++j)
            z[j] += b[j];
    }
    if (act >= 0)
        FN(pyn_activation_forward)(m, n_out, act, negative_slope, Z, A);
}

int FN(pyn_dense_forward)(int64_t m, int64_t n_in, int64_t n_out, const T *X, const T *W,
                          const T *b, int act, T negative_slope, T *Z, T *A, T *work, int64_t work_len)
{
    if (work_len < FN(pyn_dense_workspace)(m, n_in, n_out))
        return PYN_ERR_WORKSPACE;
    FN(dense_forward)(m, n_in, n_out, X, W, b, act, negative_slope, Z, A, work);
    return 0;
}

/* db_i = sum_s dZ[s][i], adding whole rows so the loop runs along memory (AVX2 clone:
 * additions only, the same numbers). */
PYN_CLONES
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
PYN_CLONES
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

/* The data loss of the output layer (Backend.data_loss), in double for both precisions:
 * from the logits Z for sigmoid + bce and softmax + cce, otherwise from the probabilities
 * A (pyn_loss_value). The terms are ordered as the numpy backend orders them, so that a
 * confident right answer keeps its small loss instead of losing it against a large z:
 *   bce, per element:  (max(z, 0) - y z) + log1p(e^-|z|)
 *   cce, per row:      (max_j z_j - sum_j y_j z_j) + log1p(sum_{j != argmax} e^(z_j - max))
 * (the argmax's own term e^0 = 1 is the "1 +" inside log1p). */
static double FN(data_loss)(int64_t m, int64_t k, int act, int loss, const T *Z, const T *A,
                            const T *Y)
{
    double total = 0;
    if (act == ACT_SIGMOID && loss == LOSS_BCE) {
        for (int64_t i = 0; i < m * k; ++i) {
            const double z = (double)Z[i];
            total += ((z > 0 ? z : 0.0) - (double)Y[i] * z) + log1p(exp(-fabs(z)));
        }
        return total / (double)(m * k);
    }
    if (act == ACT_SOFTMAX && loss == LOSS_CCE) {
        for (int64_t s = 0; s < m; ++s) {
            const T *z = Z + s * k, *y = Y + s * k;
            int64_t top_index = 0;
            for (int64_t j = 1; j < k && z[top_index] == z[top_index]; ++j)
                if (z[j] > z[top_index] || z[j] != z[j]) /* the first NaN wins, as argmax */
                    top_index = j;
            const double top = (double)z[top_index];
            double rest = 0, dot = 0;
            for (int64_t j = 0; j < k; ++j) {
                if (j != top_index)
                    rest += exp((double)z[j] - top);
                dot += (double)y[j] * (double)z[j];
            }
            total += (top - dot) + log1p(rest);
        }
        return total / (double)m;
    }
    return FN(pyn_loss_value)(m, k, loss, A, Y);
}


/* dL/dZ of the output layer (Backend.output_gradient): the fused (A - Y) / N for
 * sigmoid + BCE and softmax + CE, else dL/dA chained through the activation. */
static void FN(output_gradient)(int64_t m, int64_t k, int act, int loss, T negative_slope,
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
    FN(pyn_activation_backward)(m, k, act, negative_slope, dZ, Z, A, dZ);
}

