// actlab list: the activation table as text or JSON (the docs table is generated from the JSON).
#include "actlab/activation.hpp"
#include "cli/commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace actlab::cli {
namespace {

std::string params_text(const ActivationInfo& info) {
  std::string out;
  for (const ParamInfo& p : info.params) {
    if (!out.empty()) out += ", ";
    out += p.choices.empty() ? fmt::format("{}={}", p.name, p.default_value)
                             : fmt::format("{}={} ({})", p.name, p.choices[std::size_t(p.default_value)],
                                           fmt::join(p.choices, "|"));
  }
  return out.empty() ? "-" : out;
}

}  // namespace

int run_list(const ListOptions& o) {
  if (o.json) {
    auto all = nlohmann::ordered_json::array();
    for (const ActivationInfo& info : activation_table()) {
      const Activation act = make_activation(info.name);
      auto params = nlohmann::ordered_json::array();
      for (const ParamInfo& p : info.params) {
        nlohmann::ordered_json j{{"name", p.name}, {"default", p.default_value}};
        if (!p.choices.empty()) j["choices"] = p.choices;
        else j["range"] = {p.min, p.max};
        params.push_back(j);
      }
      all.push_back({{"name", info.name}, {"params", params}, {"formula", info.formula},
                     {"derivative", info.derivative}, {"kinks", info.kinks}, {"learnable", info.learnable},
                     {"init", info.init == InitScheme::kaiming ? "kaiming" : "xavier"},
                     {"gain", activation_gain(act)}, {"gain_source", info.gain_source}});
    }
    fmt::print("{}\n", all.dump(2));
    return 0;
  }
  for (const ActivationInfo& info : activation_table()) {
    const Activation act = make_activation(info.name);
    fmt::print("{}\n  parameters: {}\n  f(x):  {}\n  f'(x): {}\n  init:  {} gain {:.4f} ({})\n\n", info.name,
               params_text(info), info.formula, info.derivative,
               info.init == InitScheme::kaiming ? "kaiming" : "xavier", activation_gain(act), info.gain_source);
  }
  return 0;
}

}  // namespace actlab::cli
