// Shared by the SPEC grammar and the JSON config: a layer as a type name plus key=value arguments.
#pragma once

#include "actlab/layers.hpp"

#include <string>
#include <utility>
#include <vector>

namespace actlab {

struct LayerArg {
  std::string key;    // empty for a positional argument (linear's out_features)
  std::string value;  // as written: a number or a word
  bool is_word = false;
};

// The most values a model built from a SPEC or config.json may store (its state_dict: weights,
// biases, BatchNorm statistics, PReLU slopes): 2^27, 512 MiB of float32 (about as much again for the
// gradients). Bad input must not allocate without bound; this is checked before allocating a layer.
inline constexpr std::size_t max_model_parameters = std::size_t(1) << 27;

// Builds one layer for an input of `width` features. `where` prefixes error messages
// (e.g. "layer 3"). Throws std::invalid_argument for an unknown type, key or bad value.
// `parameters`, when given, holds the parameters of the layers before this one; this layer's are
// added, and a total above max_model_parameters throws before anything is allocated.
Layer make_layer(const std::string& type, const std::vector<LayerArg>& args, std::size_t width,
                 const std::string& where, std::size_t* parameters = nullptr);

// The arguments that rebuild `layer` (all of them, defaults included; in_features left out).
std::vector<LayerArg> layer_args(const Layer& layer);

}  // namespace actlab
