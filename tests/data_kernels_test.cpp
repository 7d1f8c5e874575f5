// The byte-to-float conversion of Dataset::gather and the diagnostics' per-unit statistics: vector
// versions against the reference loops, bit for bit, on widths that leave a partial vector.
#include "kernels/convert_kernels.hpp"
#include "kernels/linear_kernels.hpp"
#include "kernels/loss_kernels.hpp"
#include "kernels/unit_stats_kernels.hpp"

#include "actlab/random.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <vector>

namespace actlab {
namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST(ScaleBytes, EveryByteValueGivesTheReferenceBits) {
  for (const std::size_t n : {0, 1, 15, 16, 17, 256, 784, 1000}) {
    std::vector<std::uint8_t> in(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = std::uint8_t(i * 37 + 11);
    for (const auto& [scale, shift] : {std::pair{1.0f / 255.0f, 0.0f}, std::pair{0.0078125f, -0.4242f}}) {
      std::vector<float> ref(n), vec(n, -1.0f);
      reference_scale_bytes(ref.data(), in.data(), n, scale, shift);
      vector_scale_bytes(vec.data(), in.data(), n, scale, shift);
      EXPECT_TRUE(same_bits(ref, vec)) << n;
    }
  }
  // The mapping itself: 255 / 255 is exactly 1 only without a fused multiply-add, and 0 maps to shift.
  std::vector<std::uint8_t> ends{0, 255};
  std::vector<float> out(2);
  vector_scale_bytes(out.data(), ends.data(), 2, 1.0f / 255.0f, 0.0f);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 255.0f * (1.0f / 255.0f));
}

struct Stats {
  std::vector<float> max_input, max_derivative;
  std::vector<std::uint32_t> saturated;
  explicit Stats(std::size_t units)
      : max_input(units, -INFINITY), max_derivative(units, 0.0f), saturated(units, 0) {}
  UnitStatsRefs refs(float threshold) {
    return {max_input.data(), max_derivative.data(), saturated.data(), max_input.size(), threshold};
  }
  bool operator==(const Stats& o) const {
    return same_bits(max_input, o.max_input) && same_bits(max_derivative, o.max_derivative) &&
           saturated == o.saturated;
  }
};

// Inputs with NaN, infinities and exact ties, and derivatives of both signs around the threshold.
std::vector<float> awkward_values(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = rng.uniform();
    v[i] = u < 0.05   ? std::numeric_limits<float>::quiet_NaN()
           : u < 0.08 ? INFINITY
           : u < 0.11 ? -INFINITY
           : u < 0.2  ? 1e-3f
                      : float(rng.normal());
  }
  return v;
}

TEST(UnitStats, VectorMatchesTheReferenceOverSeveralBatches) {
  constexpr float threshold = 1e-3f;
  for (const std::size_t units : {1, 7, 16, 33, 256}) {
    Stats ref(units), vec(units), prelu_ref(units), prelu_vec(units);
    std::vector<float> abs_slope(units);
    for (std::size_t u = 0; u < units; ++u) abs_slope[u] = u % 3 == 0 ? 0.0f : 0.25f;
    for (std::uint64_t batch = 0; batch < 3; ++batch) {
      const std::size_t rows = 5 + batch;
      const auto x = awkward_values(rows * units, 100 + batch), der = awkward_values(rows * units, 200 + batch);
      reference_unit_stats(ref.refs(threshold), x.data(), der.data(), rows);
      vector_unit_stats(vec.refs(threshold), x.data(), der.data(), rows);
      reference_prelu_unit_stats(prelu_ref.refs(threshold), x.data(), abs_slope.data(), rows);
      vector_prelu_unit_stats(prelu_vec.refs(threshold), x.data(), abs_slope.data(), rows);
    }
    EXPECT_TRUE(ref == vec) << units;
    EXPECT_TRUE(prelu_ref == prelu_vec) << units;
  }
}

TEST(UnitStats, CountsAndMaximaByHand) {
  // Two rows of three units: unit 0 saturated twice, unit 1 never, unit 2 once (the NaN is not counted).
  const std::vector<float> x{-1.0f, 2.0f, std::nanf(""), 3.0f, -5.0f, 0.5f};
  const std::vector<float> der{0.0f, -0.5f, std::nanf(""), 1e-4f, 2.0f, -1e-5f};
  Stats s(3);
  vector_unit_stats(s.refs(1e-3f), x.data(), der.data(), 2);
  EXPECT_EQ(s.saturated, (std::vector<std::uint32_t>{2, 0, 1}));
  EXPECT_EQ(s.max_input, (std::vector<float>{3.0f, 2.0f, 0.5f}));
  EXPECT_EQ(s.max_derivative, (std::vector<float>{1e-4f, 2.0f, 1e-5f}));
}

TEST(Moments, VectorAgreesWithTheReferenceAndWithHandSums) {
  const std::vector<float> small{1.0f, -2.0f, 3.0f};
  const Moments m = vector_moments(small.data(), small.size());
  EXPECT_EQ(m.sum, 2.0);
  EXPECT_EQ(m.sum_squares, 14.0);
  for (const std::size_t n : {0, 1, 7, 16, 17, 1000, 32768 + 5}) {
    std::vector<float> v(n);
    Rng rng(n);
    for (float& x : v) x = float(rng.normal() * 3.0 + 1.0);
    const Moments ref = reference_moments(v.data(), n), vec = vector_moments(v.data(), n);
    EXPECT_NEAR(vec.sum, ref.sum, 1e-12 * (1.0 + ref.sum_squares)) << n;
    EXPECT_NEAR(vec.sum_squares, ref.sum_squares, 1e-12 * (1.0 + ref.sum_squares)) << n;
  }
}

// Softmax cross-entropy: the vector kernel against the reference loop, for class counts that fill
// part of a vector, exactly one, and several; logits up to +-80 apart (exponentials down to e^-160).
TEST(SoftmaxCrossEntropy, VectorAgreesWithTheReference) {
  for (const std::size_t classes : {1, 3, 10, 16, 17, 40}) {
    const std::size_t rows = 37;
    Rng rng(classes);
    std::vector<float> z(rows * classes);
    std::vector<std::int32_t> labels(rows);
    for (std::size_t i = 0; i < z.size(); ++i) z[i] = float(rng.normal() * (i % 5 == 0 ? 40.0 : 2.0));
    for (auto& l : labels) l = std::int32_t(rng.below(classes));
    std::vector<float> ref(z.size()), vec(z.size());
    const double ref_loss = reference_softmax_cross_entropy(ref.data(), z.data(), labels.data(), rows, classes);
    const double vec_loss = vector_softmax_cross_entropy(vec.data(), z.data(), labels.data(), rows, classes);
    EXPECT_NEAR(vec_loss, ref_loss, 1e-6 * (1.0 + ref_loss)) << classes;
    for (std::size_t i = 0; i < z.size(); ++i) ASSERT_NEAR(vec[i], ref[i], 1e-8f + 1e-6f * std::fabs(ref[i])) << i;
    // Without a gradient, the same loss.
    EXPECT_EQ(vector_softmax_cross_entropy(nullptr, z.data(), labels.data(), rows, classes), vec_loss);
  }
}

TEST(SoftmaxCrossEntropy, NonFiniteLogitsGiveANonFiniteLoss) {
  const std::vector<std::int32_t> labels{1};
  for (const float bad : {std::nanf(""), INFINITY}) {
    const std::vector<float> z{0.5f, bad, -1.0f};
    std::vector<float> dz(3);
    EXPECT_FALSE(std::isfinite(vector_softmax_cross_entropy(dz.data(), z.data(), labels.data(), 1, 3)));
    EXPECT_FALSE(std::isfinite(reference_softmax_cross_entropy(dz.data(), z.data(), labels.data(), 1, 3)));
  }
}

TEST(ColumnSums, VectorGivesTheReferenceBits) {
  for (const std::size_t cols : {1, 5, 16, 63, 64, 65, 256}) {
    const std::size_t rows = 129;
    Rng rng(cols);
    std::vector<float> in(rows * cols);
    for (float& v : in) v = float(rng.normal() * 1e3);
    std::vector<float> ref(cols), vec(cols, -1.0f);
    reference_column_sums(ref.data(), in.data(), rows, cols);
    vector_column_sums(vec.data(), in.data(), rows, cols);
    EXPECT_TRUE(same_bits(ref, vec)) << cols;
  }
  const std::vector<float> two_rows{1.0f, 2.0f, 3.0f, 10.0f, 20.0f, 30.0f};
  std::vector<float> sums(3);
  vector_column_sums(sums.data(), two_rows.data(), 2, 3);
  EXPECT_EQ(sums, (std::vector<float>{11.0f, 22.0f, 33.0f}));
}

}  // namespace
}  // namespace actlab
