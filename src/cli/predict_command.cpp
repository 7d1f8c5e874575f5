// actlab predict: run a saved model on an .npy array of already-scaled inputs.
#include "actlab/fold.hpp"
#include "actlab/model_io.hpp"
#include "actlab/npy.hpp"
#include "cli/commands.hpp"

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
  const std::size_t classes = model.out_features();
  std::vector<float> y(rows * classes);
  Rng unused_rng(0);
  constexpr std::size_t chunk = 1024;  // bounds the activation buffers for large inputs
  for (std::size_t start = 0; start < rows; start += chunk) {
    const std::size_t n = std::min(chunk, rows - start);
    const auto out = model.forward(std::span(x.data).subspan(start * features, n * features), n, Mode::eval, unused_rng);
    std::copy(out.begin(), out.end(), y.begin() + std::ptrdiff_t(start * classes));
  }
  const std::vector<std::size_t> shape = single ? std::vector<std::size_t>{classes}
                                                : std::vector<std::size_t>{rows, classes};
  write_npy(o.output, y, shape);
  fmt::print("wrote {} ({} x {})\n", o.output, rows, classes);
  return 0;
}

}  // namespace actlab::cli
