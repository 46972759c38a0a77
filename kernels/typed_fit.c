/* fit's training step for every configuration, and a whole epoch in one call. Part of
 * the typed kernels (see typed_kernels.c): included once per precision.
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
    return used;
}

int64_t FN(pyn_fit_workspace)(const pyn_net *net, int64_t m)
{
    FN(fit_ws) ws;
    if (net->L < 1 || net->L > 64)
        return 0;
    return FN(fit_layout)(net, max64(m, 1), NULL, &ws);
}

/* Forward through every layer. training: batch statistics (running ones updated when
 * m >= 2) and dropout from *uniforms (advanced past the numbers used); otherwise the
 * inference graph (running statistics, no dropout). Returns the output layer's A. */
static const T *FN(fit_forward)(const pyn_net *net, int64_t m, const T *X, FN(fit_ws) *ws,
                                const double **uniforms, int training)
{
    const T alpha = (T)net->alpha;
    const T *in = X;
    for (int64_t l = 0; l < net->L; ++l) {
        const int64_t n_in = net->sizes[l], n = net->sizes[l + 1], mn = m * n;
        FN(fit_layer) *ly = &ws->layer[l];
        T *const *p = (T *const *)&net->param[4 * l];
        const int bn = NET_HAS_BN(net, l);
        T *lin = bn ? ly->Zlin : ly->Z;
        FN(gemm)(m, n, n_in, in, 0, p[0], 1, lin, 1, 0, ws->pack);
        for (int64_t s = 0; p[1] && s < m; ++s) /* the bias, if the layer has one */
            for (int64_t j = 0; j < n; ++j)
                lin[s * n + j] += p[1][j];
        if (bn) {
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
        FN(pyn_activation_forward)(m, n, net->acts[l], alpha, ly->Z, ly->A);
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

/* The data loss of the output layer (Backend.data_loss), in double: from the logits Z
 * for sigmoid + bce (mean of softplus(z) - y z) and softmax + cce (mean over rows of
 * logsumexp(z) - sum y z), otherwise from the probabilities A (pyn_loss_value). */
static double FN(fit_data_loss)(int64_t m, int64_t k, int act, int loss, const T *Z,
                                const T *A, const T *Y)
{
    double total = 0;
    if (act == ACT_SIGMOID && loss == LOSS_BCE) {
        for (int64_t i = 0; i < m * k; ++i) {
            const double z = (double)Z[i];
            const double softplus = (z > 0 ? z : 0.0) + log1p(exp(-fabs(z)));
            total += softplus - (double)Y[i] * z;
        }
        return total / (double)(m * k);
    }
    if (act == ACT_SOFTMAX && loss == LOSS_CCE) {
        for (int64_t s = 0; s < m; ++s) {
            const T *z = Z + s * k, *y = Y + s * k;
            double top = (double)z[0], sum = 0, dot = 0;
            for (int64_t j = 1; j < k; ++j)
                if ((double)z[j] > top || z[j] != z[j])
                    top = (double)z[j];
            for (int64_t j = 0; j < k; ++j) {
                sum += exp((double)z[j] - top);
                dot += (double)y[j] * (double)z[j];
            }
            total += top + log(sum) - dot;
        }
        return total / (double)m;
    }
    return FN(pyn_loss_value)(m, k, loss, A, Y);
}

/* Right answers, as metrics.output_accuracy counts them: argmax against argmax per row
 * (cce), otherwise (A >= 0.5) == (Y >= 0.5) per element. */
static int64_t FN(fit_correct)(int64_t m, int64_t k, int loss, const T *A, const T *Y)
{
    int64_t right = 0;
    if (loss != LOSS_CCE) {
        for (int64_t i = 0; i < m * k; ++i)
            right += (A[i] >= (T)0.5) == (Y[i] >= (T)0.5);
        return right;
    }
    for (int64_t s = 0; s < m; ++s) {
        const T *a = A + s * k, *y = Y + s * k;
        int64_t ia = 0, iy = 0;
        for (int64_t j = 1; j < k; ++j) {
            if (a[ia] == a[ia] && (a[j] > a[ia] || a[j] != a[j])) /* NaN wins, as in argmax */
                ia = j;
            if (y[j] > y[iy])
                iy = j;
        }
        right += ia == iy;
    }
    return right;
}

/* The penalty l2/(2m) sum W^2 + l1/m sum |W| over every layer's weights (not biases). */
static double FN(fit_penalty)(const pyn_net *net, int64_t m)
{
    double total = 0;
    for (int64_t l = 0; l < net->L; ++l)
        total += FN(pyn_penalty)(net->sizes[l + 1] * net->sizes[l], NET_W(net, l),
                                 net->l2 / (2.0 * (double)m), net->l1 / (double)m);
    return total;
}

/* Backward from the output: every layer's gradients into ws->layer[l].grad. */
static void FN(fit_backward)(const pyn_net *net, int64_t m, const T *X, const T *Y,
                             FN(fit_ws) *ws)
{
    const int64_t L = net->L;
    const T alpha = (T)net->alpha;
    T *g = ws->g, *spare = ws->spare;
    const FN(fit_layer) *top = &ws->layer[L - 1];
    FN(output_gradient)(m, net->sizes[L], net->acts[L - 1], net->loss, alpha, top->Z, top->A,
                        Y, g);
    for (int64_t l = L - 1; l >= 0; --l) { /* g holds dL/dZ of layer l (activation input) */
        const int64_t n_in = net->sizes[l], n = net->sizes[l + 1];
        FN(fit_layer) *ly = &ws->layer[l];
        T *const *p = (T *const *)&net->param[4 * l];
        if (NET_HAS_BN(net, l)) /* in place: dY is read whole before dZ is written */
            FN(pyn_batchnorm_backward)(m, n, g, ly->Zhat, p[2], ly->var, (T)net->bn_eps[l], g,
                                       ly->grad[2], ly->grad[3], ws->bn_work, n);
        const T *input = l > 0 ? ws->layer[l - 1].out : X;
        FN(gemm)(n, n_in, m, g, 1, input, 0, ly->grad[0], 1, 0, ws->pack); /* dW = dZ^T X */
        if (ly->grad[1])
            FN(column_sums)(m, n, g, ly->grad[1]);
        if (l == 0) /* the first layer's dX = dZ W: nothing uses it */
            break;
        const FN(fit_layer) *below = &ws->layer[l - 1];
        FN(gemm)(m, n_in, n, g, 0, p[0], 0, spare, 1, 0, ws->pack); /* dX = dZ W */
        if (below->mask)
            FN(pyn_dropout)(m * n_in, spare, below->mask, (T)net->keep[l - 1], spare);
        FN(pyn_activation_backward)(m, n_in, net->acts[l - 1], alpha, spare, below->Z,
                                    below->A, spare);
        T *swap = g;
        g = spare;
        spare = swap;
    }
}

/* The courses' momentum, as the numpy backend's momentum_course_step: v <- mu v - lr g,
 * theta <- theta + v. */
static void FN(course_momentum_step)(int64_t n, T *restrict param, const T *restrict grad,
                                     T *restrict velocity, T lr, T mu)
{
    for (int64_t i = 0; i < n; ++i) {
        const T v = velocity[i] * mu - lr * grad[i];
        velocity[i] = v;
        param[i] += v;
    }
}

/* Adagrad, as the numpy backend's adagrad_step: s <- s + g^2,
 * theta <- theta - lr g / (sqrt(s) + eps). */
static void FN(adagrad_step)(int64_t n, T *restrict param, const T *restrict grad,
                             T *restrict square_sum, T lr, T eps)
{
    for (int64_t i = 0; i < n; ++i) {
        const T g = grad[i];
        const T s = square_sum[i] + g * g;
        square_sum[i] = s;
        param[i] -= lr * g / (SQRT(s) + eps);
    }
}

/* Penalty gradients, clipping, then one optimizer step on every trainable parameter. */
static void FN(fit_update)(const pyn_net *net, int64_t m, double lr, int64_t t, FN(fit_ws) *ws)
{
    const int64_t L = net->L;
    if (net->l1 != 0 || net->l2 != 0) { /* dW + (l2/m W + l1/m sign W), as numpy adds */
        const T a = (T)(net->l2 / (double)m), c = (T)(net->l1 / (double)m);
        for (int64_t l = 0; l < L; ++l) {
            const T *W = NET_W(net, l);
            T *dW = ws->layer[l].grad[0];
            for (int64_t i = 0; i < net->sizes[l + 1] * net->sizes[l]; ++i) {
                const T w = W[i];
                const T sign = w > 0 ? (T)1 : w < 0 ? (T)-1 : w == 0 ? (T)0 : w;
                dW[i] = dW[i] + (a * w + c * sign);
            }
        }
    }
    if (net->clip_value > 0) {
        const T cv = (T)net->clip_value;
        for (int64_t l = 0; l < L; ++l)
            for (int q = 0; q < 4; ++q) {
                T *gr = net->trainable[4 * l + q] ? ws->layer[l].grad[q] : NULL;
                const int64_t size = q == 0 ? net->sizes[l + 1] * net->sizes[l] : net->sizes[l + 1];
                for (int64_t i = 0; gr && i < size; ++i)
                    gr[i] = gr[i] > cv ? cv : gr[i] < -cv ? -cv : gr[i];
            }
    }
    if (net->clip_norm > 0) { /* the squared norm in double: no float32 overflow */
        double squares = 0;
        for (int64_t l = 0; l < L; ++l)
            for (int q = 0; q < 4; ++q) {
                const T *gr = net->trainable[4 * l + q] ? ws->layer[l].grad[q] : NULL;
                const int64_t size = q == 0 ? net->sizes[l + 1] * net->sizes[l] : net->sizes[l + 1];
                for (int64_t i = 0; gr && i < size; ++i)
                    squares += (double)gr[i] * (double)gr[i];
            }
        const double norm = sqrt(squares);
        if (norm > net->clip_norm) {
            const T scale = (T)(net->clip_norm / norm);
            for (int64_t l = 0; l < L; ++l)
                for (int q = 0; q < 4; ++q) {
                    T *gr = net->trainable[4 * l + q] ? ws->layer[l].grad[q] : NULL;
                    const int64_t size = q == 0 ? net->sizes[l + 1] * net->sizes[l] : net->sizes[l + 1];
                    for (int64_t i = 0; gr && i < size; ++i)
                        gr[i] *= scale;
                }
        }
    }
    /* the optimizer's constants, formed in double as the Python wrappers form them */
    const double bc1 = 1.0 - pow(net->beta1, (double)t), bc2 = 1.0 - pow(net->beta2, (double)t);
    for (int64_t l = 0; l < L; ++l)
        for (int q = 0; q < 4; ++q) {
            const int64_t i4 = 4 * l + q;
            T *param = (T *)net->param[i4];
            const T *gr = ws->layer[l].grad[q];
            if (!param || !net->trainable[i4])
                continue;
            T *s1 = (T *)net->state1[i4], *s2 = (T *)net->state2[i4];
            const int64_t size = q == 0 ? net->sizes[l + 1] * net->sizes[l] : net->sizes[l + 1];
            if (net->rule == PYN_RULE_ADAM)
                FN(pyn_adam_step)(size, param, gr, s1, s2, (T)lr, (T)net->beta1,
                                  (T)(1.0 - net->beta1), (T)net->beta2, (T)(1.0 - net->beta2),
                                  (T)net->eps, (T)bc1, (T)bc2, net->weight_decay != 0,
                                  (T)(1.0 - lr * net->weight_decay));
            else if (net->rule == PYN_RULE_COURSE)
                FN(course_momentum_step)(size, param, gr, s1, (T)lr, (T)net->momentum);
            else if (net->rule == PYN_RULE_ADAGRAD)
                FN(adagrad_step)(size, param, gr, s1, (T)lr, (T)net->eps);
            else if (net->rule == PYN_RULE_RMSPROP)
                FN(pyn_rmsprop_step)(size, param, gr, s1, (T)lr, (T)net->rho,
                                     (T)(1.0 - net->rho), (T)net->eps);
            else if (net->momentum != 0)
                FN(pyn_momentum_step)(size, param, gr, s1, (T)lr, (T)net->momentum,
                                      (T)(1.0 - net->dampening), net->nesterov);
            else
                FN(pyn_sgd_step)(size, param, gr, (T)lr);
        }
}

/* One step on m rows (see the header). uniforms may be NULL when no layer drops out. */
static double FN(fit_one)(const pyn_net *net, int64_t m, const T *X, const T *Y,
                          const double **uniforms, double lr, int64_t t, FN(fit_ws) *ws,
                          int64_t *correct, double *penalty)
{
    const int64_t L = net->L, k = net->sizes[L];
    const T *A = FN(fit_forward)(net, m, X, ws, uniforms, 1);
    double value = FN(fit_data_loss)(m, k, net->acts[L - 1], net->loss, ws->layer[L - 1].Z,
                                     A, Y);
    const double pen = net->l1 != 0 || net->l2 != 0 ? FN(fit_penalty)(net, m) : 0.0;
    value += pen;
    if (penalty)
        *penalty = pen;
    if (correct)
        *correct = FN(fit_correct)(m, k, net->loss, A, Y);
    if (!isfinite(value))
        return value;
    FN(fit_backward)(net, m, X, Y, ws);
    FN(fit_update)(net, m, lr, t, ws);
    return value;
}

int FN(pyn_fit_step)(const pyn_net *net, int64_t m, const T *X, const T *Y,
                     const double *uniforms, double lr, int64_t t, T *work, int64_t work_len,
                     double *loss_out, int64_t *correct_out)
{
    FN(fit_ws) ws;
    if (net->L < 1 || net->L > 64)
        return PYN_ERR_LAYERS;
    if (m < 1 || work_len < FN(fit_layout)(net, m, work, &ws))
        return PYN_ERR_BATCH;
    *loss_out = FN(fit_one)(net, m, X, Y, &uniforms, lr, t, &ws, correct_out, NULL);
    return 0;
}

static int FN(params_finite)(const pyn_net *net)
{
    for (int64_t l = 0; l < net->L; ++l) {
        const int64_t n = net->sizes[l + 1];
        for (int q = 0; q < 4; ++q)
            if (net->param[4 * l + q] &&
                !FN(all_finite)(q == 0 ? n * net->sizes[l] : n, (T *)net->param[4 * l + q]))
                return 0;
        if (NET_HAS_BN(net, l) && !(FN(all_finite)(n, (T *)net->stats[2 * l]) &&
                                    FN(all_finite)(n, (T *)net->stats[2 * l + 1])))
            return 0;
    }
    return 1;
}

int FN(pyn_fit_epoch)(const pyn_net *net, int64_t n_rows, const T *X, const T *Y,
                      const int64_t *order, int64_t n, int64_t batch, const double *uniforms,
                      const double *lrs, int64_t t0, T *work, int64_t work_len,
                      double *losses, double *penalties, int64_t *correct, int64_t *done,
                      double *after_loss)
{
    FN(fit_ws) ws;
    const int64_t n0 = net->sizes[0], k = net->sizes[net->L];
    *done = 0;
    if (after_loss)
        *after_loss = NAN;
    if (net->L < 1 || net->L > 64)
        return PYN_ERR_LAYERS;
    if (batch < 1 || n < 1 || (!order && n > n_rows) ||
        work_len < FN(fit_layout)(net, min64(batch, n), work, &ws))
        return PYN_ERR_BATCH;
    for (int64_t s = 0; order && s < n; ++s) /* before any update */
        if (order[s] < 0 || order[s] >= n_rows)
            return PYN_ERR_ORDER;
    const T *Xb = X, *Yb = Y;
    int64_t m = 0;
    for (int64_t start = 0, b = 0; start < n; start += batch, ++b) {
        m = min64(batch, n - start);
        if (order) { /* gather the batch's rows, as X[order[start:start+m]] */
            for (int64_t s = 0; s < m; ++s) {
                const int64_t row = order[start + s];
                memcpy(ws.Xb + s * n0, X + row * n0, sizeof(T) * (size_t)n0);
                memcpy(ws.Yb + s * k, Y + row * k, sizeof(T) * (size_t)k);
            }
            Xb = ws.Xb;
            Yb = ws.Yb;
        } else {
            Xb = X + start * n0;
            Yb = Y + start * k;
        }
        losses[b] = FN(fit_one)(net, m, Xb, Yb, &uniforms, lrs[b], t0 + b + 1, &ws,
                                correct ? correct + b : NULL, penalties ? penalties + b : NULL);
        if (!isfinite(losses[b]))
            return 0;
        *done = b + 1;
    }
    /* the last update is checked too: the last batch's loss with the new parameters */
    if (after_loss && FN(params_finite)(net)) {
        const T *A = FN(fit_forward)(net, m, Xb, &ws, NULL, 0);
        *after_loss = FN(fit_data_loss)(m, k, net->acts[net->L - 1], net->loss,
                                        ws.layer[net->L - 1].Z, A, Yb);
    }
    return 0;
}

#undef NET_W
#undef NET_HAS_BN
