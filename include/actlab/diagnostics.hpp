// Training diagnostics: what the activations and gradients do while a network trains, per layer
// and per epoch. Cheap enough to leave on (measured in docs/FINDINGS.md and the README).
//
// Definitions, for an activation layer whose input is x and derivative f'(x), over every sample of
// one epoch's training batches:
//   dead           a unit whose f'(x) is exactly 0 for every sample (relu: never positive)
//   never positive a unit whose input is never > 0 (for the leaky family: "near-dead", stuck on the
//                  small slope); dead relu units are never positive too
//   saturated      a unit (not dead) whose |f'(x)| < saturation_threshold for at least
//                  saturation_share of its samples (sigmoid, tanh, hard* far from 0)
// These go by f' as computed in float: a sigmoid unit whose inputs all stay above 16.6 (f' is 0 in
// float there), a tanh one beyond |x| = 9, a hard* one outside (-3, 3) count as dead, not saturated;
// and a relu unit inactive on 90% of its samples (but not all) counts as saturated.
// Means and standard deviations of x and f(x), and gradient norms, are sampled every
// sample_every-th step (one in ten by default) and at each epoch's first step, to keep the cost down.
#pragma once

#include "actlab/dataset.hpp"
#include "actlab/model.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace actlab {

struct DiagnosticsOptions {
  float saturation_threshold = 0.01f;
  double saturation_share = 0.9;
  std::size_t sample_every = 10;
  double dead_warning = 0.1;        // warn when this share of a layer's units is dead
  double saturated_warning = 0.5;   // ... or saturated
  double vanishing_ratio = 0.01;    // warn when first/last layer gradient RMS is below this
  double exploding_ratio = 100.0;   // ... or above this
  double gap_warning = 0.25;        // relative train/eval output gap
  std::size_t held_out_rows = 256;  // test rows used for the train/eval gap
};

struct ActivationHealth {
  std::size_t layer = 0;
  std::string type;
  std::size_t units = 0;
  double dead_fraction = 0, never_positive_fraction = 0, saturated_fraction = 0;
  double pre_mean = 0, pre_std = 0, post_mean = 0, post_std = 0;
  double input_grad_rms = 0;  // RMS of the gradient arriving at the layer's output
  bool has_slope = false;     // PReLU: its learned slopes
  double slope_min = 0, slope_mean = 0, slope_max = 0;
};

struct LinearHealth {
  std::size_t layer = 0;
  double weight_grad_rms = 0, weight_rms = 0;
};

struct BatchNormHealth {
  std::size_t layer = 0;
  double running_mean_abs_mean = 0, running_var_mean = 0, running_var_min = 0, running_var_max = 0;
};

struct EpochHealth {
  int epoch = 0;
  std::vector<ActivationHealth> activations;
  std::vector<LinearHealth> linear;
  std::vector<BatchNormHealth> batchnorm;
  double grad_ratio_first_last = 0;  // weight-gradient RMS of the first Linear over the last one's
  double train_eval_gap = 0;         // mean |train-mode - eval-mode output| / mean |eval-mode output|
  std::vector<std::string> warnings;
};

class Diagnostics {
 public:
  Diagnostics(Sequential& model, const DiagnosticsOptions& options = {});

  // After each step's backward (the layer outputs and gradients of that step are still in place),
  // before or while the optimizer updates the parameters: it reads no parameter. PReLU slopes are
  // the ones that backward used, which the model's backward observer (installed here, also to see
  // the input gradients) copies.
  void observe_step(std::size_t step);
  // Summarizes the epoch, resets the accumulators. held_out: rows for the train/eval gap.
  EpochHealth end_epoch(int epoch, const Dataset& held_out);

  // What the epoch so far has accumulated, as text for a checkpoint (exact: values kept as their
  // bits), and its restoration in a Diagnostics built for the same model, so that a resumed epoch
  // reports over all of its steps. restore_state throws std::runtime_error for a state of another
  // model (other watched layers or widths) or one that does not parse.
  std::string state() const;
  void restore_state(std::string_view text);

  // One JSON object (one line of diagnostics.jsonl) and a compact one-line summary for the screen.
  static std::string to_json_line(const EpochHealth& health);
  static std::string summary(const EpochHealth& health);

 private:
  struct UnitStats {
    std::vector<float> max_input, max_derivative;
    std::vector<std::uint32_t> saturated;
    double sum_x = 0, sum_xx = 0, sum_y = 0, sum_yy = 0, count = 0;
    double grad_ss = 0, grad_count = 0;
  };
  void observe_activation(std::size_t k, bool sample);  // watched_[k]

  Sequential& model_;
  DiagnosticsOptions options_;
  std::vector<std::size_t> watched_;  // indices of activation and PReLU layers
  std::vector<UnitStats> stats_;
  std::vector<double> weight_grad_ss_;  // per Linear layer, over sampled steps
  std::size_t samples_ = 0, rows_seen_ = 0;
  bool sample_backward_ = true;  // the first step is sampled
  std::vector<float> ones_, derivative_;
  std::vector<std::vector<float>> abs_slopes_;  // per watched PReLU layer, |slope| per unit
  std::vector<int> dead_since_;  // first epoch a watched layer crossed the dead warning, or 0
};

}  // namespace actlab
