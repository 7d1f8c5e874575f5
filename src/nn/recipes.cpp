#include "actlab/recipes.hpp"

#include "actlab/activation.hpp"

#include <fmt/format.h>
#include <stdexcept>

namespace actlab {

std::vector<std::string> recipe_names() {
  std::vector<std::string> names{"seed", "seed_linear_output"};
  for (const ActivationInfo& info : activation_table()) names.emplace_back(info.name);
  return names;
}

std::string recipe_spec(std::string_view name, std::span<const std::size_t> hidden, bool batchnorm,
                        std::size_t classes) {
  // seed_linear_output: the seed recipe without the ELU after the last Linear, to measure that choice.
  const bool seed = name == "seed" || name == "seed_linear_output";
  if (!seed && !find_activation(name))
    throw std::invalid_argument(fmt::format("unknown recipe '{}' (known: seed, or an activation from `actlab list`)", name));
  std::string spec;
  for (std::size_t i = 0; i < hidden.size(); ++i) {
    if (hidden[i] == 0) throw std::invalid_argument("hidden widths must be at least 1");
    spec += fmt::format("linear({}),", hidden[i]);
    if (batchnorm) spec += "batchnorm1d,";
    spec += seed ? (i == 0 ? "leaky_relu," : "prelu,") : fmt::format("{},", name);
  }
  spec += fmt::format("linear({})", classes);
  if (name == "seed") spec += ",elu";
  return spec;
}

}  // namespace actlab
