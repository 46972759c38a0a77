/* pyneuron's C kernels: the one header, read by the C compiler and by cffi.
 *
 * Conventions (the same as pyneuron/backends/base.py):
 *   - every matrix is a dense, row-major (C-contiguous) block of T, T = double (_f64)
 *     or float (_f32); the Python wrapper has checked dtype, shape and contiguity;
 *   - C never allocates: outputs and workspaces are NumPy arrays passed in;
 *   - matmul computes C (M x N) = op(A) op(B); with trans_a, A is stored K x M and
 *     read as its transpose; with trans_b, B is stored N x K. No copy is made.
 *   - activation codes: 0 linear, 1 sigmoid, 2 tanh, 3 relu, 4 leaky_relu, 5 softmax;
 *     loss codes: 0 mse, 1 bce, 2 cce.
 *   - functions returning int return 0 on success and a PYN_ERR_* code otherwise;
 *     they check before they write anything.
 *
 * This file is fed to cffi's cdef() with the preprocessor lines stripped, so it holds
 * plain prototypes only: both precisions are spelled out.
 */
#ifndef PYNEURON_KERNELS_H
#define PYNEURON_KERNELS_H

#include <stdint.h>

#define PYN_ERR_WORKSPACE 1   /* workspace shorter than the *_workspace_* function asked */
#define PYN_ERR_X_NONFINITE 2 /* X holds NaN or inf */
#define PYN_ERR_Y_NONFINITE 3 /* Y holds NaN or inf */
#define PYN_ERR_X_ALIAS 4     /* X overlaps a weight or bias that is updated in place */
#define PYN_ERR_Y_ALIAS 5     /* Y overlaps a weight or bias */
#define PYN_ERR_PARAM_ALIAS 6 /* two weights / biases overlap each other */
#define PYN_ERR_NO_SIMD 7     /* the SIMD rung was asked for on a CPU without AVX2+FMA */
#define PYN_ERR_LAYERS 8      /* a training step needs 1 to 64 layers */
#define PYN_ERR_SHAPE 10      /* the narrow rung was asked for a product with N > 16 */

/* ---- run-time SIMD dispatch ---- */
#define PYN_SIMD_NONE 0   /* the portable code */
#define PYN_SIMD_AVX2 1   /* AVX2 + FMA: rungs 4 and 5 */
#define PYN_SIMD_AVX512 2 /* AVX-512F as well: rungs 6 and 7 */
int pyn_simd_available(void);           /* the best level this CPU (and the build) has */
int pyn_simd_enabled(void);             /* the level the fast paths use now */
void pyn_set_simd_enabled(int enabled); /* tests: force the portable path (0) or the best (1) */
int pyn_set_simd_level(int level);      /* tests: use at most this level; returns the level set */

/* ---- threads (big packed products; see pyneuron_kernels.c) ---- */
int pyn_openmp_available(void);         /* 1 if the build has OpenMP */
int pyn_get_threads(void);              /* threads a big product uses now */
int pyn_set_threads(int n);             /* returns the count in effect (1 without OpenMP) */

/* ---- the vectorized exp of fit's softmax (kernels/vector_exp.c) ---- */
void pyn_exp_f64(int64_t n, const double *x, double *out); /* out may be x */

/* ---- the matmul ladder ---- */
void pyn_matmul_naive_f64(int64_t M, int64_t N, int64_t K, const double *A, int trans_a,
                          const double *B, int trans_b, double *C);
void pyn_matmul_reorder_f64(int64_t M, int64_t N, int64_t K, const double *A, int trans_a,
                            const double *B, int trans_b, double *C);
void pyn_matmul_blocked_f64(int64_t M, int64_t N, int64_t K, const double *A, int trans_a,
                            const double *B, int trans_b, double *C);
int64_t pyn_matmul_workspace_f64(int64_t M, int64_t N, int64_t K);
int pyn_matmul_simd_f64(int64_t M, int64_t N, int64_t K, const double *A, int trans_a,
                        const double *B, int trans_b, double *C, double *work, int64_t work_len);
int pyn_matmul_avx512_f64(int64_t M, int64_t N, int64_t K, const double *A, int trans_a,
                          const double *B, int trans_b, double *C, double *work, int64_t work_len);
int pyn_matmul_small_f64(int64_t M, int64_t N, int64_t K, const double *A, int trans_a,
                         const double *B, int trans_b, double *C, double *work, int64_t work_len);
int pyn_matmul_narrow_f64(int64_t M, int64_t N, int64_t K, const double *A, int trans_a,
                          const double *B, int trans_b, double *C, double *work, int64_t work_len);
int pyn_matmul_auto_f64(int64_t M, int64_t N, int64_t K, const double *A, int trans_a,
                        const double *B, int trans_b, double *C, double *work, int64_t work_len);

void pyn_matmul_naive_f32(int64_t M, int64_t N, int64_t K, const float *A, int trans_a,
                          const float *B, int trans_b, float *C);
void pyn_matmul_reorder_f32(int64_t M, int64_t N, int64_t K, const float *A, int trans_a,
                            const float *B, int trans_b, float *C);
void pyn_matmul_blocked_f32(int64_t M, int64_t N, int64_t K, const float *A, int trans_a,
                            const float *B, int trans_b, float *C);
int64_t pyn_matmul_workspace_f32(int64_t M, int64_t N, int64_t K);
int pyn_matmul_simd_f32(int64_t M, int64_t N, int64_t K, const float *A, int trans_a,
                        const float *B, int trans_b, float *C, float *work, int64_t work_len);
int pyn_matmul_avx512_f32(int64_t M, int64_t N, int64_t K, const float *A, int trans_a,
                          const float *B, int trans_b, float *C, float *work, int64_t work_len);
int pyn_matmul_small_f32(int64_t M, int64_t N, int64_t K, const float *A, int trans_a,
                         const float *B, int trans_b, float *C, float *work, int64_t work_len);
int pyn_matmul_narrow_f32(int64_t M, int64_t N, int64_t K, const float *A, int trans_a,
                          const float *B, int trans_b, float *C, float *work, int64_t work_len);
int pyn_matmul_auto_f32(int64_t M, int64_t N, int64_t K, const float *A, int trans_a,
                        const float *B, int trans_b, float *C, float *work, int64_t work_len);

/* ---- layer kernels ---- */
/* Z = X W^T + b and, if act >= 0, A = f(Z) (A unused when act < 0). */
int pyn_dense_forward_f64(int64_t m, int64_t n_in, int64_t n_out, const double *X,
                          const double *W, const double *b, int act, double negative_slope,
                          double *Z, double *A, double *work, int64_t work_len);
void pyn_activation_forward_f64(int64_t m, int64_t n, int act, double negative_slope,
                                const double *Z, double *A);
void pyn_activation_backward_f64(int64_t m, int64_t n, int act, double negative_slope,
                                 const double *dA, const double *Z, const double *A, double *dZ);
/* dX = dZ W (skipped if dX is NULL), dW = dZ^T X, db = column sums of dZ */
int pyn_linear_backward_f64(int64_t m, int64_t n_in, int64_t n_out, const double *dZ,
                            const double *X, const double *W, double *dX, double *dW,
                            double *db, double *work, int64_t work_len);
void pyn_output_delta_f64(int64_t size, const double *A, const double *Y, double n_terms,
                          double *dZ);
double pyn_loss_value_f64(int64_t m, int64_t k, int loss, const double *A, const double *Y);
int64_t pyn_dense_workspace_f64(int64_t m, int64_t n_in, int64_t n_out);

int pyn_dense_forward_f32(int64_t m, int64_t n_in, int64_t n_out, const float *X,
                          const float *W, const float *b, int act, float negative_slope,
                          float *Z, float *A, float *work, int64_t work_len);
void pyn_activation_forward_f32(int64_t m, int64_t n, int act, float negative_slope,
                                const float *Z, float *A);
void pyn_activation_backward_f32(int64_t m, int64_t n, int act, float negative_slope,
                                 const float *dA, const float *Z, const float *A, float *dZ);
int pyn_linear_backward_f32(int64_t m, int64_t n_in, int64_t n_out, const float *dZ,
                            const float *X, const float *W, float *dX, float *dW,
                            float *db, float *work, int64_t work_len);
void pyn_output_delta_f32(int64_t size, const float *A, const float *Y, float n_terms,
                          float *dZ);
double pyn_loss_value_f32(int64_t m, int64_t k, int loss, const float *A, const float *Y);
int64_t pyn_dense_workspace_f32(int64_t m, int64_t n_in, int64_t n_out);

/* ---- the training toolkit: loss gradient, regularization, batch norm, optimizer steps ----
 * Element-wise kernels take flat lengths (any shape); batch norm takes Z as m x n with
 * per-column statistics and a workspace of n elements. The *_step kernels update param
 * and their state arrays in place. Scalars like 1 - beta and 1 - beta^t are formed by
 * the caller (in double, as NumPy does). */
void pyn_loss_gradient_f64(int64_t m, int64_t k, int loss, const double *A, const double *Y,
                           double *dA);
double pyn_penalty_f64(int64_t size, const double *W, double c2, double c1);
void pyn_penalty_gradient_f64(int64_t size, const double *W, double a, double c, double *out);
void pyn_dropout_f64(int64_t size, const double *A, const double *mask, double keep_prob, double *out);
int pyn_batchnorm_forward_f64(int64_t m, int64_t n, const double *Z, const double *gamma,
                              const double *beta, double eps, double *Y, double *Zhat, double *mean, double *var,
                              double *work, int64_t work_len);
int pyn_batchnorm_inference_f64(int64_t m, int64_t n, const double *Z, const double *gamma,
                                const double *beta, const double *running_mean,
                                const double *running_var, double eps, double *Y, double *work,
                                int64_t work_len);
int pyn_batchnorm_backward_f64(int64_t m, int64_t n, const double *dY, const double *Zhat,
                               const double *gamma, const double *var, double eps, double *dZ,
                               double *dgamma, double *dbeta, double *work, int64_t work_len);
void pyn_sgd_step_f64(int64_t n, double *param, const double *grad, double lr);
void pyn_momentum_step_f64(int64_t n, double *param, const double *grad, double *velocity, double lr,
                           double beta, double one_minus_d, int nesterov);
void pyn_rmsprop_step_f64(int64_t n, double *param, const double *grad, double *square_avg, double lr,
                          double rho, double one_minus_rho, double eps);
void pyn_adam_step_f64(int64_t n, double *param, const double *grad, double *m, double *v, double lr,
                       double beta1, double one_minus_beta1, double beta2, double one_minus_beta2, double eps,
                       double bc1, double bc2, int decay, double shrink);

void pyn_loss_gradient_f32(int64_t m, int64_t k, int loss, const float *A, const float *Y,
                           float *dA);
double pyn_penalty_f32(int64_t size, const float *W, double c2, double c1);
void pyn_penalty_gradient_f32(int64_t size, const float *W, float a, float c, float *out);
void pyn_dropout_f32(int64_t size, const float *A, const float *mask, float keep_prob, float *out);
int pyn_batchnorm_forward_f32(int64_t m, int64_t n, const float *Z, const float *gamma,
                              const float *beta, float eps, float *Y, float *Zhat, float *mean, float *var,
                              float *work, int64_t work_len);
int pyn_batchnorm_inference_f32(int64_t m, int64_t n, const float *Z, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, float eps, float *Y, float *work,
                                int64_t work_len);
int pyn_batchnorm_backward_f32(int64_t m, int64_t n, const float *dY, const float *Zhat,
                               const float *gamma, const float *var, float eps, float *dZ,
                               float *dgamma, float *dbeta, float *work, int64_t work_len);
void pyn_sgd_step_f32(int64_t n, float *param, const float *grad, float lr);
void pyn_momentum_step_f32(int64_t n, float *param, const float *grad, float *velocity, float lr,
                           float beta, float one_minus_d, int nesterov);
void pyn_rmsprop_step_f32(int64_t n, float *param, const float *grad, float *square_avg, float lr,
                          float rho, float one_minus_rho, float eps);
void pyn_adam_step_f32(int64_t n, float *param, const float *grad, float *m, float *v, float lr,
                       float beta1, float one_minus_beta1, float beta2, float one_minus_beta2, float eps,
                       float bc1, float bc2, int decay, float shrink);

/* ---- one whole SGD training step of an MLP: forward, loss, backward, update ----
 * sizes has L+1 entries (n_0 = X's columns ... n_L = Y's columns); W[l] is
 * sizes[l+1] x sizes[l], b[l] has sizes[l+1]; both are updated in place.
 * *loss_out receives the loss before the update. */
int64_t pyn_train_step_workspace_f64(int64_t L, const int64_t *sizes, int64_t m);
int pyn_train_step_f64(int64_t L, const int64_t *sizes, int64_t m, const double *X,
                       const double *Y, double **W, double **b, const int *acts, int loss,
                       double lr, double negative_slope, double *work, int64_t work_len,
                       double *loss_out);
int64_t pyn_train_step_workspace_f32(int64_t L, const int64_t *sizes, int64_t m);
int pyn_train_step_f32(int64_t L, const int64_t *sizes, int64_t m, const float *X,
                       const float *Y, float **W, float **b, const int *acts, int loss,
                       float lr, float negative_slope, float *work, int64_t work_len,
                       double *loss_out);

/* ---- fit's training step and epoch, for every configuration (kernels/typed_fit.c) ----
 * A pyn_net describes a model, its regularization and its optimizer. Array pointers are
 * T * (double * or float *, as the function's suffix says) stored as void *. For layer
 * l = 0 .. L-1:
 *   param[4l + 0..3]  = W (sizes[l+1] x sizes[l]), b, gamma, beta (b: NULL for a layer
 *                       without bias; gamma, beta: NULL without batch norm; each of
 *                       sizes[l+1]);
 *   trainable[4l + 0..3]: 0 for a frozen parameter (its gradient is neither clipped nor
 *                       applied), 1 otherwise;
 *   state1, state2[4l + 0..3]: the optimizer's state for those arrays (velocity or
 *                       square average in state1; Adam's m in state1, v in state2;
 *                       NULL where the rule keeps none);
 *   stats[2l + 0..1]  = running_mean, running_var (NULL without batch norm).
 * keep[l] < 1 turns on inverted dropout after layer l: its mask is uniforms[i] < keep[l],
 * the uniform numbers drawn by Python, consumed batch by batch, layer by layer.
 * clip_value, clip_norm: 0 means off. The wrapper has checked every array once (shapes,
 * dtype, no overlaps) and that m fits the workspace. */
#define PYN_RULE_SGD 0      /* theta -= lr g, or momentum (momentum > 0, dampening, nesterov) */
#define PYN_RULE_RMSPROP 1
#define PYN_RULE_ADAM 2     /* Adam; AdamW with weight_decay > 0 */
#define PYN_RULE_COURSE 3   /* the courses' momentum: v = momentum v - lr g, theta += v */
#define PYN_RULE_ADAGRAD 4  /* s += g^2, theta -= lr g / (sqrt(s) + eps) */
#define PYN_ERR_BATCH 9     /* a batch larger than the workspace was made for */
#define PYN_ERR_ORDER 11    /* a row index outside X */

typedef struct {
    int64_t L;
    const int64_t *sizes;
    const int *acts;
    const double *keep;
    const double *bn_eps;
    const double *bn_momentum;
    void **param;
    const int *trainable;
    void **state1;
    void **state2;
    void **stats;
    int loss;
    double negative_slope;
    /* penalties, per parameter slot 4 l + q (q: W, b, gamma, beta): l2/(2 d) sum p^2 +
     * l1/d sum |p|, d = m (pen_mean, the "mean" scaling) or 1 ("sum", with l2 doubled
     * by the caller); pen_l1, pen_l2: NULL when nothing is penalized */
    const double *pen_l1, *pen_l2;
    int pen_mean;
    double clip_value, clip_norm;
    int rule;
    double momentum, dampening;
    int nesterov;
    double rho, beta1, beta2, eps, weight_decay;
} pyn_net;

/* Elements of workspace a step (or an epoch) of batches of up to m rows needs. */
int64_t pyn_fit_workspace_f64(const pyn_net *net, int64_t m);
int64_t pyn_fit_workspace_f32(const pyn_net *net, int64_t m);
/* One step: forward (training graph), loss (+ penalty) into *loss_out and, if
 * correct_out is not NULL, the number of right answers into it; then, if the loss is
 * finite, backward, penalty gradients, clipping and one optimizer update (step count t,
 * learning rate lr). A non-finite loss leaves every parameter untouched. */
int pyn_fit_step_f64(const pyn_net *net, int64_t m, const double *X, const double *Y,
                     const double *uniforms, double lr, int64_t t, double *work,
                     int64_t work_len, double *loss_out, int64_t *correct_out);
int pyn_fit_step_f32(const pyn_net *net, int64_t m, const float *X, const float *Y,
                     const double *uniforms, double lr, int64_t t, float *work,
                     int64_t work_len, double *loss_out, int64_t *correct_out);
/* One epoch: X and Y have n_rows rows; the n rows order[0:n] are taken in batches
 * order[0:batch], order[batch:2 batch], ... (order NULL: rows 0 .. n-1 in order; every
 * index is checked to lie in 0 .. n_rows-1 before anything is written), each one step as
 * above with lrs[k] and t = t0 + k + 1.
 * losses[k], penalties[k] and correct[k] receive each batch's loss (penalty included),
 * its L1/L2 penalty and its right answers (penalties, correct: skipped if NULL); *done the
 * number of batches whose update was applied: it stops at the first non-finite loss.
 * After a complete epoch, *after_loss is the loss of the last batch with the updated
 * parameters in inference mode (NaN if any parameter is not finite): the check that
 * catches an explosion in the epoch's last update (skipped if after_loss is NULL).
 * restore_point, if not NULL, receives a copy of every parameter and running statistic
 * before the first update (layer by layer: W, b, gamma, beta, running_mean, running_var,
 * the absent ones skipped, each after the other), so the caller can put back the weights
 * the epoch started from if it diverges.
 * weights, if not NULL, holds a sample weight per row of X (>= 0): each batch's data loss
 * is then the weighted mean sum w l / sum w of its rows' losses (0 if its weights are all
 * 0), its output gradient's rows are scaled to match, and the "mean" penalty divides by
 * the batch's weight sum instead of its row count (pyneuron.sample_weights). */
int pyn_fit_epoch_f64(const pyn_net *net, int64_t n_rows, const double *X, const double *Y,
                      const int64_t *order, int64_t n, int64_t batch, const double *uniforms,
                      const double *lrs, int64_t t0, double *work, int64_t work_len,
                      double *losses, double *penalties, int64_t *correct, int64_t *done,
                      double *after_loss, double *restore_point,
                      const double *weights);
int pyn_fit_epoch_f32(const pyn_net *net, int64_t n_rows, const float *X, const float *Y,
                      const int64_t *order, int64_t n, int64_t batch, const double *uniforms,
                      const double *lrs, int64_t t0, float *work, int64_t work_len,
                      double *losses, double *penalties, int64_t *correct, int64_t *done,
                      double *after_loss, float *restore_point,
                      const double *weights);
/* `epochs` epochs as above, one after the other, without returning to the caller between
 * them (a fit with nothing to run between its epochs): epoch e takes the rows
 * order[e n : (e + 1) n] (order NULL: rows 0 .. n-1 each time; every index is checked
 * before anything is written), the learning rates lrs[0 .. nb-1] (nb = ceil(n / batch)) and
 * the step counts t0 + e nb + k + 1, and writes its nb losses at losses + e nb (penalties,
 * correct likewise, skipped if NULL) and its after-update loss at after_loss[e]
 * (after_loss holds `epochs` numbers); restore_point, if not NULL, receives the weights
 * each epoch starts from (so, at the end, those of the last epoch run). It stops after
 * the first epoch that stops early or whose after_loss is not finite: *epochs_done is the
 * number of epochs run (that one included), *done the batches applied in the last one. */
int pyn_fit_epochs_f64(const pyn_net *net, int64_t n_rows, const double *X, const double *Y,
                       const int64_t *order, int64_t n, int64_t batch, int64_t epochs,
                       const double *lrs, int64_t t0, double *work, int64_t work_len,
                       double *losses, double *penalties, int64_t *correct, int64_t *done,
                       double *after_loss, double *restore_point, const double *weights,
                       int64_t *epochs_done);
int pyn_fit_epochs_f32(const pyn_net *net, int64_t n_rows, const float *X, const float *Y,
                       const int64_t *order, int64_t n, int64_t batch, int64_t epochs,
                       const double *lrs, int64_t t0, float *work, int64_t work_len,
                       double *losses, double *penalties, int64_t *correct, int64_t *done,
                       double *after_loss, float *restore_point, const double *weights,
                       int64_t *epochs_done);

#endif
