// Numerically stable scalar building blocks shared by the reference activation bodies.
// Each is finite for every finite input and passes NaN through.
#pragma once

#include <cmath>

namespace actlab::scalar {

// 1 / (1 + exp(-x)), without overflow: exp is only taken of a non-positive number.
template <class T>
T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);  // also the NaN path
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), exact to rounding for every x.
template <class T>
T softplus(T x) {
  if (std::isnan(x)) return x;
  return std::fmax(x, T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

}  // namespace actlab::scalar
