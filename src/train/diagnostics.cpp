#include "actlab/diagnostics.hpp"
#include "actlab/kernels.hpp"
#include "kernels/unit_stats_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <numeric>

namespace actlab {
namespace {

double rms(double sum_squares, double count) { return count > 0 ? std::sqrt(sum_squares / count) : 0.0; }

Moments moments_of(std::span<const float> v) {
  return (kernel_mode() == KernelMode::vector ? vector_moments : reference_moments)(v.data(), v.size());
}

double sum_squares(std::span<const float> v) { return moments_of(v).sum_squares; }

std::string percent(double fraction) { return fmt::format("{:.0f}%", 100 * fraction); }

}  // namespace

Diagnostics::Diagnostics(Sequential& model, const DiagnosticsOptions& options) : model_(model), options_(options) {
  const auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (std::holds_alternative<ActivationLayer>(layers[i]) || std::holds_alternative<PReLU>(layers[i])) {
      watched_.push_back(i);
      UnitStats s;
      const std::size_t units = model.widths()[i];
      s.max_input.assign(units, -INFINITY);
      s.max_derivative.assign(units, 0.0f);
      s.saturated.assign(units, 0);
      stats_.push_back(std::move(s));
    }
  weight_grad_ss_.assign(layers.size(), 0.0);
  dead_since_.assign(watched_.size(), 0);
  abs_slopes_.resize(watched_.size());
  for (std::size_t k = 0; k < watched_.size(); ++k)
    if (std::holds_alternative<PReLU>(layers[watched_[k]])) abs_slopes_[k].assign(model.widths()[watched_[k]], 0.0f);
  model_.set_backward_observer([this](std::size_t layer, std::span<const float> dy) {
    const auto it = std::find(watched_.begin(), watched_.end(), layer);
    if (it == watched_.end()) return;
    const auto k = std::size_t(it - watched_.begin());
    // The slopes this backward differentiates with, kept for observe_step: the optimizer may be
    // changing them while it runs.
    if (const auto* prelu = std::get_if<PReLU>(&model_.layers()[layer]))
      for (std::size_t u = 0; u < abs_slopes_[k].size(); ++u)
        abs_slopes_[k][u] = std::fabs(prelu->weight[prelu->weight.size() == 1 ? 0 : u]);
    if (!sample_backward_) return;
    stats_[k].grad_ss += sum_squares(dy);
    stats_[k].grad_count += double(dy.size());
  });
}

// One pass over the layer's input x, output y and derivative f'(x): per-unit maxima and
// saturation counts every step; layer means and variances on sampled steps.
void Diagnostics::observe_activation(std::size_t k, bool sample) {
  const std::size_t layer = watched_[k];
  UnitStats& s = stats_[k];
  const std::size_t rows = model_.last_rows(), units = model_.widths()[layer], n = rows * units;
  const std::span<const float> x = model_.layer_input(layer), y = model_.layer_output(layer);
  const bool vector = kernel_mode() == KernelMode::vector;
  const UnitStatsRefs refs{s.max_input.data(), s.max_derivative.data(), s.saturated.data(), units,
                           options_.saturation_threshold};
  if (const auto* a = std::get_if<ActivationLayer>(&model_.layers()[layer])) {
    derivative_.resize(n);
    if (ones_.size() < n) ones_.assign(n, 1.0f);
    activation_backward(a->act, derivative_, std::span<const float>(ones_.data(), n), x, y);
    (vector ? vector_unit_stats : reference_unit_stats)(refs, x.data(), derivative_.data(), rows);
  } else {
    // PReLU: f'(x) is 1 above zero and the unit's slope below, so no derivative array is needed.
    (vector ? vector_prelu_unit_stats : reference_prelu_unit_stats)(refs, x.data(), abs_slopes_[k].data(), rows);
  }
  if (!sample) return;
  const Moments mx = moments_of(x), my = moments_of(y);
  s.sum_x += mx.sum;
  s.sum_xx += mx.sum_squares;
  s.sum_y += my.sum;
  s.sum_yy += my.sum_squares;
  s.count += double(n);
}

void Diagnostics::observe_step(std::size_t step) {
  // Every sample_every-th step, and always the epoch's first, so that short epochs have samples.
  const bool sample = step % options_.sample_every == 0 || samples_ == 0;
  for (std::size_t k = 0; k < watched_.size(); ++k) observe_activation(k, sample);
  rows_seen_ += model_.last_rows();
  if (sample) {
    ++samples_;
    const auto& layers = model_.layers();
    for (std::size_t i = 0; i < layers.size(); ++i)
      if (const auto* lin = std::get_if<Linear>(&layers[i])) weight_grad_ss_[i] += sum_squares(lin->dweight);
  }
  // The backward of the next step is sampled when the next step is.
  sample_backward_ = (step + 1) % options_.sample_every == 0;
}

EpochHealth Diagnostics::end_epoch(int epoch, const Dataset& held_out) {
  EpochHealth h;
  h.epoch = epoch;
  const auto& layers = model_.layers();
  for (std::size_t k = 0; k < watched_.size(); ++k) {
    UnitStats& s = stats_[k];
    ActivationHealth a;
    a.layer = watched_[k];
    a.type = layer_type(layers[a.layer]);
    a.units = s.max_input.size();
    std::size_t dead = 0, never_positive = 0, saturated = 0;
    for (std::size_t u = 0; u < a.units; ++u) {
      const bool is_dead = s.max_derivative[u] == 0.0f;
      dead += is_dead;
      never_positive += !(s.max_input[u] > 0.0f);
      saturated += !is_dead && double(s.saturated[u]) >= options_.saturation_share * double(rows_seen_);
    }
    a.dead_fraction = double(dead) / double(a.units);
    a.never_positive_fraction = double(never_positive) / double(a.units);
    a.saturated_fraction = double(saturated) / double(a.units);
    if (s.count > 0) {
      a.pre_mean = s.sum_x / s.count;
      a.pre_std = std::sqrt(std::max(0.0, s.sum_xx / s.count - a.pre_mean * a.pre_mean));
      a.post_mean = s.sum_y / s.count;
      a.post_std = std::sqrt(std::max(0.0, s.sum_yy / s.count - a.post_mean * a.post_mean));
    }
    a.input_grad_rms = rms(s.grad_ss, s.grad_count);
    if (const auto* p = std::get_if<PReLU>(&layers[a.layer])) {
      a.has_slope = true;
      const auto [lo, hi] = std::minmax_element(p->weight.begin(), p->weight.end());
      a.slope_min = *lo;
      a.slope_max = *hi;
      a.slope_mean = std::accumulate(p->weight.begin(), p->weight.end(), 0.0) / double(p->weight.size());
    }
    if (a.dead_fraction >= options_.dead_warning) {
      if (dead_since_[k] == 0) dead_since_[k] = epoch;
      h.warnings.push_back(fmt::format("layer {} ({}): {} of units dead since epoch {}", a.layer, a.type,
                                       percent(a.dead_fraction), dead_since_[k]));
    } else {
      dead_since_[k] = 0;
    }
    if (a.saturated_fraction >= options_.saturated_warning)
      h.warnings.push_back(fmt::format("layer {} ({}): {} of units saturated (|f'| < {} for {} of samples)", a.layer,
                                       a.type, percent(a.saturated_fraction), options_.saturation_threshold,
                                       percent(options_.saturation_share)));
    h.activations.push_back(a);
    s.max_input.assign(a.units, -INFINITY);
    s.max_derivative.assign(a.units, 0.0f);
    s.saturated.assign(a.units, 0);
    s.sum_x = s.sum_xx = s.sum_y = s.sum_yy = s.count = s.grad_ss = s.grad_count = 0;
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (const auto* lin = std::get_if<Linear>(&layers[i])) {
      h.linear.push_back({i, rms(weight_grad_ss_[i], double(samples_) * double(lin->weight.size())),
                          rms(sum_squares(lin->weight), double(lin->weight.size()))});
    } else if (const auto* bn = std::get_if<BatchNorm1d>(&layers[i])) {
      BatchNormHealth b{i};
      const auto n = double(bn->num_features);
      for (float m : bn->running_mean) b.running_mean_abs_mean += std::fabs(m) / n;
      b.running_var_mean = std::accumulate(bn->running_var.begin(), bn->running_var.end(), 0.0) / n;
      const auto [lo, hi] = std::minmax_element(bn->running_var.begin(), bn->running_var.end());
      b.running_var_min = *lo;
      b.running_var_max = *hi;
      h.batchnorm.push_back(b);
    }
  }
  std::fill(weight_grad_ss_.begin(), weight_grad_ss_.end(), 0.0);
  samples_ = rows_seen_ = 0;
  sample_backward_ = true;  // the next epoch's first step is sampled
  if (h.linear.size() >= 2 && h.linear.back().weight_grad_rms == 0) {
    // No ratio then (it stays 0); say what it means instead.
    h.warnings.push_back("no gradient reaches the last layer's weights: its weight gradients are 0");
  } else if (h.linear.size() >= 2) {
    h.grad_ratio_first_last = h.linear.front().weight_grad_rms / h.linear.back().weight_grad_rms;
    if (h.grad_ratio_first_last == 0)
      h.warnings.push_back("gradients vanish: the first layer's weight gradients are 0");
    else if (h.grad_ratio_first_last < options_.vanishing_ratio)
      h.warnings.push_back(fmt::format("gradients vanish: the first layer's weight gradients are {:.0f}x smaller "
                                       "than the last layer's", 1 / h.grad_ratio_first_last));
    if (h.grad_ratio_first_last > options_.exploding_ratio)
      h.warnings.push_back(fmt::format("gradients explode: the first layer's weight gradients are {:.0f}x larger "
                                       "than the last layer's", h.grad_ratio_first_last));
  }
  // Train/eval gap on held-out rows: a copy runs in training mode (its BatchNorm may update its own
  // running statistics and dropout draws its own masks), the model itself in evaluation mode.
  const std::size_t rows = std::min(options_.held_out_rows, held_out.rows);
  if (rows >= 2) {
    std::vector<std::size_t> idx(rows);
    std::iota(idx.begin(), idx.end(), std::size_t(0));
    std::vector<float> x(rows * held_out.features);
    held_out.gather(idx, x);
    Sequential copy = model_;
    copy.set_backward_observer({});
    Rng rng(0);
    const auto train_out = copy.forward(x, rows, Mode::train, rng);
    const auto eval_out = model_.forward(x, rows, Mode::eval, rng);
    double diff = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < eval_out.size(); ++i) {
      diff += std::fabs(double(train_out[i]) - eval_out[i]);
      scale += std::fabs(double(eval_out[i]));
    }
    h.train_eval_gap = scale > 0 ? diff / scale : 0.0;
    if (h.train_eval_gap > options_.gap_warning)
      h.warnings.push_back(fmt::format("outputs differ by {} between training and evaluation mode (BatchNorm "
                                       "running statistics or dropout)", percent(h.train_eval_gap)));
  }
  return h;
}

std::string Diagnostics::to_json_line(const EpochHealth& h) {
  using nlohmann::ordered_json;
  ordered_json j{{"epoch", h.epoch}};
  j["layers"] = ordered_json::array();
  for (const ActivationHealth& a : h.activations) {
    ordered_json l{{"layer", a.layer},
                   {"type", a.type},
                   {"units", a.units},
                   {"dead_fraction", a.dead_fraction},
                   {"never_positive_fraction", a.never_positive_fraction},
                   {"saturated_fraction", a.saturated_fraction},
                   {"pre_mean", a.pre_mean},
                   {"pre_std", a.pre_std},
                   {"post_mean", a.post_mean},
                   {"post_std", a.post_std},
                   {"input_grad_rms", a.input_grad_rms}};
    if (a.has_slope) l["slope"] = {{"min", a.slope_min}, {"mean", a.slope_mean}, {"max", a.slope_max}};
    j["layers"].push_back(l);
  }
  j["linear"] = ordered_json::array();
  for (const LinearHealth& l : h.linear)
    j["linear"].push_back({{"layer", l.layer}, {"weight_grad_rms", l.weight_grad_rms}, {"weight_rms", l.weight_rms}});
  j["batchnorm"] = ordered_json::array();
  for (const BatchNormHealth& b : h.batchnorm)
    j["batchnorm"].push_back({{"layer", b.layer},
                              {"running_mean_abs_mean", b.running_mean_abs_mean},
                              {"running_var_mean", b.running_var_mean},
                              {"running_var_min", b.running_var_min},
                              {"running_var_max", b.running_var_max}});
  j["grad_ratio_first_last"] = h.grad_ratio_first_last;
  j["train_eval_gap"] = h.train_eval_gap;
  j["warnings"] = h.warnings;
  return j.dump();
}

std::string Diagnostics::summary(const EpochHealth& h) {
  std::string out = "  health:";
  for (const ActivationHealth& a : h.activations) {
    out += fmt::format(" L{} {}", a.layer, a.type);
    if (a.has_slope)
      out += a.slope_min == a.slope_max ? fmt::format(" a={:.3f}", a.slope_mean)
                                        : fmt::format(" a={:.2f}..{:.2f}", a.slope_min, a.slope_max);
    out += fmt::format(" dead {} never+ {} sat {} |", percent(a.dead_fraction), percent(a.never_positive_fraction),
                       percent(a.saturated_fraction));
  }
  out += fmt::format(" grad first/last {:.2g} | train/eval gap {}", h.grad_ratio_first_last,
                     percent(h.train_eval_gap));
  return out;
}

}  // namespace actlab
