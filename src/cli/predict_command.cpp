// actlab predict: run a saved model on an .npy array of already-scaled inputs.
#include "actlab/fold.hpp"
#include "actlab/model_io.hpp"
#include "actlab/npy.hpp"
#include "cli/commands.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace actlab::cli {

int run_predict(const PredictOptions& o) {
  set_threads(o.threads);
  // BatchNorm folded into the Linear before it: the same outputs, one pass less per BatchNorm.
  Sequential model = fold_batchnorm(load_model(o.model_dir).model);
  const NpyArray x = read_npy(o.input);
  const std::size_t features = model.in_features();
  // [N, features], or one sample given as [features].
  const bool single = x.shape.size() == 1;
  if (!((x.shape.size() == 2 && x.shape[1] == features) || (single && x.shape[0] == features)))
    throw std::runtime_error(fmt::format("{}: shape [{}] does not fit the model, which takes [N, {}]", o.input,
                                         fmt::join(x.shape, ", "), features));
  const std::size_t rows = single ? 1 : x.shape[0];
  // A NaN or inf input gives NaN outputs that look like results; refuse it as the data readers do,
  // naming where it is (numpy's 0-based indices).
  const auto bad = std::find_if(x.data.begin(), x.data.end(), [](float v) { return !std::isfinite(v); });
  if (bad != x.data.end()) {
    const std::size_t i = std::size_t(bad - x.data.begin());
    throw std::runtime_error(fmt::format("{}: row {}, column {} is {}; predict needs finite inputs", o.input,
                                         i / features, i % features, *bad));
  }
  const std::size_t classes = model.out_features();
  const auto start_time = std::chrono::steady_clock::now();
  const std::vector<float> y = predict(model, x.data, rows);
  const double forward_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_time).count();
  // Finite inputs can still overflow inside the model (3e38 times a weight): refuse to write NaN or
  // inf outputs that look like results.
  if (const auto out = std::find_if(y.begin(), y.end(), [](float v) { return !std::isfinite(v); }); out != y.end())
    throw std::runtime_error(fmt::format("{}: row {} gives a non-finite output ({}): the values overflow float in "
                                         "the model; nothing written",
                                         o.input, std::size_t(out - y.begin()) / classes, *out));
  const std::vector<std::size_t> shape = single ? std::vector<std::size_t>{classes}
                                                : std::vector<std::size_t>{rows, classes};
  write_npy(o.output, y, shape);
  // The forward time alone (no start-up, file reading or writing): what bench/peer_predict.py compares.
  fmt::print("wrote {} ({} x {}); forward pass {:.3f} ms\n", o.output, rows, classes, forward_ms);
  return 0;
}

}  // namespace actlab::cli
