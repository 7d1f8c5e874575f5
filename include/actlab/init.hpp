// Initialization tied to the activation that follows each Linear layer.
#pragma once

#include "actlab/model.hpp"
#include "actlab/random.hpp"

namespace actlab {

// For every Linear layer, finds the first activation (or PReLU) after it, skipping BatchNorm1d and
// Dropout, and draws its weight from that activation's scheme with the table's gain:
//   kaiming: U(-b, b), b = gain * sqrt(3 / in_features)             (He et al. 2015, fan-in)
//   xavier:  U(-b, b), b = gain * sqrt(6 / (in_features + out_features))  (Glorot & Bengio 2010)
// A Linear with no activation after it (the logits) uses xavier with gain 1. Biases start at 0.
// BatchNorm starts at gamma 1, beta 0; PReLU keeps its init slope.
void initialize_parameters(Sequential& model, Rng& rng);

}  // namespace actlab
