#include "actlab/trainer.hpp"

#include "actlab/loss.hpp"

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <numbers>
#include <numeric>
#include <stdexcept>

namespace actlab {
namespace {

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
    const double per_element = name_ == "mse" ? mse_loss(grad, logits, onehot_) : bce_with_logits(grad, logits, onehot_);
    for (float& g : grad) g *= float(classes_);
    return per_element * double(classes_);
  }

 private:
  std::string name_;
  std::size_t classes_;
  std::vector<float> onehot_;
};

void check_fit(const Sequential& model, const Dataset& data, const char* which) {
  if (data.features != model.in_features())
    throw std::invalid_argument(fmt::format("{} data has {} features but the model takes {}", which,
                                            data.features, model.in_features()));
  if (std::size_t(data.num_classes) > model.out_features())
    throw std::invalid_argument(fmt::format("{} data has {} classes but the model outputs {}", which,
                                            data.num_classes, model.out_features()));
}

}  // namespace

EvalResult evaluate(Sequential& model, const Dataset& data, const std::string& loss, std::size_t batch) {
  check_fit(model, data, "evaluation");
  LossFunction loss_fn(loss, model.out_features());
  std::vector<std::size_t> idx(std::min(batch, data.rows));
  std::vector<float> x(idx.size() * data.features);
  Rng unused_rng(0);  // evaluation draws no random numbers
  EvalResult result;
  double total_loss = 0.0;
  std::size_t correct = 0;
  for (std::size_t start = 0; start < data.rows; start += batch) {
    const std::size_t rows = std::min(batch, data.rows - start);
    std::iota(idx.begin(), idx.begin() + std::ptrdiff_t(rows), start);
    std::span<float> xb(x.data(), rows * data.features);
    data.gather(std::span(idx.data(), rows), xb);
    const auto logits = model.forward(xb, rows, Mode::eval, unused_rng);
    const std::span<const std::int32_t> labels(data.labels.data() + start, rows);
    total_loss += loss_fn({}, logits, labels) * double(rows);
    correct += count_correct(logits, labels, model.out_features());
  }
  result.rows = data.rows;
  if (data.rows) {
    result.loss = total_loss / double(data.rows);
    result.accuracy = double(correct) / double(data.rows);
  }
  return result;
}

std::vector<EpochStats> train(Sequential& model, const DataSplit& split, const TrainConfig& config,
                              const TrainCallbacks& callbacks) {
  const Dataset& data = split.train;
  check_fit(model, data, "training");
  check_fit(model, split.test, "test");
  if (config.epochs < 1) throw std::invalid_argument(fmt::format("epochs={} must be at least 1", config.epochs));
  if (config.batch < 2) throw std::invalid_argument(fmt::format("batch={} must be at least 2", config.batch));
  if (config.schedule != "cosine" && config.schedule != "constant")
    throw std::invalid_argument(fmt::format("schedule '{}' is not one of: cosine, constant", config.schedule));
  if (data.rows < 2) throw std::invalid_argument("training data has fewer than 2 rows");

  const std::size_t classes = model.out_features();
  LossFunction loss_fn(config.loss, classes);
  Optimizer optimizer(config.optimizer, model.parameters());
  // Independent streams: shuffling and the layers' own randomness (dropout, rrelu).
  Rng shuffle_rng(config.seed ^ 0x53485546464C45ull), layer_rng(config.seed ^ 0x4C41594552ull);

  const std::size_t batch = std::min(config.batch, data.rows);
  const std::size_t batches = (data.rows + batch - 1) / batch;
  const std::size_t total_steps = batches * std::size_t(config.epochs);
  std::vector<std::size_t> order(data.rows);
  std::iota(order.begin(), order.end(), 0);
  std::vector<float> x(batch * data.features), dlogits(batch * classes);
  std::vector<std::int32_t> labels(batch);

  std::vector<EpochStats> history;
  std::size_t step = 0;
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = data.rows - 1; i > 0; --i) std::swap(order[i], order[shuffle_rng.below(i + 1)]);
    double loss_sum = 0.0, lr = config.optimizer.lr;
    std::size_t seen = 0, correct = 0;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t first = b * batch, rows = std::min(batch, data.rows - first);
      if (rows < 2) continue;
      const std::span<const std::size_t> idx(order.data() + first, rows);
      std::span<float> xb(x.data(), rows * data.features);
      data.gather(idx, xb);
      for (std::size_t r = 0; r < rows; ++r) labels[r] = data.labels[idx[r]];
      const std::span<const std::int32_t> lb(labels.data(), rows);

      const auto logits = model.forward(xb, rows, Mode::train, layer_rng);
      std::span<float> dz(dlogits.data(), rows * classes);
      const double loss = loss_fn(dz, logits, lb);
      if (!std::isfinite(loss))
        throw std::runtime_error(fmt::format("epoch {}, step {}: the loss is {}; training stopped", epoch, step + 1, loss));
      correct += count_correct(logits, lb, classes);
      model.backward(dz);
      lr = config.schedule == "cosine"
               ? config.optimizer.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * double(step) / double(total_steps)))
               : config.optimizer.lr;
      optimizer.step(lr);
      ++step;
      loss_sum += loss * double(rows);
      seen += rows;
      if (callbacks.on_batch) callbacks.on_batch(b + 1, batches, loss_sum / double(seen));
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stats.train_loss = loss_sum / double(seen);
    stats.train_accuracy = double(correct) / double(seen);
    stats.lr = lr;
    stats.test = evaluate(model, split.test, config.loss);
    history.push_back(stats);
    if (callbacks.on_epoch) callbacks.on_epoch(stats);
  }
  return history;
}

}  // namespace actlab
