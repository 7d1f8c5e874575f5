// actlab eval: loss and accuracy of a saved model on a data set's test split.
#include "actlab/model_io.hpp"
#include "actlab/trainer.hpp"
#include "cli/commands.hpp"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>
#include <nlohmann/json.hpp>

namespace actlab::cli {

int run_eval(const EvalOptions& o) {
  set_threads(o.threads);
  ModelFile file = load_model(o.model_dir);
  const DataSplit data = load_data(o.data, 0);
  const EvalResult r = evaluate(file.model, data.test);
  if (!std::isfinite(r.loss))  // finite data can overflow inside the model
    throw std::runtime_error(fmt::format("{}: the loss on {} is {}: the values overflow float in the model",
                                         o.model_dir, data.name, r.loss));
  fmt::print("{} on {} test ({} rows): loss {:.4f}, accuracy {:.2f}%\n", o.model_dir, data.name, r.rows, r.loss,
             100 * r.accuracy);
  if (o.json)
    fmt::print("{}\n", nlohmann::ordered_json{{"test_loss", r.loss}, {"test_accuracy", r.accuracy},
                                              {"rows", r.rows}, {"model_dir", o.model_dir}, {"data", data.name}}
                           .dump());
  return 0;
}

}  // namespace actlab::cli
