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

// Builds one layer for an input of `width` features. `where` prefixes error messages
// (e.g. "layer 3"). Throws std::invalid_argument for an unknown type, key or bad value.
Layer make_layer(const std::string& type, const std::vector<LayerArg>& args, std::size_t width,
                 const std::string& where);

// The arguments that rebuild `layer` (all of them, defaults included; in_features left out).
std::vector<LayerArg> layer_args(const Layer& layer);

}  // namespace actlab
