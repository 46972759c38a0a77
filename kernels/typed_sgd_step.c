/* The SGD training step of a plain MLP in one call (pyn_train_step). Part of the typed
 * kernels (see typed_kernels.c): included once per precision. */

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
                       T **W, T **b, const int *acts, int loss, T lr, T negative_slope, T *work,
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
        FN(dense_forward)(m, sizes[l], sizes[l + 1], input, W[l], b[l], acts[l], negative_slope, Z[l],
                          A[l], pack);
        input = A[l];
    }
    *loss_out = FN(data_loss)(m, sizes[L], acts[L - 1], loss, Z[L - 1], A[L - 1], Y);
    FN(output_gradient)(m, sizes[L], acts[L - 1], loss, negative_slope, Z[L - 1], A[L - 1], Y, grad);

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
            FN(pyn_activation_backward)(m, n_in, acts[l - 1], negative_slope, spare, Z[l - 1],
                                        A[l - 1], spare);
            T *t = grad;
            grad = spare;
            spare = t;
        }
    }
    return 0;
}

