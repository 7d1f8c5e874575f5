// The training loop: shuffled mini-batches, forward, loss, backward, optimizer step, per-epoch
// evaluation on the test set; with checkpoints that continue a run bit for bit, a stop request
// honoured at the next batch boundary, and a clear stop on non-finite values.
#pragma once

#include "actlab/dataset.hpp"
#include "actlab/model.hpp"
#include "actlab/optimizer.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace actlab {

struct TrainConfig {
  int epochs = 10;
  std::size_t batch = 128;
  OptimizerConfig optimizer;
  std::string schedule = "cosine";     // cosine: lr decays to 0 over all steps, per step; constant
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
  double seconds = 0.0;  // wall time of the epoch's training loop and its callbacks, evaluation excluded
  double matmul_seconds = 0.0;  // the part of `seconds` spent in the layers' matrix products
  double lr = 0.0;       // learning rate at the epoch's last step
};

struct TrainCallbacks {
  std::function<void(std::size_t batches_done, std::size_t batches_total, double running_loss)> on_batch;
  std::function<void(const EpochStats&)> on_epoch;
  // Called once per step after its backward, with the step count the step ends with. It may run on
  // another thread while the parameters are updated (two or more threads and a model of
  // Optimizer::shared_update_values parameters), so it may read the step's activations and
  // gradients but no parameter (diagnostics). An exception from it leaves run() once the step is
  // counted.
  std::function<void(std::size_t step)> observe;
  // Called after each optimizer step with the global step count (checkpointing).
  std::function<void(std::size_t step)> on_step;
  // Polled at every batch boundary; returning true stops the run there (resumable).
  std::function<bool()> stop_requested;
};

// Thrown when a loss or gradient is NaN or infinite; the message names the epoch, the step and the
// first layer where non-finite values appeared.
class NonFiniteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Evaluation-mode loss (the config's loss) and accuracy over a whole data set, in chunks of `batch`
// (>= 1). Throws std::invalid_argument for data that does not fit the model: another feature count,
// a label count other than the rows, or a label outside the model's outputs.
EvalResult evaluate(Sequential& model, const Dataset& data, const std::string& loss = "cross_entropy",
                    std::size_t batch = 1000);

class Trainer {
 public:
  // Keeps references to model and split: both must outlive the trainer. Throws
  // std::invalid_argument for a bad config or data that does not fit the model.
  Trainer(Sequential& model, const DataSplit& split, const TrainConfig& config);
  ~Trainer();

  // Trains until the last epoch (true) or until callbacks.stop_requested() says stop (false; the
  // run can be checkpointed and continued). Throws NonFiniteError on NaN/inf.
  bool run(const TrainCallbacks& callbacks = {});

  const std::vector<EpochStats>& history() const;
  std::size_t step() const;  // optimizer steps taken so far
  const TrainConfig& config() const;

  // Writes model, optimizer state, random generator states and the position in the run to one
  // safetensors file, atomically. `extra` is stored in its metadata (the CLI keeps its options there).
  void save_checkpoint(const std::string& path, const std::map<std::string, std::string>& extra = {}) const;
  // Restores all of that from a checkpoint of the same architecture and config (see read_checkpoint).
  void restore(const std::string& path);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// What a checkpoint says about itself, for building the model and config before restore():
// the model config JSON, the train config, and the `extra` metadata given to save_checkpoint.
struct CheckpointInfo {
  std::string model_config_json;
  TrainConfig config;
  std::map<std::string, std::string> extra;
};
CheckpointInfo read_checkpoint_info(const std::string& path);

// Trains `model` (already initialized) on split.train, evaluating on split.test after each epoch.
// Same model, data, config and seed: the same numbers. A final batch of one row is skipped
// (BatchNorm cannot train on it).
std::vector<EpochStats> train(Sequential& model, const DataSplit& split, const TrainConfig& config,
                              const TrainCallbacks& callbacks = {});

}  // namespace actlab
