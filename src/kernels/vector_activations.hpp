// The vector (Highway) activation kernels, dispatched at run time to the best instruction set of
// this CPU; private to the library. The scalar bodies in activation_table.cpp are the
// specification: each vector body computes the same function, with its error bound written next
// to it in vector_ops-inl.hpp and tested in tests/activation_vector_test.cpp.
//
// An activation has a vector body when its table name appears in the registry of
// vector_activations.cpp; one without falls back to the reference, so adding an activation is
// still one table entry.
#pragma once

#include "actlab/activation.hpp"

#include <cstddef>
#include <string>

namespace actlab {

// One vector body per activation (forward and backward); the order is the registry's.
enum class VectorOp : int {
  identity, sigmoid, tanh, relu, leaky_relu, prelu, elu, selu, celu, gelu, silu, mish, softplus,
  hardsigmoid, hardswish, softsign, rrelu
};

struct VectorKernels {
  const char* name = nullptr;  // the table entry's name
  VectorOp op{};
  bool transcendental = false;  // exp/erf/tanh inside: worth threads from a smaller size
  bool has_param_grad = false;
};

// nullptr when the entry has no vector body.
const VectorKernels* find_vector_kernels(const ActivationInfo& info);

// Kernels over one contiguous range; activation.cpp splits large arrays into pieces for threads.
// Each element's result depends only on its own inputs (never on n, the split or the alignment);
// across instruction sets results may differ within the stated bounds.
// forward:  y = f(x); y may alias x.
// backward: dx = dy * f'(x); reads y = f(x) instead of x where the body says so; dx may alias dy.
// param_grad: sum over x <= 0 of dy * x (prelu), products in float, summed in double in a fixed
//   order: the lanes, then lanes combined; the caller sums fixed pieces in order.
// stream: store with non-temporal hints (for arrays much larger than the last-level cache).
void vector_forward(const VectorKernels& k, const ActivationParams& p, float* y, const float* x,
                    std::size_t n, bool stream);
void vector_backward(const VectorKernels& k, const ActivationParams& p, float* dx, const float* dy,
                     const float* x, const float* y, std::size_t n, bool stream);
double vector_param_grad(const VectorKernels& k, const ActivationParams& p, const float* dy,
                         const float* x, std::size_t n);

// The PReLU layer with one shared slope, in one pass: assigns dx = dy * (x > 0 ? 1 : weight) and
// returns the sum over x <= 0 of dy * x (float products, double sum in a fixed order).
double vector_prelu_shared_backward(float* dx, const float* dy, const float* x, float weight, std::size_t n,
                                    bool stream);

// Per-channel PReLU over n values of a [rows, channels] array, starting at a row's first value.
// weight_ext[k] = weight[k % channels] for k < channels + vector_lanes(). The backward adds the dy * x
// over x <= 0 of channel k % channels into dweight_ext[k] (channels + vector_lanes() doubles, which
// the caller zeroes and then folds: dweight[c] = sum of dweight_ext[k] over k % channels == c).
void vector_prelu_forward(float* y, const float* x, const float* weight_ext, std::size_t n, std::size_t channels,
                          bool stream);
void vector_prelu_backward(float* dx, double* dweight_ext, const float* dy, const float* x, const float* weight_ext,
                           std::size_t n, std::size_t channels, bool stream);

// The dispatched instruction set ("AVX2", "AVX3", ...) and its float lane count.
std::string vector_target_name();
std::size_t vector_lanes();

}  // namespace actlab
