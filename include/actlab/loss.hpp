// Losses. Each returns the mean loss over the batch and ASSIGNS the gradient of that mean to its
// first argument (pass an empty span to compute the loss only). Shapes are [rows, classes] row-major.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace actlab {

// Fused log-softmax + negative log-likelihood (torch.nn.CrossEntropyLoss, mean reduction):
// loss = mean_r(logsumexp(z_r) - z_r[label_r]); dz = (softmax(z) - onehot(label)) / rows.
// Stable for any finite logits (the row maximum is subtracted). Labels must be in [0, classes).
double softmax_cross_entropy(std::span<float> dlogits, std::span<const float> logits,
                             std::span<const std::int32_t> labels, std::size_t classes);

// Mean squared error over all elements (torch.nn.MSELoss): dy = 2 (y - t) / n.
double mse_loss(std::span<float> dy, std::span<const float> y, std::span<const float> target);

// Binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss), mean over all elements:
// loss = max(z, 0) - z t + log1p(exp(-|z|)); dz = (sigmoid(z) - t) / n. Targets in [0, 1].
double bce_with_logits(std::span<float> dlogits, std::span<const float> logits, std::span<const float> target);

// How many rows have their largest logit at the label (ties go to the lowest index). Throws
// std::invalid_argument unless there are labels.size() rows of classes >= 1 logits.
std::size_t count_correct(std::span<const float> logits, std::span<const std::int32_t> labels, std::size_t classes);

}  // namespace actlab
