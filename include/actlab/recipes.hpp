// Named architectures ("recipes") for a fully connected classifier.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace actlab {

// "seed", "seed_linear_output" and one recipe per table activation (relu, elu, gelu, ...).
std::vector<std::string> recipe_names();

// The model SPEC of a recipe for the given hidden widths and class count.
//   seed:  Linear, BatchNorm, Leaky ReLU; then per further hidden layer Linear, BatchNorm, PReLU;
//          then Linear to the classes and ELU (the write-up's choice; unusual before a softmax).
//   seed_linear_output: the same without that last ELU.
//   NAME:  per hidden layer Linear, BatchNorm, NAME; then Linear to the classes.
// batchnorm = false leaves the BatchNorm layers out. Throws std::invalid_argument for an unknown name.
std::string recipe_spec(std::string_view name, std::span<const std::size_t> hidden, bool batchnorm,
                        std::size_t classes);

}  // namespace actlab
