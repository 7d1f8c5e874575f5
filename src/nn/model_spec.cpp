// The model SPEC grammar: "type(key=value,...),type,..." (see model_io.hpp).
#include "actlab/model_io.hpp"
#include "nn/layer_args.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>

namespace actlab {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits at commas outside parentheses; throws on unbalanced parentheses.
std::vector<std::string_view> split_layers(std::string_view spec) {
  std::vector<std::string_view> items;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= spec.size(); ++i) {
    const char c = i < spec.size() ? spec[i] : ',';
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) throw std::invalid_argument(fmt::format("model spec: unmatched ')' at {}", i));
    if (c == ',' && depth == 0) {
      items.push_back(trim(spec.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (depth != 0) throw std::invalid_argument("model spec: unmatched '('");
  return items;
}

}  // namespace

Sequential parse_model_spec(std::string_view spec, std::size_t in_features) {
  std::vector<Layer> layers;
  std::size_t width = in_features, parameters = 0;
  const auto items = split_layers(spec);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string where = fmt::format("model spec, layer {} '{}'", i, items[i]);
    std::string_view item = items[i];
    if (item.empty()) throw std::invalid_argument(fmt::format("{}: empty layer", where));
    std::vector<LayerArg> args;
    std::string_view type = item;
    if (const std::size_t open = item.find('('); open != std::string_view::npos) {
      if (item.back() != ')') throw std::invalid_argument(fmt::format("{}: text after ')'", where));
      type = trim(item.substr(0, open));
      std::string_view inside = item.substr(open + 1, item.size() - open - 2);
      if (!trim(inside).empty())
        for (std::string_view a : split_layers(inside)) {
          if (a.empty()) throw std::invalid_argument(fmt::format("{}: empty argument", where));
          const std::size_t eq = a.find('=');
          if (eq == std::string_view::npos) {
            args.push_back({"", std::string(a)});
            continue;
          }
          const std::string_view key = trim(a.substr(0, eq));
          // "=3" would otherwise pass as the positional value 3.
          if (key.empty()) throw std::invalid_argument(fmt::format("{}: '{}' has no name before '='", where, a));
          args.push_back({std::string(key), std::string(trim(a.substr(eq + 1)))});
        }
    }
    layers.push_back(make_layer(std::string(type), args, width, where, &parameters));
    width = std::visit([&](const auto& l) { return l.output_width(width); }, layers.back());
  }
  return Sequential(in_features, std::move(layers));
}

std::string to_model_spec(const Sequential& model) {
  std::string out;
  const auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = layers[i];
    const std::string type = layer_type(layer);
    if (!out.empty()) out += ',';
    out += type;
    if (const auto* lin = std::get_if<Linear>(&layer)) {
      out += fmt::format("({})", lin->out_features);
      continue;
    }
    // Only the arguments that differ from the type's defaults.
    const std::size_t width = model.widths()[i];
    const std::vector<LayerArg> defaults = layer_args(make_layer(type, {}, width, type));
    std::string args;
    for (const LayerArg& a : layer_args(layer)) {
      const bool is_default = std::any_of(defaults.begin(), defaults.end(), [&](const LayerArg& d) {
        return d.key == a.key && d.value == a.value;
      });
      if (!is_default) args += fmt::format("{}{}={}", args.empty() ? "" : ",", a.key, a.value);
    }
    if (!args.empty()) out += fmt::format("({})", args);
  }
  return out;
}

}  // namespace actlab
