// Optimizers with PyTorch's update rules (torch.optim.SGD, Adam, AdamW in 1.13).
#pragma once

#include "actlab/layers.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace actlab {

struct OptimizerConfig {
  std::string kind = "sgd";  // sgd | adam | adamw
  double lr = 0.05;
  double momentum = 0.9;     // sgd
  bool nesterov = false;     // sgd
  double weight_decay = 0.0; // applied only to parameters with ParamRef::weight_decay set
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
};

class Optimizer {
 public:
  // Validates the config (kind, lr > 0, ranges) and keeps the parameter references; the state
  // buffers are allocated here, once. Throws std::invalid_argument.
  Optimizer(const OptimizerConfig& config, std::vector<ParamRef> params);

  // One update of every parameter from its gradient, with learning rate `lr` (a schedule may vary it):
  //   sgd:   d = g + wd p; buf = momentum buf + d (buf = d at the first step);
  //          d = nesterov ? d + momentum buf : buf; p -= lr d
  //   adam:  g += wd p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  //          p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
  //   adamw: p *= 1 - lr wd, then adam without the wd term.
  // Returns the first parameter whose gradient held a NaN or inf (its update is already applied:
  // stop training), or nullptr when all were finite.
  // `alongside` is other work that touches none of the parameters (the trainer gathers the next
  // batch and runs the diagnostics). With two or more OpenMP threads and shared_update_values
  // parameters or more, each thread updates the same share of the parameters every step, the last
  // threads after running the tasks (the last thread the first task, and so on, round again when
  // there are more tasks than threads), and threads done with their own share help with the
  // others', so the tasks and the update overlap; otherwise the tasks run after the update, in
  // order. An exception from a task is rethrown once the update is done.
  const ParamRef* step(double lr, std::span<const std::function<void()>> alongside = {});

  // Parameters from which the update is shared among threads (see step; 32 times as many when
  // OMP_WAIT_POLICY is passive).
  static constexpr std::size_t shared_update_values = 65536;

  const OptimizerConfig& config() const { return config_; }
  long long steps() const { return steps_; }

  // The state a checkpoint needs: the step count and every buffer, named after its parameter
  // ("3.weight.momentum_buffer"; Adam: ".exp_avg", ".exp_avg_sq"), as in PyTorch's state_dict.
  std::vector<std::pair<std::string, std::vector<float>*>> state_buffers();
  void set_steps(long long steps) { steps_ = steps; }

 private:
  OptimizerConfig config_;
  std::vector<ParamRef> params_;
  // Updates values [begin, begin + count) of parameter k; false when a gradient there is not finite.
  bool update(std::size_t k, std::size_t begin, std::size_t count, double lr);

  struct Piece {
    std::size_t param, begin, count;
    bool finite;  // of the last step
  };
  std::vector<std::vector<float>> first_, second_;  // momentum / Adam moments, one per parameter
  std::vector<Piece> pieces_;  // every parameter's update in pieces the threads share
  static constexpr std::size_t kMaxShares = 64;  // threads beyond own no share and only help
  std::size_t total_values_ = 0;
  long long steps_ = 0;
};

}  // namespace actlab
