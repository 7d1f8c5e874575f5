// Private parts of the trainer shared by trainer.cpp and checkpoint.cpp: the loss choice and the
// whole state of a run (what a checkpoint saves).
#pragma once

#include "actlab/loss.hpp"
#include "actlab/trainer.hpp"

#include <array>
#include <exception>
#include <fmt/format.h>
#include <stdexcept>

namespace actlab {

// The chosen loss and its gradient for a batch; mse and bce compare against one-hot targets.
class LossFunction {
 public:
  LossFunction(const std::string& name, std::size_t classes) : name_(name), classes_(classes) {
    if (name != "cross_entropy" && name != "mse" && name != "bce")
      throw std::invalid_argument(fmt::format("loss '{}' is not one of: cross_entropy, mse, bce", name));
  }
  double operator()(std::span<float> grad, std::span<const float> logits, std::span<const std::int32_t> labels) {
    if (name_ == "cross_entropy") return softmax_cross_entropy(grad, logits, labels, classes_);
    onehot_.assign(logits.size(), 0.0f);
    for (std::size_t r = 0; r < labels.size(); ++r) onehot_[r * classes_ + std::size_t(labels[r])] = 1.0f;
    // mse/bce average over every element; scale by classes so the loss is per row as for cross-entropy.
    const double per_element =
        name_ == "mse" ? mse_loss(grad, logits, onehot_) : bce_with_logits(grad, logits, onehot_);
    for (float& g : grad) g *= float(classes_);
    return per_element * double(classes_);
  }

 private:
  std::string name_;
  std::size_t classes_;
  std::vector<float> onehot_;
};

struct Trainer::State {
  State(Sequential& model, const DataSplit& split, const TrainConfig& config);
  void shuffle();
  double learning_rate() const;
  // observe: TrainCallbacks::observe (may be empty).
  void train_batch(std::size_t b, const std::function<void(std::size_t)>& observe);
  std::size_t batch_rows(std::size_t b) const;  // rows of batch b of the epoch
  void gather_batch(std::size_t b);              // into batch_buffers[b % 2]
  std::string where_non_finite(std::span<const float> input) const;

  Sequential& model;
  const DataSplit& split;
  TrainConfig config;
  LossFunction loss_fn;
  Optimizer optimizer;
  Rng shuffle_rng, layer_rng;  // independent streams: data order; dropout and rrelu
  std::size_t batch = 0, batches = 0;

  // Where the run is: all of it goes into a checkpoint.
  int epoch = 1;
  std::size_t batch_in_epoch = 0;  // batches of the current epoch already done
  std::size_t step = 0;            // optimizer steps so far
  std::array<std::uint64_t, 4> epoch_start_rng{};
  double loss_sum = 0.0, seconds = 0.0, matmul_seconds = 0.0, lr = 0.0;
  std::size_t seen = 0, correct = 0;
  std::vector<EpochStats> history;

  // Buffers reused by every batch. Batches alternate between two input buffers, so that the next
  // one can be gathered while this one's parameters are updated.
  struct BatchBuffers {
    std::vector<float> x;
    std::vector<std::int32_t> labels;
  };
  static constexpr std::size_t no_batch = std::size_t(-1);
  std::vector<std::size_t> order;
  std::array<BatchBuffers, 2> batch_buffers;
  std::size_t gathered = no_batch;  // the batch of this epoch whose rows are in its buffer
  int shuffled_epoch = 0;           // the epoch whose order `order` holds
  // Failures of the work run beside the update (the next batch's gather, TrainCallbacks::observe),
  // kept until the step's bookkeeping is done: run() rethrows them with the step counted.
  std::array<std::exception_ptr, 2> side_failures;
  template <class Work>
  void keep_failure(std::size_t slot, Work&& work) {
    try {
      work();
    } catch (...) {
      side_failures[slot] = std::current_exception();
    }
  }
  void rethrow_side_failure();
  std::vector<float> dlogits;
};

}  // namespace actlab
