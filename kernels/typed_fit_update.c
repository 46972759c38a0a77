/* fit's update, the last part of a training step: penalty gradients, clipping by value and
 * by global norm, then one optimizer step per trainable array (see typed_fit.c for the
 * whole step). Part of the typed kernels (see typed_kernels.c): included once per
 * precision, after typed_fit_pass.c. */

/* The number of elements of parameter slot 4 l + q (q: W, b, gamma, beta). */
static int64_t FN(slot_size)(const pyn_net *net, int64_t l, int q)
{
    return q == 0 ? net->sizes[l + 1] * net->sizes[l] : net->sizes[l + 1];
}

/* The penalty: sum over the penalized slots of l2/(2d) sum p^2 + l1/d sum |p|, d = m for
 * the "mean" scaling and 1 for "sum" (pyneuron.penalties), in the slots' order -- the
 * order of Penalty.value's terms. */
static double FN(fit_penalty)(const pyn_net *net, double m)
{
    const double d = net->pen_mean ? m : 1.0;
    double total = 0;
    for (int64_t l = 0; l < net->L; ++l)
        for (int q = 0; q < 4; ++q) {
            const int64_t s = 4 * l + q;
            if (net->param[s] && (net->pen_l1[s] != 0 || net->pen_l2[s] != 0))
                total += FN(pyn_penalty)(FN(slot_size)(net, l, q), (const T *)net->param[s],
                                         net->pen_l2[s] / (2.0 * d), net->pen_l1[s] / d);
        }
    return total;
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

/* Adam in fit's fused step: the update of pyn_adam_step with one division and one square
 * root per element instead of three divisions and a root. pyn_adam_step follows the
 * textbook (and the numpy backend) operation for operation,
 *     theta <- theta - lr (m / bc1) / (sqrt(v / bc2) + eps),
 * and on the digits net those divisions and the root were a fifth of a fused step: a
 * divider takes several cycles per vector where a multiply takes one half, and wider
 * vectors do not help (the divider's cost per number stays the same). The same update with
 * the per-step constants folded once per step, in double,
 *     step = lr / bc1,   r = 1 / sqrt(bc2),
 *     theta <- theta - step m / (sqrt(v) r + eps),
 * is algebraically equal (sqrt(v / bc2) = sqrt(v) / sqrt(bc2)) and differs from the
 * textbook's rounding by a few units in the last place; the fused and per-operation paths
 * agree to rounding (tests/test_fused_training.py). sqrt(v) r also cannot overflow where
 * v / bc2 could (bc2 <= 1). The moment updates are pyn_adam_step's, unchanged. */
PYN_CLONES
static void FN(fit_adam)(int64_t n, T *restrict param, const T *restrict grad, T *restrict m,
                         T *restrict v, T beta1, T one_minus_beta1, T beta2, T one_minus_beta2,
                         T step, T r, T eps, int decay, T shrink)
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
        param[i] = p - step * mi / (SQRT(vi) * r + eps);
    }
}

/* Penalty gradients, clipping, then one optimizer step on every trainable parameter --
 * but the weights W when `folded` (fit_backward has updated them: sgd_folds_into_product). */
static void FN(fit_update)(const pyn_net *net, double m, double lr, int64_t t, FN(fit_ws) *ws,
                           int folded)
{
    const int64_t L = net->L;
    if (net->pen_l1) { /* g + (l2/d p + l1/d sign p), as Penalty.add_gradients adds */
        const double d = net->pen_mean ? m : 1.0;
        for (int64_t l = 0; l < L; ++l)
            for (int q = 0; q < 4; ++q) {
                const int64_t s = 4 * l + q;
                if (!net->param[s] || (net->pen_l1[s] == 0 && net->pen_l2[s] == 0))
                    continue;
                const T a = (T)(net->pen_l2[s] / d), c = (T)(net->pen_l1[s] / d);
                const T *p = (const T *)net->param[s];
                T *g = ws->layer[l].grad[q];
                for (int64_t i = 0; i < FN(slot_size)(net, l, q); ++i) {
                    const T w = p[i];
                    const T sign = w > 0 ? (T)1 : w < 0 ? (T)-1 : w == 0 ? (T)0 : w;
                    g[i] = g[i] + (a * w + c * sign);
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
    const int adam = net->rule == PYN_RULE_ADAM; /* pow only where it is used */
    const double bc1 = adam ? 1.0 - pow(net->beta1, (double)t) : 1.0;
    const double bc2 = adam ? 1.0 - pow(net->beta2, (double)t) : 1.0;
    for (int64_t l = 0; l < L; ++l)
        for (int q = 0; q < 4; ++q) {
            const int64_t i4 = 4 * l + q;
            T *param = (T *)net->param[i4];
            const T *gr = ws->layer[l].grad[q];
            if (!param || !net->trainable[i4] || (folded && q == 0))
                continue;
            T *s1 = (T *)net->state1[i4], *s2 = (T *)net->state2[i4];
            const int64_t size = q == 0 ? net->sizes[l + 1] * net->sizes[l] : net->sizes[l + 1];
            if (net->rule == PYN_RULE_ADAM)
                FN(fit_adam)(size, param, gr, s1, s2, (T)net->beta1, (T)(1.0 - net->beta1),
                             (T)net->beta2, (T)(1.0 - net->beta2), (T)(lr / bc1),
                             (T)(1.0 / sqrt(bc2)), (T)net->eps, net->weight_decay != 0,
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

