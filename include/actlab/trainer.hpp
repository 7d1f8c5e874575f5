// The training loop: shuffled mini-batches, forward, loss, backward, optimizer step, per-epoch
// evaluation on the test set.
#pragma once

#include "actlab/dataset.hpp"
#include "actlab/model.hpp"
#include "actlab/optimizer.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace actlab {

struct TrainConfig {
  int epochs = 10;
  std::size_t batch = 128;
  OptimizerConfig optimizer;
  std::string schedule = "cosine";  // cosine: lr decays to 0 over all steps, per step; constant
  std::string loss = "cross_entropy";  // cross_entropy | mse | bce (on one-hot targets)
  std::uint64_t seed = 0;
};

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  std::size_t rows = 0;
};

struct EpochStats {
  int epoch = 0;  // 1-based
  double train_loss = 0.0, train_accuracy = 0.0;  // running means over the epoch, training mode
  EvalResult test;
  double seconds = 0.0;  // training time of the epoch, evaluation excluded
  double lr = 0.0;       // learning rate at the epoch's last step
};

struct TrainCallbacks {
  std::function<void(std::size_t batches_done, std::size_t batches_total, double running_loss)> on_batch;
  std::function<void(const EpochStats&)> on_epoch;
};

// Evaluation-mode loss (the config's loss) and accuracy over a whole data set, in chunks of `batch`.
EvalResult evaluate(Sequential& model, const Dataset& data, const std::string& loss = "cross_entropy",
                    std::size_t batch = 1000);

// Trains `model` (already initialized) on split.train, evaluating on split.test after each epoch.
// Same model, data, config and seed: the same numbers. A final batch of one row is skipped
// (BatchNorm cannot train on it). Throws std::invalid_argument for a bad config or a data set whose
// width or classes do not match the model.
std::vector<EpochStats> train(Sequential& model, const DataSplit& split, const TrainConfig& config,
                              const TrainCallbacks& callbacks = {});

}  // namespace actlab
