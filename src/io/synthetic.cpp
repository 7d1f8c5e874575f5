// Synthetic 2-D (and n-D) classification sets, deterministic for a seed (actlab::Rng, not <random>,
// whose distributions differ between standard libraries).
#include "actlab/dataset.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace actlab {
namespace {

constexpr std::size_t kMaxPoints = std::size_t(1) << 26;  // a guard against a typo such as spirals:1e9

void check_size(std::string_view what, std::size_t points) {
  if (points == 0 || points > kMaxPoints)
    throw std::invalid_argument(fmt::format("{}: {} points is outside [1, {}]", what, points, kMaxPoints));
}

void check_classes(std::string_view what, int classes) {
  if (classes < 1 || classes > 255)
    throw std::invalid_argument(fmt::format("{}: {} classes is outside [1, 255]", what, classes));
}

}  // namespace

// The CS231n spiral: arm k sweeps 4 radians from angle 2πk/classes while its radius grows from 0 to 1;
// the angle gets Gaussian noise of 0.2 radians.
Dataset make_spirals(std::size_t points_per_class, int classes, std::uint64_t seed) {
  check_size("spirals", points_per_class);
  check_classes("spirals", classes);
  if (points_per_class > kMaxPoints / std::size_t(classes))
    throw std::invalid_argument(fmt::format("spirals: {} x {} points is too many", points_per_class, classes));
  Rng rng(seed);
  Dataset ds;
  ds.features = 2;
  ds.num_classes = classes;
  for (int k = 0; k < classes; ++k) {
    for (std::size_t i = 0; i < points_per_class; ++i) {
      const double r = points_per_class > 1 ? double(i) / double(points_per_class - 1) : 0.0;
      const double t = 2.0 * std::numbers::pi * k / classes + 4.0 * r + 0.2 * rng.normal();
      ds.values.push_back(float(r * std::sin(t)));
      ds.values.push_back(float(r * std::cos(t)));
      ds.labels.push_back(k);
    }
  }
  ds.rows = ds.labels.size();
  return ds;
}

// scikit-learn's make_moons: two interleaved half circles, Gaussian noise of `noise` on each coordinate.
Dataset make_moons(std::size_t points, float noise, std::uint64_t seed) {
  check_size("moons", points);
  if (!(noise >= 0.0f && std::isfinite(noise)))
    throw std::invalid_argument(fmt::format("moons: noise {} must be finite and non-negative", noise));
  Rng rng(seed);
  Dataset ds;
  ds.features = 2;
  ds.num_classes = 2;
  const std::size_t outer = points / 2, inner = points - outer;
  for (int k = 0; k < 2; ++k) {
    const std::size_t n = k == 0 ? outer : inner;
    for (std::size_t i = 0; i < n; ++i) {
      const double t = n > 1 ? std::numbers::pi * double(i) / double(n - 1) : 0.0;
      const double x = k == 0 ? std::cos(t) : 1.0 - std::cos(t);
      const double y = k == 0 ? std::sin(t) : 0.5 - std::sin(t);
      ds.values.push_back(float(x + noise * rng.normal()));
      ds.values.push_back(float(y + noise * rng.normal()));
      ds.labels.push_back(k);
    }
  }
  ds.rows = ds.labels.size();
  return ds;
}

// Isotropic Gaussian blobs (standard deviation 1) around centres drawn uniformly from [-10, 10]^features,
// as scikit-learn's make_blobs; points are dealt to the classes in turn.
Dataset make_blobs(std::size_t points, int classes, int features, std::uint64_t seed) {
  check_size("blobs", points);
  check_classes("blobs", classes);
  if (features < 1 || features > 4096)
    throw std::invalid_argument(fmt::format("blobs: {} features is outside [1, 4096]", features));
  if (points > kMaxPoints / std::size_t(features))
    throw std::invalid_argument(fmt::format("blobs: {} x {} values is too many", points, features));
  Rng rng(seed);
  std::vector<float> centres(std::size_t(classes) * std::size_t(features));
  for (float& c : centres) c = rng.uniform(-10.0f, 10.0f);
  Dataset ds;
  ds.features = std::size_t(features);
  ds.num_classes = classes;
  for (std::size_t i = 0; i < points; ++i) {
    const auto k = std::int32_t(i % std::size_t(classes));
    for (int f = 0; f < features; ++f)
      ds.values.push_back(float(centres[std::size_t(k) * std::size_t(features) + std::size_t(f)] + rng.normal()));
    ds.labels.push_back(k);
  }
  ds.rows = points;
  return ds;
}

}  // namespace actlab
