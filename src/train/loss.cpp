#include "actlab/loss.hpp"

#include "actlab/kernels.hpp"
#include "kernels/loss_kernels.hpp"
#include "kernels/scalar_math.hpp"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace actlab {
namespace {

void check_grad(std::span<float> grad, std::size_t n) {
  if (!grad.empty() && grad.size() != n)
    throw std::invalid_argument(fmt::format("loss: gradient has {} values, expected {}", grad.size(), n));
}

}  // namespace

double softmax_cross_entropy(std::span<float> dlogits, std::span<const float> logits,
                             std::span<const std::int32_t> labels, std::size_t classes) {
  const std::size_t rows = labels.size();
  if (classes == 0 || logits.size() != rows * classes)
    throw std::invalid_argument(fmt::format("cross-entropy: {} logits for {} rows of {} classes", logits.size(),
                                            rows, classes));
  check_grad(dlogits, logits.size());
  for (const std::int32_t label : labels)
    if (label < 0 || std::size_t(label) >= classes)
      throw std::invalid_argument(fmt::format("cross-entropy: label {} out of range [0, {})", label, classes));
  if (rows == 0) return 0.0;
  // The vector kernel exponentiates a row's logits together (the two double exps per logit that
  // this loop once had were most of the loss's time).
  const double total = (kernel_mode() == KernelMode::vector ? vector_softmax_cross_entropy
                                                             : reference_softmax_cross_entropy)(
      dlogits.empty() ? nullptr : dlogits.data(), logits.data(), labels.data(), rows, classes);
  return total / double(rows);
}

double mse_loss(std::span<float> dy, std::span<const float> y, std::span<const float> target) {
  if (y.size() != target.size()) throw std::invalid_argument("mse: output and target differ in length");
  check_grad(dy, y.size());
  double total = 0.0;
  const double n = double(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double d = double(y[i]) - target[i];
    total += d * d;
    if (!dy.empty()) dy[i] = float(2.0 * d / n);
  }
  return y.empty() ? 0.0 : total / n;
}

double bce_with_logits(std::span<float> dlogits, std::span<const float> logits, std::span<const float> target) {
  if (logits.size() != target.size()) throw std::invalid_argument("bce: logits and target differ in length");
  check_grad(dlogits, logits.size());
  double total = 0.0;
  const double n = double(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double z = logits[i], t = target[i];
    total += std::fmax(z, 0.0) - z * t + std::log1p(std::exp(-std::fabs(z)));
    if (!dlogits.empty()) dlogits[i] = float((scalar::sigmoid(z) - t) / n);
  }
  return logits.empty() ? 0.0 : total / n;
}

std::size_t count_correct(std::span<const float> logits, std::span<const std::int32_t> labels, std::size_t classes) {
  if (classes == 0 || logits.size() != labels.size() * classes)
    throw std::invalid_argument(fmt::format("count_correct: {} logits for {} rows of {} classes", logits.size(),
                                            labels.size(), classes));
  std::size_t correct = 0;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    const float* z = logits.data() + r * classes;
    std::size_t best = 0;
    for (std::size_t c = 1; c < classes; ++c)
      if (z[c] > z[best]) best = c;
    correct += std::int32_t(best) == labels[r];
  }
  return correct;
}

}  // namespace actlab
