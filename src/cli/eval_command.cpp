// actlab eval: loss and accuracy of a saved model on a data set's test split.
#include "actlab/file_io.hpp"
#include "actlab/model_io.hpp"
#include "actlab/trainer.hpp"
#include "cli/commands.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fmt/format.h>
#include <stdexcept>
#include <nlohmann/json.hpp>

namespace actlab::cli {

namespace {

// The data source and seed of the run that trained the model, from its run.json (written by actlab
// train): with another seed, csv and npy data split into other test rows, and the synthetic sets
// are other points, so a model would be scored partly on rows it trained on.
struct TrainedOn {
  std::string data = "fashion-mnist";
  std::uint64_t seed = 0;
};

TrainedOn trained_on(const std::string& model_dir) {
  TrainedOn t;
  const std::string path = model_dir + "/run.json";
  if (!std::filesystem::exists(path)) return t;  // models saved by actlab compare or by earlier versions
  const auto bytes = read_file(path, 1 << 20);
  try {
    const auto j = nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                                         reinterpret_cast<const char*>(bytes.data()) + bytes.size());
    t.data = j.at("data").get<std::string>();
    t.seed = j.at("seed").get<std::uint64_t>();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: unreadable run record ({})", path, e.what()));
  }
  return t;
}

}  // namespace

int run_eval(const EvalOptions& o) {
  set_threads(o.threads);
  ModelFile file = load_model(o.model_dir);
  const TrainedOn trained = trained_on(o.model_dir);
  const std::uint64_t seed = o.seed.value_or(trained.seed);
  const DataSplit data = load_data(o.data.empty() ? trained.data : o.data, seed);
  const EvalResult r = evaluate(file.model, data.test);
  if (!std::isfinite(r.loss))  // finite data can overflow inside the model
    throw std::runtime_error(fmt::format("{}: the loss on {} is {}: the values overflow float in the model",
                                         o.model_dir, data.name, r.loss));
  fmt::print("{} on {} test ({} rows, seed {}): loss {:.4f}, accuracy {:.2f}%\n", o.model_dir, data.name, r.rows,
             seed, r.loss, 100 * r.accuracy);
  if (o.json)
    fmt::print("{}\n", nlohmann::ordered_json{{"test_loss", r.loss}, {"test_accuracy", r.accuracy},
                                              {"rows", r.rows}, {"model_dir", o.model_dir}, {"data", data.name},
                                              {"seed", seed}}
                           .dump());
  return 0;
}

}  // namespace actlab::cli
