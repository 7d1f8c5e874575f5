// The scalar reference kernels: plain loops over an activation's generic bodies. They are the
// specification that every faster path is tested against.
#pragma once

#include "actlab/activation.hpp"

namespace actlab {

// Captureless lambdas are default-constructible in C++20, so a body's type is enough to call it.
template <class F, class T>
void reference_forward(const ActivationParams& p, std::span<T> y, std::span<const T> x) {
  const F f{};
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = f(x[i], p);
}

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

// Fills an entry's reference kernels from its bodies: f(x, p), df(x, y, p) and, for a learnable
// parameter, g(dy, x, p) = dy * df/dparam.
template <class F, class D>
ActivationInfo make_entry(ActivationInfo info, F, D) {
  info.reference_f32 = reference_kernels<float, F, D>();
  info.reference_f64 = reference_kernels<double, F, D>();
  return info;
}

template <class F, class D, class G>
ActivationInfo make_entry(ActivationInfo info, F f, D df, G) {
  info = make_entry(std::move(info), f, df);
  info.reference_f32.param_grad = &reference_param_grad<G, float>;
  info.reference_f64.param_grad = &reference_param_grad<G, double>;
  return info;
}

}  // namespace actlab
