#include "actlab/optimizer.hpp"

#include "actlab/kernels.hpp"
#include "kernels/update_kernels.hpp"

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

const ParamRef* Optimizer::step(double lr) {
  ++steps_;
  const auto& c = config_;
  const bool vector = kernel_mode() == KernelMode::vector;
  const ParamRef* non_finite = nullptr;
  for (std::size_t k = 0; k < params_.size(); ++k) {
    ParamRef& p = params_[k];
    const float wd = p.weight_decay ? float(c.weight_decay) : 0.0f;
    if (c.kind == "sgd") {
      const SgdStep s{float(lr), float(c.momentum), wd, c.nesterov, steps_ == 1};
      const bool finite = (vector ? vector_sgd_update : reference_sgd_update)(
          p.value.data(), p.grad.data(), first_[k].data(), p.value.size(), s);
      if (!finite && !non_finite) non_finite = &p;
      continue;
    }
    const double t = double(steps_);
    const AdamStep s{wd,
                     c.kind == "adamw",
                     float(c.beta1),
                     float(c.beta2),
                     float(c.eps),
                     float(lr / (1.0 - std::pow(c.beta1, t))),
                     float(1.0 / std::sqrt(1.0 - std::pow(c.beta2, t))),
                     float(1.0 - lr * wd)};
    const bool finite = (vector ? vector_adam_update : reference_adam_update)(
        p.value.data(), p.grad.data(), first_[k].data(), second_[k].data(), p.value.size(), s);
    if (!finite && !non_finite) non_finite = &p;
  }
  return non_finite;
}

std::vector<std::pair<std::string, std::vector<float>*>> Optimizer::state_buffers() {
  std::vector<std::pair<std::string, std::vector<float>*>> out;
  const bool sgd = config_.kind == "sgd";
  for (std::size_t k = 0; k < params_.size(); ++k) {
    out.emplace_back(params_[k].name + (sgd ? ".momentum_buffer" : ".exp_avg"), &first_[k]);
    if (!sgd) out.emplace_back(params_[k].name + ".exp_avg_sq", &second_[k]);
  }
  return out;
}

}  // namespace actlab
