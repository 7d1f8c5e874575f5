#include "actlab/optimizer.hpp"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace actlab {

Optimizer::Optimizer(const OptimizerConfig& config, std::vector<ParamRef> params)
    : config_(config), params_(std::move(params)) {
  const auto& c = config_;
  if (c.kind != "sgd" && c.kind != "adam" && c.kind != "adamw")
    throw std::invalid_argument(fmt::format("optimizer '{}' is not one of: sgd, adam, adamw", c.kind));
  if (!(c.lr > 0 && std::isfinite(c.lr))) throw std::invalid_argument(fmt::format("lr={} must be > 0", c.lr));
  if (!(c.momentum >= 0 && c.momentum < 1))
    throw std::invalid_argument(fmt::format("momentum={} must be in [0, 1)", c.momentum));
  if (c.nesterov && c.momentum == 0) throw std::invalid_argument("nesterov needs momentum > 0");
  if (!(c.weight_decay >= 0)) throw std::invalid_argument(fmt::format("weight_decay={} must be >= 0", c.weight_decay));
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1 && c.eps > 0))
    throw std::invalid_argument("adam: betas must be in [0, 1) and eps > 0");
  for (const ParamRef& p : params_) {
    first_.emplace_back(p.value.size(), 0.0f);
    if (c.kind != "sgd") second_.emplace_back(p.value.size(), 0.0f);
  }
}

void Optimizer::step(double lr) {
  ++steps_;
  const auto& c = config_;
  const auto flr = float(lr);
  for (std::size_t k = 0; k < params_.size(); ++k) {
    ParamRef& p = params_[k];
    const float wd = p.weight_decay ? float(c.weight_decay) : 0.0f;
    std::vector<float>& m = first_[k];
    if (c.kind == "sgd") {
      const auto mom = float(c.momentum);
      for (std::size_t i = 0; i < p.value.size(); ++i) {
        float d = p.grad[i] + wd * p.value[i];
        if (mom != 0.0f) {
          m[i] = steps_ == 1 ? d : mom * m[i] + d;
          d = c.nesterov ? d + mom * m[i] : m[i];
        }
        p.value[i] -= flr * d;
      }
      continue;
    }
    std::vector<float>& v = second_[k];
    const bool decoupled = c.kind == "adamw";
    const auto b1 = float(c.beta1), b2 = float(c.beta2), eps = float(c.eps);
    const double t = double(steps_);
    const auto step_size = float(lr / (1.0 - std::pow(c.beta1, t)));
    const auto inv_sqrt_bc2 = float(1.0 / std::sqrt(1.0 - std::pow(c.beta2, t)));
    for (std::size_t i = 0; i < p.value.size(); ++i) {
      float g = p.grad[i];
      if (decoupled) p.value[i] *= 1.0f - flr * wd;
      else g += wd * p.value[i];
      m[i] = b1 * m[i] + (1.0f - b1) * g;
      v[i] = b2 * v[i] + (1.0f - b2) * g * g;
      p.value[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  }
}

}  // namespace actlab
