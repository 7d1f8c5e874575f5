// Checkpoints: one safetensors file holding the model ("model." + state_dict names), the optimizer's
// buffers ("optimizer." + PyTorch's names) and, in its metadata, the model config, the train config
// and the position in the run with the random generators' states, so that a resumed run continues
// with exactly the numbers an uninterrupted one would have produced.
#include "actlab/model_io.hpp"
#include "train/train_state.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace actlab {
namespace {

using nlohmann::ordered_json;

constexpr const char* checkpoint_format = "actlab-checkpoint-1";

ordered_json config_to_json(const TrainConfig& c) {
  const OptimizerConfig& o = c.optimizer;
  return {{"epochs", c.epochs}, {"batch", c.batch}, {"schedule", c.schedule}, {"loss", c.loss}, {"seed", c.seed},
          {"optimizer", {{"kind", o.kind}, {"lr", o.lr}, {"momentum", o.momentum}, {"nesterov", o.nesterov},
                         {"weight_decay", o.weight_decay}, {"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}}}};
}

// An integer that fits T: get<T>() would cast -1 or 2.5 silently (and 1e300 to an int is undefined).
template <class T>
T integer(const ordered_json& j) {
  if (j.is_number_unsigned() && std::in_range<T>(j.get<std::uint64_t>())) return T(j.get<std::uint64_t>());
  if (j.is_number_integer() && !j.is_number_unsigned() && std::in_range<T>(j.get<std::int64_t>()))
    return T(j.get<std::int64_t>());
  throw std::out_of_range(fmt::format("expected an integer in [{}, {}], got {}", std::numeric_limits<T>::min(),
                                      std::numeric_limits<T>::max(), j.is_number() ? j.dump() : j.type_name()));
}

// A metadata record parsed as JSON and read by `from_json`. Whatever is wrong (missing, not JSON, a
// wrong type or range) becomes one line naming the checkpoint and the record, as config.json errors
// name their file (model_file.cpp); a bare nlohmann::json exception would name neither.
template <class F>
auto read_record(const std::string& path, const std::map<std::string, std::string>& metadata, const char* key,
                 F from_json) {
  try {
    const auto it = metadata.find(key);
    if (it == metadata.end()) throw std::runtime_error("missing");
    return from_json(ordered_json::parse(it->second));
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: unreadable {} record ({})", path, key, e.what()));
  }
}

TrainConfig config_from_json(const ordered_json& j) {
  TrainConfig c;
  c.epochs = integer<int>(j.at("epochs"));
  c.batch = integer<std::size_t>(j.at("batch"));
  c.schedule = j.at("schedule").get<std::string>();
  c.loss = j.at("loss").get<std::string>();
  c.seed = integer<std::uint64_t>(j.at("seed"));
  const auto& o = j.at("optimizer");
  c.optimizer = {o.at("kind").get<std::string>(), o.at("lr").get<double>(), o.at("momentum").get<double>(),
                 o.at("nesterov").get<bool>(), o.at("weight_decay").get<double>(), o.at("beta1").get<double>(),
                 o.at("beta2").get<double>(), o.at("eps").get<double>()};
  return c;
}

ordered_json rng_json(const std::uint64_t* s) { return {s[0], s[1], s[2], s[3]}; }

std::array<std::uint64_t, 4> rng_from_json(const ordered_json& j) {
  std::array<std::uint64_t, 4> s{};
  for (std::size_t i = 0; i < 4; ++i) s[i] = integer<std::uint64_t>(j.at(i));
  return s;
}

struct RawCheckpoint {
  TensorMap tensors;
  std::map<std::string, std::string> metadata;
  ordered_json progress;
};

RawCheckpoint read_raw(const std::string& path) {
  RawCheckpoint raw;
  raw.tensors = read_safetensors(path, &raw.metadata);
  if (raw.metadata["format"] != checkpoint_format)
    throw std::runtime_error(fmt::format("{}: not an actlab checkpoint (format '{}')", path, raw.metadata["format"]));
  raw.progress = read_record(path, raw.metadata, "progress", [](ordered_json j) { return j; });
  return raw;
}

}  // namespace

void Trainer::save_checkpoint(const std::string& path, const std::map<std::string, std::string>& extra) const {
  const State& s = *state_;
  TensorMap tensors = model_tensors(s.model, "model.");
  for (auto& [name, buffer] : const_cast<Optimizer&>(s.optimizer).state_buffers()) {
    NamedTensor t;
    t.shape = {buffer->size()};
    t.f32 = *buffer;
    tensors.emplace("optimizer." + name, std::move(t));
  }
  ordered_json history = ordered_json::array();
  for (const EpochStats& e : s.history)
    history.push_back({e.epoch, e.train_loss, e.train_accuracy, e.test.loss, e.test.accuracy, e.test.rows,
                       e.seconds, e.lr, e.matmul_seconds});
  const ordered_json progress{
      {"epoch", s.epoch},           {"batch_in_epoch", s.batch_in_epoch},
      {"step", s.step},             {"optimizer_steps", s.optimizer.steps()},
      {"epoch_start_rng", rng_json(s.epoch_start_rng.data())}, {"layer_rng", rng_json(s.layer_rng.state())},
      {"loss_sum", s.loss_sum},     {"seconds", s.seconds},        {"matmul_seconds", s.matmul_seconds},
      {"lr", s.lr},                 {"seen", s.seen},
      {"correct", s.correct},       {"history", history}};
  std::map<std::string, std::string> metadata = extra;
  metadata["format"] = checkpoint_format;
  metadata["model_config"] = model_config_json(s.model, s.split.train.scaling);
  metadata["train_config"] = config_to_json(s.config).dump();
  metadata["progress"] = progress.dump();
  write_safetensors(path, tensors, metadata);
}

void Trainer::restore(const std::string& path) {
  State& s = *state_;
  RawCheckpoint raw = read_raw(path);
  const auto fail = [&](const std::string& what) { throw std::runtime_error(fmt::format("{}: {}", path, what)); };
  if (config_to_json(read_record(path, raw.metadata, "train_config", config_from_json)) != config_to_json(s.config))
    fail("its train config differs from this run's");
  set_model_tensors(s.model, raw.tensors, path, "model.");
  for (auto& [name, buffer] : s.optimizer.state_buffers()) {
    auto it = raw.tensors.find("optimizer." + name);
    if (it == raw.tensors.end() || it->second.f32.size() != buffer->size())
      fail(fmt::format("missing or mis-sized optimizer tensor '{}'", name));
    std::copy(it->second.f32.begin(), it->second.f32.end(), buffer->begin());
  }
  const ordered_json& p = raw.progress;
  try {
    s.epoch = integer<int>(p.at("epoch"));
    s.batch_in_epoch = integer<std::size_t>(p.at("batch_in_epoch"));
    s.step = integer<std::size_t>(p.at("step"));
    s.optimizer.set_steps(integer<long long>(p.at("optimizer_steps")));
    s.loss_sum = p.at("loss_sum").get<double>();
    s.seconds = p.at("seconds").get<double>();
    s.matmul_seconds = p.value("matmul_seconds", 0.0);  // absent in checkpoints of 0.1.0
    s.lr = p.at("lr").get<double>();
    s.seen = integer<std::size_t>(p.at("seen"));
    s.correct = integer<std::size_t>(p.at("correct"));
    s.history.clear();
    for (const auto& e : p.at("history")) {
      EpochStats st;
      st.epoch = integer<int>(e.at(0));
      st.train_loss = e.at(1).get<double>();
      st.train_accuracy = e.at(2).get<double>();
      st.test = {e.at(3).get<double>(), e.at(4).get<double>(), integer<std::size_t>(e.at(5))};
      st.seconds = e.at(6).get<double>();
      st.lr = e.at(7).get<double>();
      st.matmul_seconds = e.size() > 8 ? e.at(8).get<double>() : 0.0;  // absent in checkpoints of 0.1.0
      s.history.push_back(st);
    }
    const auto start = rng_from_json(p.at("epoch_start_rng")), layer = rng_from_json(p.at("layer_rng"));
    s.layer_rng.set_state(layer.data());
    s.shuffle_rng.set_state(start.data());
  } catch (const std::exception& e) {  // nlohmann's type errors and integer()'s range errors
    fail(fmt::format("unreadable progress record ({})", e.what()));
  }
  // Epochs count from 1 and each finished one has its history entry; epoch = epochs + 1 is a run
  // that has finished (nothing left to train).
  if (s.epoch < 1 || s.epoch - 1 > s.config.epochs || s.batch_in_epoch > s.batches ||
      s.history.size() != std::size_t(s.epoch - 1))
    fail("progress record out of range");
  // Mid-epoch: draw the epoch's order again from its starting state; at an epoch boundary run()
  // draws it, from the same state.
  if (s.batch_in_epoch > 0) s.shuffle();
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  RawCheckpoint raw = read_raw(path);
  CheckpointInfo info;
  // The model config's text is checked where it is used: model_from_config_json(text, path).
  const auto model_config = raw.metadata.find("model_config");
  if (model_config == raw.metadata.end()) throw std::runtime_error(fmt::format("{}: no model_config record", path));
  info.model_config_json = model_config->second;
  info.config = read_record(path, raw.metadata, "train_config", config_from_json);
  for (const auto& [key, value] : raw.metadata)
    if (key != "format" && key != "model_config" && key != "train_config" && key != "progress")
      info.extra[key] = value;
  return info;
}

}  // namespace actlab
