// actlab eval: loss and accuracy of a saved model on a data set's test split.
#include "actlab/model_io.hpp"
#include "actlab/trainer.hpp"
#include "cli/commands.hpp"

#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <stdexcept>
#include <nlohmann/json.hpp>

namespace actlab::cli {

int run_eval(const EvalOptions& o) {
  set_threads(o.threads);
  ModelFile file = load_model(o.model_dir);
  // The data and split of the run that trained the model (run.json), unless told otherwise: with
  // another seed, csv and npy data split into other test rows and the synthetic sets are other
  // points, so the model would be scored partly on rows it trained on. Folders without one (saved
  // by earlier versions) get fashion-mnist and seed 0.
  const RunRecord trained = read_run_record(o.model_dir).value_or(RunRecord{"fashion-mnist", 0});
  const std::uint64_t seed = o.seed.value_or(trained.data_seed);
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
