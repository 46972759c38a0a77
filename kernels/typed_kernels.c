/* The typed kernels, written once for an element type T and included twice by
 * pyneuron_kernels.c (T = double with names ending in _f64, T = float with _f32).
 * Not a translation unit of its own: compile pyneuron_kernels.c.
 *
 * One file per topic, in the order each needs the ones before it:
 *   typed_ladder.c    the matmul ladder's rungs 1-4: naive, loop order, blocking, packing
 *   typed_narrow.c    rung 5: narrow products (N <= 16), no packing of A
 *   typed_avx512.c    rung 6: rung 4's packing with an AVX-512 micro-kernel
 *   typed_small.c     rung 7: small products on AVX-512, A and B read in place
 *   typed_gemm.c      gemm(): the fastest rung for each product, and the public entry points
 *   typed_layers.c    activations, the dense layer, the losses
 *   typed_toolkit.c   regularization, batch normalization, optimizer steps
 *   typed_sgd_step.c  the plain SGD step of the sgd_train_step kernel
 *   typed_fit_pass.c  fit's fused step, part 1: workspace, forward, loss, backward
 *   typed_fit_update.c          part 2: penalty gradients, clipping, optimizer rules
 *   typed_fit.c                 part 3: the step and the whole epoch in one call
 */
#ifndef SUF
#error "typed_kernels.c is included by pyneuron_kernels.c; compile that file instead"
#endif

#include "typed_ladder.c"
#include "typed_narrow.c"
#include "typed_avx512.c"
#include "typed_small.c"
#include "typed_gemm.c"
#include "typed_layers.c"
#include "typed_toolkit.c"
#include "typed_sgd_step.c"
#include "typed_fit_pass.c"
#include "typed_fit_update.c"
#include "typed_fit.c"
