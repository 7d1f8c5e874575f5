// Parameter updates of the optimizers, elementwise over one tensor (PyTorch 1.13's rules; see
// optimizer.hpp). The reference loops are the specification; the vector versions (Highway) are
// dispatched at run time and agree with them to float rounding (they fuse multiply-adds).
#pragma once

#include <cstddef>

namespace actlab {

struct SgdStep {
  float lr, momentum, weight_decay;
  bool nesterov;
  bool first;  // the first step initializes the momentum buffer with the gradient
};

struct AdamStep {
  float weight_decay;       // L2 added to the gradient (adam) or decoupled (adamw)
  bool decoupled;
  float beta1, beta2, eps;
  float step_size;          // lr / (1 - beta1^t)
  float inv_sqrt_bc2;       // 1 / sqrt(1 - beta2^t)
  float decay_factor;       // 1 - lr * weight_decay (adamw)
};

// p: parameters, g: gradients, m: momentum buffer (unused when momentum == 0); n elements each,
// on the calling thread (Optimizer::step shares a model's update among the threads in pieces).
// Each returns false when a gradient was NaN or infinite (checked in the same pass; the update has
// then been applied, and the caller stops training).
bool reference_sgd_update(float* p, const float* g, float* m, std::size_t n, const SgdStep& s);
bool vector_sgd_update(float* p, const float* g, float* m, std::size_t n, const SgdStep& s);
// m, v: first and second moment buffers.
bool reference_adam_update(float* p, const float* g, float* m, float* v, std::size_t n, const AdamStep& s);
bool vector_adam_update(float* p, const float* g, float* m, float* v, std::size_t n, const AdamStep& s);

}  // namespace actlab
