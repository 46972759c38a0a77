/* fit's training step for every configuration, part 3: the step and a whole epoch in one
 * call, from the forward and backward passes of typed_fit_pass.c and the update of
 * typed_fit_update.c. Part of the typed kernels (see typed_kernels.c): included once per
 * precision. */

/* dst[0:n] = src[0:n] for one row of a gathered batch. Rows of a few numbers (two moons'
 * 2 features, a single output) are copied by assignments: a call to memcpy for 8 or 16
 * bytes, twice per row, cost more than the copy. (A plain loop would not do: GCC turns
 * copy loops back into memcpy calls.) */
static inline void FN(copy_row)(T *restrict dst, const T *restrict src, int64_t n)
{
    switch (n) {
    case 4:
        dst[3] = src[3]; /* fall through */
    case 3:
        dst[2] = src[2]; /* fall through */
    case 2:
        dst[1] = src[1]; /* fall through */
    case 1:
        dst[0] = src[0]; /* fall through */
    case 0:
        return;
    default:
        memcpy(dst, src, sizeof(T) * (size_t)n);
    }
}

/* The weighted mean data loss sum_s w_s l_s / sum_s w_s of the output layer (the rows'
 * losses l_s as Backend.sample_losses takes them: one row's data_loss, or one row's
 * output_and_loss where the output shares its exponentials, which also writes A), as
 * Backend.weighted_data_loss; 0 when every weight is 0. On return w[s] holds row s's dZ
 * scale w_s m / sum w (0 when every weight is 0), as Backend.weighted_output_gradient
 * scales the rows, and *sum_w the weights' sum. */
static double FN(weighted_loss)(const pyn_net *net, int64_t m, const T *Y, FN(fit_ws) *ws,
                                int shared, const T *A, double *w, double *sum_w)
{
    const int64_t L = net->L, k = net->sizes[L];
    const int act = net->acts[L - 1];
    const FN(fit_layer) *top = &ws->layer[L - 1];
    /* The ratios use the weights times the power of two 2^-e that brings the largest into
     * [0.5, 1) (exact: only exponents change), as Backend.weighted_data_loss does, so a
     * subnormal or huge weight sum loses no digits; *sum_w stays the weights' own sum. */
    double largest = 0, raw_total = 0, total = 0, weighted = 0;
    for (int64_t s = 0; s < m; ++s) {
        raw_total += w[s];
        largest = w[s] > largest ? w[s] : largest;
    }
    int e = 0;
    frexp(largest, &e);
    for (int64_t s = 0; s < m; ++s) {
        const T *z = top->Z + s * k, *y = Y + s * k;
        const double row = shared ? FN(output_and_loss)(1, k, act, z, y, top->A + s * k, NULL)
                                  : FN(data_loss)(1, k, act, net->loss, z, A + s * k, y);
        w[s] = ldexp(w[s], -e);
        total += w[s];
        weighted += w[s] * row;
    }
    const double per = total != 0 ? (double)m / total : 0.0;
    for (int64_t s = 0; s < m; ++s)
        w[s] = total != 0 ? w[s] * per : 0.0;
    *sum_w = raw_total;
    return total != 0 ? weighted / total : 0.0;
}

/* One step on m rows (see the header). uniforms may be NULL when no layer drops out.
 * w: the batch's sample weights (NULL: every row weighs 1), overwritten with the rows'
 * dZ scales: the data loss is their weighted mean and the "mean" penalty divides by their
 * sum instead of m (when it is not 0), as pyneuron.sample_weights describes. */
static double FN(fit_one)(const pyn_net *net, int64_t m, const T *X, const T *Y,
                          const double **uniforms, double lr, int64_t t, FN(fit_ws) *ws,
                          int64_t *correct, double *penalty, double *w)
{
    const int64_t L = net->L, k = net->sizes[L];
    const int shared = FN(shared_output)(net);
    const T *A = FN(fit_forward)(net, m, X, ws, uniforms, 1, shared);
    double value, rows = (double)m;
    if (w) {
        double sum_w;
        value = FN(weighted_loss)(net, m, Y, ws, shared, A, w, &sum_w);
        if (sum_w != 0)
            rows = sum_w;
        if (shared)
            A = ws->layer[L - 1].A;
    } else {
        value = shared ? FN(output_and_loss)(m, k, net->acts[L - 1], ws->layer[L - 1].Z, Y,
                                             ws->layer[L - 1].A, correct)
                       : FN(data_loss)(m, k, net->acts[L - 1], net->loss, ws->layer[L - 1].Z,
                                       A, Y);
    }
    const double pen = net->pen_l1 ? FN(fit_penalty)(net, rows) : 0.0;
    value += pen;
    if (penalty)
        *penalty = pen;
    if (correct && (w || !shared)) /* else output_and_loss has counted them */
        *correct = FN(fit_correct)(m, k, net->loss, A, Y);
    if (!isfinite(value))
        return value;
    const int fold = FN(sgd_folds_into_product)(net) && lr > 0;
    FN(fit_backward)(net, m, X, Y, ws, w, fold ? lr : 0.0);
    FN(fit_update)(net, rows, lr, t, ws, fold);
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
    *loss_out = FN(fit_one)(net, m, X, Y, &uniforms, lr, t, &ws, correct_out, NULL, NULL);
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

/* Copy every parameter and running statistic, layer by layer (W, b, gamma, beta,
 * running_mean, running_var; the absent ones skipped), into dst, one after the other: the
 * order of pyneuron.callbacks.snapshot. */
static void FN(save_params)(const pyn_net *net, T *dst)
{
    for (int64_t l = 0; l < net->L; ++l) {
        const int64_t n = net->sizes[l + 1];
        for (int q = 0; q < 4; ++q) {
            if (!net->param[4 * l + q])
                continue;
            const int64_t len = q == 0 ? n * net->sizes[l] : n;
            memcpy(dst, net->param[4 * l + q], sizeof(T) * (size_t)len);
            dst += len;
        }
        for (int r = 0; r < 2 && NET_HAS_BN(net, l); ++r) {
            memcpy(dst, net->stats[2 * l + r], sizeof(T) * (size_t)n);
            dst += n;
        }
    }
}

/* The first layer's W, n x n_in, and its transpose in w0t (n_in x n), one into the other
 * (by rung 7's 8 x 8 blocks in registers where the CPU has AVX-512). */
static void FN(transpose_w0)(const pyn_net *net, const T *from, T *to, int to_w0t)
{
    const int64_t n_in = net->sizes[0], n = net->sizes[1];
    const int64_t rows = to_w0t ? n : n_in, cols = to_w0t ? n_in : n;
#if PYN_HAVE_X86
    if (pyn_simd_enabled() >= PYN_SIMD_AVX512) { /* to[c][r] = from[r][c] */
        FN(transpose_panel)(cols, rows, from, cols, to, rows);
        return;
    }
#endif
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            to[c * rows + r] = from[r * cols + c];
}

/* Can the epoch keep the first layer's weights transposed, in w0t, from its first step
 * to its last? The forward pass reads W as Wᵀ (Z = X Wᵀ), which rung 7 first copies,
 * transposed, into its workspace -- every step, for the first layer's 64 x 64 on the
 * digits net a twentieth of the step. The first layer has no dX = dZ W, the one product
 * that reads W as stored, so when plain SGD updates W inside the product (fit_backward)
 * the update can go to Wᵀ instead (Wᵀ += -lr Xᵀ dZ: the same terms summed in the same
 * order), and W is written back once, at the epoch's end. Only where both layouts' products
 * are wider than the narrow rung's 16 columns, which groups its sums by the number of rows:
 * then either layout gives the same numbers. Every step must fold (lr > 0), and the epoch
 * must be long enough to pay for the two whole copies of W (to Wᵀ and back) -- a call for
 * one step (fit with per-batch callbacks) keeps W as it is. */
static int FN(first_layer_transposed)(const pyn_net *net, const FN(fit_ws) *ws,
                                      const double *lrs, int64_t steps)
{
    if (!ws->w0t || !FN(sgd_folds_into_product)(net) || !net->trainable[0] ||
        net->sizes[0] <= 16 || net->sizes[1] <= 16 || steps < 8)
        return 0;
    for (int64_t b = 0; b < steps; ++b)
        if (!(lrs[b] > 0))
            return 0;
    return 1;
}

int FN(pyn_fit_epoch)(const pyn_net *net, int64_t n_rows, const T *X, const T *Y,
                      const int64_t *order, int64_t n, int64_t batch, const double *uniforms,
                      const double *lrs, int64_t t0, T *work, int64_t work_len,
                      double *losses, double *penalties, int64_t *correct, int64_t *done,
                      double *after_loss, T *restore_point, const double *weights)
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
    /* the weights the epoch starts from, for the caller to put back if it diverges: a copy
     * here costs far less than one made by Python between the epochs */
    if (restore_point)
        FN(save_params)(net, restore_point);
    const int64_t nb = (n - 1) / batch + 1; /* batches in the epoch */
    ws.w0t_live = FN(first_layer_transposed)(net, &ws, lrs, nb);
    if (ws.w0t_live)
        FN(transpose_w0)(net, NET_W(net, 0), ws.w0t, 1);
    const T *Xb = X, *Yb = Y;
    int64_t m = 0;
    for (int64_t start = 0, b = 0; start < n; start += batch, ++b) {
        m = min64(batch, n - start);
        if (order) { /* gather the batch's rows, as X[order[start:start+m]] */
            for (int64_t s = 0; s < m; ++s) {
                const int64_t row = order[start + s];
                FN(copy_row)(ws.Xb + s * n0, X + row * n0, n0);
                FN(copy_row)(ws.Yb + s * k, Y + row * k, k);
                if (weights)
                    ws.wb[s] = weights[row];
            }
            Xb = ws.Xb;
            Yb = ws.Yb;
        } else {
            Xb = X + start * n0;
            Yb = Y + start * k;
            if (weights)
                memcpy(ws.wb, weights + start, sizeof(double) * (size_t)m);
        }
        losses[b] = FN(fit_one)(net, m, Xb, Yb, &uniforms, lrs[b], t0 + b + 1, &ws,
                                correct ? correct + b : NULL, penalties ? penalties + b : NULL,
                                weights ? ws.wb : NULL);
        if (!isfinite(losses[b]))
            break;
        *done = b + 1;
    }
    if (ws.w0t_live) { /* W from its transpose, before anything reads it */
        FN(transpose_w0)(net, ws.w0t, NET_W(net, 0), 0);
        ws.w0t_live = 0;
    }
    if (*done < nb) /* stopped at a non-finite loss */
        return 0;
    /* the last update is checked too: the last batch's loss with the new parameters */
    if (after_loss && FN(params_finite)(net)) {
        const int shared = FN(shared_output)(net);
        const FN(fit_layer) *top = &ws.layer[net->L - 1];
        const T *A = FN(fit_forward)(net, m, Xb, &ws, NULL, 0, shared);
        *after_loss = shared ? FN(output_and_loss)(m, k, net->acts[net->L - 1], top->Z, Yb, top->A, NULL)
                             : FN(data_loss)(m, k, net->acts[net->L - 1], net->loss, top->Z, A, Yb);
    }
    return 0;
}

/* Several epochs in one call, for a fit with nothing to run between its epochs (see the
 * header): epoch e is pyn_fit_epoch on the rows order[e n : (e + 1) n] (order NULL: in
 * order) with step counts from t0 + e nb, nb = ceil(n / batch). Every order is checked
 * before anything is written. Stops after the first epoch that does not end cleanly. */
int FN(pyn_fit_epochs)(const pyn_net *net, int64_t n_rows, const T *X, const T *Y,
                       const int64_t *order, int64_t n, int64_t batch, int64_t epochs,
                       const double *lrs, int64_t t0, T *work, int64_t work_len,
                       double *losses, double *penalties, int64_t *correct, int64_t *done,
                       double *after_loss, T *restore_point, const double *weights,
                       int64_t *epochs_done)
{
    *epochs_done = 0;
    *done = 0;
    if (batch < 1 || n < 1 || epochs < 1)
        return PYN_ERR_BATCH;
    const int64_t nb = (n - 1) / batch + 1;
    for (int64_t s = 0; order && s < epochs * n; ++s)
        if (order[s] < 0 || order[s] >= n_rows)
            return PYN_ERR_ORDER;
    for (int64_t e = 0; e < epochs; ++e) {
        const int err = FN(pyn_fit_epoch)(
            net, n_rows, X, Y, order ? order + e * n : NULL, n, batch, NULL, lrs, t0 + e * nb,
            work, work_len, losses + e * nb, penalties ? penalties + e * nb : NULL,
            correct ? correct + e * nb : NULL, done, after_loss + e, restore_point, weights);
        if (err)
            return err;
        *epochs_done = e + 1;
        if (*done < nb || !isfinite(after_loss[e]))
            break;
    }
    return 0;
}

#undef NET_W
#undef NET_HAS_BN
