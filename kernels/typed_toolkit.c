/* The training toolkit: regularization, batch normalization, optimizer steps. Part of
 * the typed kernels (see typed_kernels.c): included once per precision. */

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
PYN_CLONES
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
PYN_CLONES
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
PYN_CLONES
void FN(pyn_sgd_step)(int64_t n, T *restrict param, const T *restrict grad, T lr)
{
    for (int64_t i = 0; i < n; ++i)
        param[i] -= lr * grad[i];
}

/* v <- beta v + (1 - d) g;  u = g + beta v (Nesterov) or v;  theta <- theta - lr u.
 * one_minus_d = 1 - dampening. */
PYN_CLONES
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
PYN_CLONES
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
PYN_CLONES
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
