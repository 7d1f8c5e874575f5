// Building an activation's table entry from its formulas: the scalar reference kernels.
//
// An entry's f and f' are written once as generic, captureless lambdas and make_entry instantiates
// them for float and double as plain loops. These loops are the specification of the activation:
// every faster path is tested against them. The built-in table (src/kernels/activation_table.cpp)
// and user code that calls register_activation (actlab/activation.hpp) build entries the same way:
//
//   using actlab::ActivationParams;
//   actlab::register_activation(actlab::make_entry(
//       {.name = "squareplus", .params = {{"b", 4.0, 1e-12, 1e12}},
//        .formula = "(x + sqrt(x^2 + b)) / 2", .derivative = "(1 + x / sqrt(x^2 + b)) / 2"},
//       [](auto x, const ActivationParams& p) { return (x + std::sqrt(x * x + decltype(x)(p[0]))) / 2; },
//       [](auto x, auto, const ActivationParams& p) { return (1 + x / std::sqrt(x * x + decltype(x)(p[0]))) / 2; }));
//
// (examples/custom_activation.cpp is the complete program, with forms that stay accurate for large |x|.)
//
// The bodies, for T = float and T = double:
//   f(x, p)        -> T   the activation at x; p holds the parameter values in the entry's order
//   df(x, y, p)    -> T   f'(x); y = f(x) is passed too, for entries that compute f' from the output
//   g(dy, x, p)    -> T   dy * df/dparam0, only for an activation with a learnable parameter
// Header-only, standard library only.
#pragma once

#include "actlab/activation.hpp"

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

namespace actlab {

// y[i] = f(x[i]). Captureless lambdas are default-constructible in C++20, so a body's type is
// enough to call it and the kernel can be a plain function pointer.
template <class F, class T>
void reference_forward(const ActivationParams& p, std::span<T> y, std::span<const T> x) {
  const F f{};
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = f(x[i], p);
}

// dx[i] = dy[i] * f'(x[i]) (assigns).
template <class D, class T>
void reference_backward(const ActivationParams& p, std::span<T> dx, std::span<const T> dy,
                        std::span<const T> x, std::span<const T> y) {
  const D df{};
  for (std::size_t i = 0; i < x.size(); ++i) dx[i] = dy[i] * df(x[i], y[i], p);
}

// Sum of dy * df/dparam, accumulated in double so that the sum does not depend on n's size.
template <class G, class T>
double reference_param_grad(const ActivationParams& p, std::span<const T> dy, std::span<const T> x) {
  const G g{};
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += double(g(dy[i], x[i], p));
  return sum;
}

template <class T, class F, class D>
ActivationKernels<T> reference_kernels() {
  return {&reference_forward<F, T>, &reference_backward<D, T>, nullptr};
}

// Fills an entry's reference kernels (float and double) from its bodies f(x, p) and df(x, y, p).
template <class F, class D>
ActivationInfo make_entry(ActivationInfo info, F, D) {
  static_assert(std::is_default_constructible_v<F> && std::is_default_constructible_v<D>,
                "make_entry: f and df must be captureless lambdas (constants go in the body or in params)");
  info.reference_f32 = reference_kernels<float, F, D>();
  info.reference_f64 = reference_kernels<double, F, D>();
  return info;
}

// The same, for an activation with a learnable parameter: g(dy, x, p) = dy * df/dparam0.
template <class F, class D, class G>
ActivationInfo make_entry(ActivationInfo info, F f, D df, G) {
  static_assert(std::is_default_constructible_v<G>, "make_entry: g must be a captureless lambda");
  info = make_entry(std::move(info), f, df);
  info.reference_f32.param_grad = &reference_param_grad<G, float>;
  info.reference_f64.param_grad = &reference_param_grad<G, double>;
  return info;
}

}  // namespace actlab
