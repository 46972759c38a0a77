/* fit's training step for every configuration, part 1: the workspace, the forward pass,
 * the loss and the backward pass (typed_fit_update.c holds the update, typed_fit.c the
 * step and the epoch). Part of the typed kernels (see typed_kernels.c): included once
 * per precision.
 *
 * The step does, in one call, what pyneuron/training.py's per-operation path does with
 * one kernel call per operation -- and in the same order, so the two agree to rounding:
 *   forward  (per layer) Z = X W^T + b; batch norm with the batch's statistics (and the
 *            running statistics updated when m >= 2); A = f(Z); inverted dropout with
 *            the mask uniforms < keep;
 *   loss     from the output's logits for sigmoid + bce and softmax + cce (softplus and
 *            log-sum-exp, in double), otherwise from the probabilities; plus the
 *            penalty l2/(2m) sum W^2 + l1/m sum |W|;
 *   backward dZ of the output, then per layer dW = dZ^T X, db = column sums, and
 *            dX = dZ W back through dropout, the activation and batch norm -- except for
 *            the first layer, whose dX nothing uses;
 *   update   penalty gradients, clipping by value then by global norm (the norm summed
 *            in double, so a float32 gradient of 1e19 does not overflow), one optimizer
 *            step per array with the toolkit's optimizer kernels.
 * Randomness never enters: the dropout masks come from uniform numbers drawn by Python. */

/* Where each layer's buffers live in the workspace (see fit_layout). */
typedef struct {
    T *Z, *A, *out, *mask, *Zlin, *Zhat, *mean, *var, *grad[4];
} FN(fit_layer);

typedef struct {
    FN(fit_layer) layer[64];
    T *Xb, *Yb, *g, *spare, *bn_work, *pack;
    double *wb; /* the gathered batch's sample weights, then each row's dZ scale */
    T *w0t;     /* room for the first layer's W transposed (see first_layer_transposed) */
    int w0t_live; /* 1 while w0t, not W, holds the first layer's weights */
} FN(fit_ws);

#define NET_W(net, l) ((T *)(net)->param[4 * (l)])
#define NET_HAS_BN(net, l) ((net)->param[4 * (l) + 2] != NULL)

/* Hand out consecutive pieces of the workspace (or, with base NULL, only count them).
 * Every piece starts on a 64-byte boundary (given an aligned base), so no two layers'
 * buffers share a cache line. */
static T *FN(take)(T *base, int64_t *used, int64_t n)
{
    const int64_t per_line = 64 / (int64_t)sizeof(T);
    T *p = base ? base + *used : NULL;
    *used += round_up(n, per_line);
    return p;
}

/* Plain SGD -- no momentum, penalty or clipping: the update that can be folded into the
 * weight-gradient product (see sgd_folds_into_product). */
static int FN(sgd_could_fold)(const pyn_net *net)
{
    return net->rule == PYN_RULE_SGD && net->momentum == 0 && !net->pen_l1 &&
           !(net->clip_value > 0) && !(net->clip_norm > 0);
}

/* Lay out the workspace for batches of up to m rows; returns its length in elements. */
static int64_t FN(fit_layout)(const pyn_net *net, int64_t m, T *base, FN(fit_ws) *ws)
{
    const int64_t L = net->L, *sizes = net->sizes;
    int64_t used = 0, widest = 1, pack = 1;
    ws->Xb = FN(take)(base, &used, m * sizes[0]);
    ws->Yb = FN(take)(base, &used, m * sizes[L]);
    for (int64_t l = 0; l < L; ++l) {
        const int64_t n_in = sizes[l], n = sizes[l + 1], mn = m * n;
        FN(fit_layer) *ly = &ws->layer[l];
        ly->Z = FN(take)(base, &used, mn);
        ly->A = FN(take)(base, &used, mn);
        ly->out = ly->A;
        ly->mask = ly->Zlin = ly->Zhat = ly->mean = ly->var = NULL;
        if (net->keep[l] < 1.0) {
            ly->out = FN(take)(base, &used, mn);
            ly->mask = FN(take)(base, &used, mn);
        }
        ly->grad[0] = FN(take)(base, &used, n * n_in);
        ly->grad[1] = net->param[4 * l + 1] ? FN(take)(base, &used, n) : NULL; /* no bias: none */
        ly->grad[2] = ly->grad[3] = NULL;
        if (NET_HAS_BN(net, l)) {
            ly->Zlin = FN(take)(base, &used, mn);
            ly->Zhat = FN(take)(base, &used, mn);
            ly->mean = FN(take)(base, &used, n);
            ly->var = FN(take)(base, &used, n);
            ly->grad[2] = FN(take)(base, &used, n);
            ly->grad[3] = FN(take)(base, &used, n);
        }
        widest = max64(widest, max64(n_in, n));
        pack = max64(pack, FN(pyn_dense_workspace)(m, n_in, n));
    }
    ws->g = FN(take)(base, &used, m * widest);
    ws->spare = FN(take)(base, &used, m * widest);
    ws->bn_work = FN(take)(base, &used, widest);
    ws->pack = FN(take)(base, &used, pack);
    ws->wb = (double *)FN(take)(base, &used, m * (int64_t)(sizeof(double) / sizeof(T)));
    ws->w0t = FN(sgd_could_fold)(net) ? FN(take)(base, &used, sizes[0] * sizes[1]) : NULL;
    ws->w0t_live = 0;
    return used;
}

int64_t FN(pyn_fit_workspace)(const pyn_net *net, int64_t m)
{
    FN(fit_ws) ws;
    if (net->L < 1 || net->L > 64)
        return 0;
    return FN(fit_layout)(net, max64(m, 1), NULL, &ws);
}

/* Does the output layer's activation share its exponentials with the loss (see
 * output_and_loss)? For sigmoid + bce and softmax + cce in double, where the activation
 * and the loss from the logits compute the very same e^x, and no dropout on the output. */
static int FN(shared_output)(const pyn_net *net)
{
    const int act = net->acts[net->L - 1];
    return sizeof(T) == sizeof(double) && net->keep[net->L - 1] >= 1.0 &&
           ((act == ACT_SIGMOID && net->loss == LOSS_BCE) ||
            (act == ACT_SOFTMAX && net->loss == LOSS_CCE));
}

/* Row s's answer is right (metrics.output_accuracy): argmax a == argmax y for cce, the
 * first index of the largest value winning and a NaN in a winning over every number. */
static int FN(row_right)(int64_t k, const T *a, const T *y)
{
    int64_t ia = 0, iy = 0;
    for (int64_t j = 1; j < k; ++j) {
        if (a[ia] == a[ia] && (a[j] > a[ia] || a[j] != a[j]))
            ia = j;
        if (y[j] > y[iy])
            iy = j;
    }
    return ia == iy;
}

/* The output A = f(Z) and the data loss in one pass, for the pairs of shared_output:
 * each e^x once where the activation and data_loss would each compute it. Operation for
 * operation those two (T is double here) -- but for softmax's exponentials, which on
 * AVX-512 come eight at a time from vector_exp.c (within one unit in the last place of
 * the C library's exp, which the separate kernels call), so the two agree to rounding:
 *   sigmoid + bce  e = e^-|z|;  a = 1/(1+e) (z >= 0) or e/(1+e);
 *                  loss term (max(z,0) - y z) + log1p(e)
 *   softmax + cce  e_j = e^(z_j - max);  a_j = e_j / sum_j e_j;
 *                  loss term (max - sum_j y_j z_j) + log1p(sum_{j != argmax} e_j)
 * A row of softmax holding a NaN goes the two separate ways (its loss is NaN either way).
 * right, if not NULL, receives the count of right answers as fit_correct counts them:
 * for softmax the largest a_j is a_top (top: the first largest z_j; e_top = e^0 = 1 and
 * every other e_j <= 1, and rounding e_j / sum keeps that order), so argmax a is the
 * first j with a_j == a_top -- no second search through a with its branches. */
static double FN(output_and_loss)(int64_t m, int64_t k, int act, const T *Z, const T *Y, T *A,
                                  int64_t *right)
{
    double total = 0;
    int64_t count = 0;
    if (act == ACT_SIGMOID) {
        for (int64_t i = 0; i < m * k; ++i) {
            const double z = (double)Z[i], e = exp(-fabs(z));
            A[i] = (T)(z >= 0 ? 1 / (1 + e) : e / (1 + e));
            total += ((z > 0 ? z : 0.0) - (double)Y[i] * z) + log1p(e);
            count += (A[i] >= (T)0.5) == (Y[i] >= (T)0.5);
        }
        if (right)
            *right = count;
        return total / (double)(m * k);
    }
    for (int64_t s = 0; s < m; ++s) {
        const T *z = Z + s * k, *y = Y + s * k;
        T *a = A + s * k;
        /* the first largest z_j, and whether the row holds a NaN: selects, not branches */
        int64_t top = 0;
        T mx = z[0];
        int nan = z[0] != z[0];
        for (int64_t j = 1; j < k; ++j) {
            const int higher = z[j] > mx;
            top = higher ? j : top;
            mx = higher ? z[j] : mx;
            nan |= z[j] != z[j];
        }
        if (nan) { /* as softmax_row and data_loss do it */
            FN(softmax_row)(k, z, a);
            total += FN(data_loss)(1, k, ACT_SOFTMAX, LOSS_CCE, z, a, y);
            count += FN(row_right)(k, a, y);
            continue;
        }
        FN(exp_shifted)(k, z, (double)mx, a); /* a_j = e^(z_j - max), vector_exp.c */
        double sum = 0, rest = 0, dot = 0;
        int64_t iy = 0;
        T ytop = y[0];
        for (int64_t j = 0; j < k; ++j) {
            const double e = (double)a[j];
            sum += e;
            rest += j != top ? e : 0.0; /* rest >= +0, so adding +0 changes nothing */
            dot += (double)y[j] * (double)z[j];
            const int higher = y[j] > ytop;
            iy = higher ? j : iy;
            ytop = higher ? y[j] : ytop;
        }
        for (int64_t j = 0; j < k; ++j)
            a[j] = (T)((double)a[j] / sum);
        total += ((double)mx - dot) + log1p(rest);
        if (a[top] == a[top]) {
            int64_t ia = top;
            for (int64_t j = top - 1; j >= 0; --j)
                ia = a[j] == a[top] ? j : ia;
            count += ia == iy;
        } else {
            count += FN(row_right)(k, a, y); /* an infinite z: a holds NaN */
        }
    }
    if (right)
        *right = count;
    return total / (double)m;
}

/* Z[s][j] += b[j] for every row of Z (m x n): the layer's bias (AVX2 clone: additions
 * only, the same numbers). */
PYN_CLONES
static void FN(add_bias)(int64_t m, int64_t n, T *restrict Z, const T *restrict b)
{
    for (int64_t s = 0; s < m; ++s)
        for (int64_t j = 0; j < n; ++j)
            Z[s * n + j] += b[j];
}

/* Z[s][j] += b[j], then A = relu(Z): add_bias and pyn_activation_forward's relu in one
 * pass over Z instead of two, the same numbers (AVX2 clone: no FMA to contract). */
PYN_CLONES
static void FN(add_bias_relu)(int64_t m, int64_t n, T *restrict Z, const T *restrict b,
                              T *restrict A)
{
    for (int64_t s = 0; s < m; ++s)
        for (int64_t j = 0; j < n; ++j) {
            const T z = Z[s * n + j] + b[j];
            Z[s * n + j] = z;
            A[s * n + j] = z <= 0 ? (T)0 : z; /* NaN <= 0 is false: NaN is kept */
        }
}

/* Batch normalization of layer l's lin into ly->Z: the batch's statistics when training
 * (the running ones updated when m >= 2), else the running ones. */
static void FN(fit_batchnorm)(const pyn_net *net, int64_t l, int64_t m, const T *lin,
                              FN(fit_layer) *ly, int training, FN(fit_ws) *ws)
{
    const int64_t n = net->sizes[l + 1];
    T *const *p = (T *const *)&net->param[4 * l];
    const T eps = (T)net->bn_eps[l];
    T *rm = (T *)net->stats[2 * l], *rv = (T *)net->stats[2 * l + 1];
    if (training) {
        FN(pyn_batchnorm_forward)(m, n, lin, p[2], p[3], eps, ly->Z, ly->Zhat,
                                  ly->mean, ly->var, ws->bn_work, n);
        if (m >= 2) { /* as Dense._update_running_stats: unbiased variance */
            const double mom = net->bn_momentum[l];
            const T keep_old = (T)(1.0 - mom), take_new = (T)mom;
            const T unbias = (T)((double)m / (double)(m - 1));
            for (int64_t j = 0; j < n; ++j) {
                rm[j] = keep_old * rm[j] + take_new * ly->mean[j];
                rv[j] = keep_old * rv[j] + take_new * (ly->var[j] * unbias);
            }
        }
    } else {
        FN(pyn_batchnorm_inference)(m, n, lin, p[2], p[3], rm, rv, eps, ly->Z,
                                    ws->bn_work, n);
    }
}

/* Forward through every layer. training: batch statistics (running ones updated when
 * m >= 2) and dropout from *uniforms (advanced past the numbers used); otherwise the
 * inference graph (running statistics, no dropout). Returns the output layer's A --
 * not yet computed when skip_output (output_and_loss computes it with the loss). */
static const T *FN(fit_forward)(const pyn_net *net, int64_t m, const T *X, FN(fit_ws) *ws,
                                const double **uniforms, int training, int skip_output)
{
    const T negative_slope = (T)net->negative_slope;
    const T *in = X;
    for (int64_t l = 0; l < net->L; ++l) {
        const int64_t n_in = net->sizes[l], n = net->sizes[l + 1], mn = m * n;
        FN(fit_layer) *ly = &ws->layer[l];
        T *const *p = (T *const *)&net->param[4 * l];
        const int bn = NET_HAS_BN(net, l);
        T *lin = bn ? ly->Zlin : ly->Z;
        if (l == 0 && ws->w0t_live) /* Wᵀ as stored: no transposing copy */
            FN(gemm)(m, n, n_in, in, 0, ws->w0t, 0, lin, 1, 0, ws->pack);
        else
            FN(gemm)(m, n, n_in, in, 0, p[0], 1, lin, 1, 0, ws->pack);
        const int output_later = skip_output && l == net->L - 1; /* by output_and_loss */
        if (p[1] && !bn && !output_later && net->acts[l] == ACT_RELU) {
            FN(add_bias_relu)(m, n, lin, p[1], ly->A); /* lin is ly->Z without batch norm */
        } else {
            if (p[1]) /* the bias, if the layer has one */
                FN(add_bias)(m, n, lin, p[1]);
            if (bn)
                FN(fit_batchnorm)(net, l, m, lin, ly, training, ws);
            if (!output_later)
                FN(pyn_activation_forward)(m, n, net->acts[l], negative_slope, ly->Z, ly->A);
        }
        in = ly->A;
        if (training && ly->mask) {
            const double keep = net->keep[l];
            const double *u = *uniforms;
            for (int64_t i = 0; i < mn; ++i)
                ly->mask[i] = u[i] < keep ? (T)1 : (T)0;
            *uniforms = u + mn;
            FN(pyn_dropout)(mn, ly->A, ly->mask, (T)keep, ly->out);
            in = ly->out;
        }
    }
    return in;
}

/* Right answers, as metrics.output_accuracy counts them: argmax against argmax per row
 * (cce, row_right), otherwise (A >= 0.5) == (Y >= 0.5) per element. */
static int64_t FN(fit_correct)(int64_t m, int64_t k, int loss, const T *A, const T *Y)
{
    int64_t right = 0;
    if (loss != LOSS_CCE) {
        for (int64_t i = 0; i < m * k; ++i)
            right += (A[i] >= (T)0.5) == (Y[i] >= (T)0.5);
        return right;
    }
    for (int64_t s = 0; s < m; ++s)
        right += FN(row_right)(k, A + s * k, Y + s * k);
    return right;
}

/* Plain SGD -- no momentum, penalty or clipping -- reads a weight gradient dW once, in
 * W <- W - lr dW. Then the product dW = dZ^T X can add -lr dZ^T X into W itself (the
 * rungs' C = C + alpha op(A) op(B) with alpha = -lr): the gradient is never stored and
 * read back, and no separate pass over W runs. Each element is still W - lr (sum over
 * the batch), the sum in the same order; the last multiply-add may be fused (one
 * rounding instead of two), so the two ways agree to rounding. Only on the SIMD rungs,
 * which sum first and scale once; the portable rung scales every term. */
static int FN(sgd_folds_into_product)(const pyn_net *net)
{
    return FN(sgd_could_fold)(net) && pyn_simd_enabled();
}

/* Backward from the output: every layer's gradients into ws->layer[l].grad -- except,
 * with fold_lr > 0 (see sgd_folds_into_product), the weights', which update W directly:
 * W <- W - fold_lr dW (a frozen W is left alone). row_scale, if not NULL, multiplies each
 * row of the output's dZ (sample weights: see fit_one). */
static void FN(fit_backward)(const pyn_net *net, int64_t m, const T *X, const T *Y,
                             FN(fit_ws) *ws, const double *row_scale, double fold_lr)
{
    const int64_t L = net->L;
    const T negative_slope = (T)net->negative_slope;
    T *g = ws->g, *spare = ws->spare;
    const FN(fit_layer) *top = &ws->layer[L - 1];
    FN(output_gradient)(m, net->sizes[L], net->acts[L - 1], net->loss, negative_slope, top->Z, top->A,
                        Y, g);
    if (row_scale) /* as Backend.scale_rows: the product in double, rounded to T */
        for (int64_t s = 0, k = net->sizes[L]; s < m; ++s)
            for (int64_t j = 0; j < k; ++j)
                g[s * k + j] = (T)((double)g[s * k + j] * row_scale[s]);
    for (int64_t l = L - 1; l >= 0; --l) { /* g holds dL/dZ of layer l (activation input) */
        const int64_t n_in = net->sizes[l], n = net->sizes[l + 1];
        FN(fit_layer) *ly = &ws->layer[l];
        T *const *p = (T *const *)&net->param[4 * l];
        if (NET_HAS_BN(net, l)) /* in place: dY is read whole before dZ is written */
            FN(pyn_batchnorm_backward)(m, n, g, ly->Zhat, p[2], ly->var, (T)net->bn_eps[l], g,
                                       ly->grad[2], ly->grad[3], ws->bn_work, n);
        const T *input = l > 0 ? ws->layer[l - 1].out : X;
        if (!(fold_lr > 0))
            FN(gemm)(n, n_in, m, g, 1, input, 0, ly->grad[0], 1, 0, ws->pack); /* dW = dZ^T X */
        if (ly->grad[1])
            FN(column_sums)(m, n, g, ly->grad[1]);
        if (l > 0) /* dX = dZ W, with W as the forward pass used it; the first layer's dX: unused */
            FN(gemm)(m, n_in, n, g, 0, p[0], 0, spare, 1, 0, ws->pack);
        if (fold_lr > 0 && net->trainable[4 * l] && l == 0 && ws->w0t_live) /* Wᵀ += -lr Xᵀ dZ */
            FN(gemm)(n_in, n, m, input, 1, g, 0, ws->w0t, (T)-fold_lr, 1, ws->pack);
        else if (fold_lr > 0 && net->trainable[4 * l]) /* W += -lr dZ^T X */
            FN(gemm)(n, n_in, m, g, 1, input, 0, p[0], (T)-fold_lr, 1, ws->pack);
        if (l == 0)
            break;
        const FN(fit_layer) *below = &ws->layer[l - 1];
        if (below->mask)
            FN(pyn_dropout)(m * n_in, spare, below->mask, (T)net->keep[l - 1], spare);
        FN(pyn_activation_backward)(m, n_in, net->acts[l - 1], negative_slope, spare, below->Z,
                                    below->A, spare);
        T *swap = g;
        g = spare;
        spare = swap;
    }
}

