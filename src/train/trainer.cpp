#include "actlab/trainer.hpp"

#include "actlab/loss.hpp"
#include "actlab/model_io.hpp"
#include "kernels/gemm.hpp"
#include "train/train_state.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <numbers>
#include <numeric>
#include <utility>

namespace actlab {
namespace {

void check_fit(const Sequential& model, const Dataset& data, const char* which) {
  if (data.features != model.in_features())
    throw std::invalid_argument(fmt::format("{} data has {} features but the model takes {}", which,
                                            data.features, model.in_features()));
  if (std::size_t(data.num_classes) > model.out_features())
    throw std::invalid_argument(fmt::format("{} data has {} classes but the model outputs {}", which,
                                            data.num_classes, model.out_features()));
  if (data.labels.size() != data.rows)
    throw std::invalid_argument(fmt::format("{} data has {} labels for {} rows", which, data.labels.size(), data.rows));
  // Every loss indexes its targets by label (mse and bce through a one-hot row): a label past the
  // model's outputs would be written or read out of bounds.
  const auto bad = std::find_if(data.labels.begin(), data.labels.end(), [&](std::int32_t l) {
    return l < 0 || std::size_t(l) >= model.out_features();
  });
  if (bad != data.labels.end())
    throw std::invalid_argument(fmt::format("{} data: row {} has label {}, outside the model's {} outputs", which,
                                            bad - data.labels.begin(), *bad, model.out_features()));
}

void check_config(const TrainConfig& config) {
  if (config.epochs < 1) throw std::invalid_argument(fmt::format("epochs={} must be at least 1", config.epochs));
  if (config.batch < 2) throw std::invalid_argument(fmt::format("batch={} must be at least 2", config.batch));
  if (config.schedule != "cosine" && config.schedule != "constant")
    throw std::invalid_argument(fmt::format("schedule '{}' is not one of: cosine, constant", config.schedule));
}

bool all_finite(std::span<const float> values) {
  for (float v : values)
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace

EvalResult evaluate(Sequential& model, const Dataset& data, const std::string& loss, std::size_t batch) {
  if (batch == 0) throw std::invalid_argument("evaluate: batch=0 must be at least 1");
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

Trainer::State::State(Sequential& m, const DataSplit& s, const TrainConfig& c)
    : model(m), split(s), config(c), loss_fn(c.loss, m.out_features()), optimizer(c.optimizer, m.parameters()),
      shuffle_rng(c.seed ^ 0x53485546464C45ull), layer_rng(c.seed ^ 0x4C41594552ull) {
  const Dataset& data = split.train;
  batch = std::min(config.batch, data.rows);
  batches = (data.rows + batch - 1) / batch;
  order.resize(data.rows);
  for (auto& b : batch_buffers) {
    b.x.resize(batch * data.features);
    b.labels.resize(batch);
  }
  dlogits.resize(batch * m.out_features());
}

// The epoch's order depends only on the generator's state at the epoch's start, so that a resumed
// run draws the same order.
void Trainer::State::shuffle() {
  gathered = no_batch;
  shuffled_epoch = epoch;
  for (int i = 0; i < 4; ++i) epoch_start_rng[std::size_t(i)] = shuffle_rng.state()[i];
  std::iota(order.begin(), order.end(), std::size_t(0));
  for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[shuffle_rng.below(i + 1)]);
}

double Trainer::State::learning_rate() const {
  const double total = double(batches) * double(config.epochs);
  return config.schedule == "cosine"
             ? config.optimizer.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * double(step) / total))
             : config.optimizer.lr;
}

std::string Trainer::State::where_non_finite(std::span<const float> input) const {
  if (!all_finite(input)) return "the input batch (the data) holds NaN or inf";
  const auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (!all_finite(model.layer_output(i)))
      return fmt::format("non-finite values first appear in the output of layer {} ({})", i, layer_type(layers[i]));
  return "every layer's output is finite; the loss itself overflowed";
}

std::size_t Trainer::State::batch_rows(std::size_t b) const {
  const std::size_t first = b * batch;
  return std::min(batch, split.train.rows - first);
}

void Trainer::State::gather_batch(std::size_t b) {
  const Dataset& data = split.train;
  const std::size_t first = b * batch, rows = batch_rows(b);
  BatchBuffers& buffers = batch_buffers[b % 2];
  const std::span<const std::size_t> idx(order.data() + first, rows);
  data.gather(idx, std::span(buffers.x.data(), rows * data.features));
  for (std::size_t r = 0; r < rows; ++r) buffers.labels[r] = data.labels[idx[r]];
  // The batch after this one is far apart in main memory: start fetching its rows now, while this
  // one trains, instead of waiting on each when it is gathered.
  if (const std::size_t next = first + rows; next < data.rows)
    data.prefetch(std::span(order.data() + next, batch_rows(b + 1)));
  gathered = b;
}

void Trainer::State::train_batch(std::size_t b, const std::function<void(std::size_t)>& observe) {
  const Dataset& data = split.train;
  const std::size_t rows = batch_rows(b);
  if (rows < 2) return;
  const std::size_t classes = model.out_features();
  if (gathered != b) gather_batch(b);
  BatchBuffers& buffers = batch_buffers[b % 2];
  const std::span<const float> xb(buffers.x.data(), rows * data.features);
  const std::span<const std::int32_t> lb(buffers.labels.data(), rows);

  const auto logits = model.forward(xb, rows, Mode::train, layer_rng);
  std::span<float> dz(dlogits.data(), rows * classes);
  const double loss = loss_fn(dz, logits, lb);
  if (!std::isfinite(loss))
    throw NonFiniteError(fmt::format("epoch {}, step {}: the loss is {}: {}; training stopped", epoch, step + 1,
                                     loss, where_non_finite(xb)));
  correct += count_correct(logits, lb, classes);
  model.backward(dz);
  lr = learning_rate();
  // While the parameters are updated: the step's observer, and the next batch of the epoch
  // gathered into the other buffer (this batch's input stays as it was for the observer).
  std::array<std::function<void()>, 2> alongside;
  std::size_t tasks = 0;
  if (b + 1 < batches && batch_rows(b + 1) >= 2)
    alongside[tasks++] = [this, b] { keep_failure(0, [&] { gather_batch(b + 1); }); };
  if (observe) alongside[tasks++] = [this, &observe] { keep_failure(1, [&] { observe(step + 1); }); };
  if (const ParamRef* bad = optimizer.step(lr, std::span(alongside.data(), tasks)))
    throw NonFiniteError(fmt::format("epoch {}, step {}: the gradient of {} holds NaN or inf; training stopped",
                                     epoch, step + 1, bad->name));
  ++step;
  loss_sum += loss * double(rows);
  seen += rows;
}

void Trainer::State::rethrow_side_failure() {
  for (std::exception_ptr& failure : side_failures)
    if (failure) std::rethrow_exception(std::exchange(failure, nullptr));
}

Trainer::Trainer(Sequential& model, const DataSplit& split, const TrainConfig& config) {
  check_fit(model, split.train, "training");
  check_fit(model, split.test, "test");
  check_config(config);
  if (split.train.rows < 2) throw std::invalid_argument("training data has fewer than 2 rows");
  state_ = std::make_unique<State>(model, split, config);
}

Trainer::~Trainer() = default;

bool Trainer::run(const TrainCallbacks& callbacks) {
  State& s = *state_;
  using clock = std::chrono::steady_clock;
  for (; s.epoch <= s.config.epochs; ++s.epoch) {
    // Once per epoch: a run stopped at an epoch's first batch and run again keeps that epoch's order.
    if (s.batch_in_epoch == 0 && s.shuffled_epoch != s.epoch) s.shuffle();
    const auto start = clock::now();
    const double gemm_start = gemm_seconds();
    while (s.batch_in_epoch < s.batches) {
      if (callbacks.stop_requested && callbacks.stop_requested()) {
        s.seconds += std::chrono::duration<double>(clock::now() - start).count();
        s.matmul_seconds += gemm_seconds() - gemm_start;
        return false;
      }
      s.train_batch(s.batch_in_epoch, callbacks.observe);
      ++s.batch_in_epoch;  // before the callbacks: a checkpoint taken there records the batch as done
      s.rethrow_side_failure();
      if (callbacks.on_step) callbacks.on_step(s.step);  // diagnostics, checkpoints: part of the epoch's time
      if (callbacks.on_batch) callbacks.on_batch(s.batch_in_epoch, s.batches, s.loss_sum / double(s.seen));
    }
    EpochStats stats;
    stats.epoch = s.epoch;
    stats.seconds = s.seconds + std::chrono::duration<double>(clock::now() - start).count();
    stats.matmul_seconds = s.matmul_seconds + (gemm_seconds() - gemm_start);
    stats.train_loss = s.loss_sum / double(s.seen);
    stats.train_accuracy = double(s.correct) / double(s.seen);
    stats.lr = s.lr;
    stats.test = evaluate(s.model, s.split.test, s.config.loss);
    s.history.push_back(stats);
    s.batch_in_epoch = 0;
    s.loss_sum = s.seconds = s.matmul_seconds = 0.0;
    s.seen = s.correct = 0;
    if (callbacks.on_epoch) callbacks.on_epoch(stats);
  }
  return true;
}

const std::vector<EpochStats>& Trainer::history() const { return state_->history; }
std::size_t Trainer::step() const { return state_->step; }
const TrainConfig& Trainer::config() const { return state_->config; }

std::vector<EpochStats> train(Sequential& model, const DataSplit& split, const TrainConfig& config,
                              const TrainCallbacks& callbacks) {
  Trainer trainer(model, split, config);
  trainer.run(callbacks);
  return trainer.history();
}

}  // namespace actlab
