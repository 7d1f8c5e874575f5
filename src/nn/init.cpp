#include "actlab/init.hpp"

#include <cmath>

namespace actlab {
namespace {

// The activation that the Linear at `index` feeds, if any.
const Activation* following_activation(const std::vector<Layer>& layers, std::size_t index,
                                       Activation& prelu_storage) {
  for (std::size_t i = index + 1; i < layers.size(); ++i) {
    if (const auto* a = std::get_if<ActivationLayer>(&layers[i])) return &a->act;
    if (const auto* p = std::get_if<PReLU>(&layers[i])) {
      prelu_storage = make_activation("prelu");
      prelu_storage.params[0] = p->weight.empty() ? 0.25 : p->weight[0];
      return &prelu_storage;
    }
    if (std::holds_alternative<Linear>(layers[i])) return nullptr;
  }
  return nullptr;
}

}  // namespace

void initialize_parameters(Sequential& model, Rng& rng) {
  auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    auto* lin = std::get_if<Linear>(&layers[i]);
    if (!lin) continue;
    Activation prelu_storage;
    const Activation* act = following_activation(layers, i, prelu_storage);
    const double fan_in = double(lin->in_features), fan_out = double(lin->out_features);
    double bound = std::sqrt(6.0 / (fan_in + fan_out));  // xavier, gain 1
    if (act) {
      const double gain = activation_gain(*act);
      bound = act->info->init == InitScheme::kaiming ? gain * std::sqrt(3.0 / fan_in)
                                                     : gain * std::sqrt(6.0 / (fan_in + fan_out));
    }
    for (float& w : lin->weight) w = rng.uniform(float(-bound), float(bound));
    std::fill(lin->bias.begin(), lin->bias.end(), 0.0f);
  }
}

}  // namespace actlab
