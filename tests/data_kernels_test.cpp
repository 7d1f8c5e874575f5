// The vector kernels behind the batch gather (byte-to-float), the diagnostics (per-unit statistics,
// sums), the loss and the Linear bias gradient, against their reference loops on every instruction
// set this binary carries: bit for bit where both do the same operations in the same order (the
// conversion, the per-unit statistics, the column sums), within float rounding otherwise (the
// moments, the loss); on widths that leave a partial vector and on unaligned starts.
#include "kernels/convert_kernels.hpp"
#include "kernels/linear_kernels.hpp"
#include "kernels/loss_kernels.hpp"
#include "kernels/unit_stats_kernels.hpp"

#include "actlab/random.hpp"
#include "every_target.hpp"

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
  on_every_target([] {
    for (const std::size_t n : {0, 1, 15, 16, 17, 256, 784, 1000}) {
      std::vector<std::uint8_t> in(n + 1);
      for (std::size_t i = 0; i < n + 1; ++i) in[i] = std::uint8_t(i * 37 + 11);
      for (const auto& [scale, shift] : {std::pair{1.0f / 255.0f, 0.0f}, std::pair{0.0078125f, -0.4242f}}) {
        std::vector<float> ref(n + 1), vec(n + 1, -1.0f);
        reference_scale_bytes(ref.data() + 1, in.data() + 1, n, scale, shift);  // unaligned starts
        vector_scale_bytes(vec.data() + 1, in.data() + 1, n, scale, shift);
        ref[0] = -1.0f;
        EXPECT_TRUE(same_bits(ref, vec)) << n;
      }
    }
  });
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
  on_every_target([] {
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
  });
}

TEST(UnitStats, CountsAndMaximaByHand) {
  // Two rows of 19 units (a whole vector and a tail on every target), units 0-2 given by hand, the
  // others a copy of unit 1: unit 0 saturated twice, unit 1 never, unit 2 once (NaN is not counted).
  constexpr std::size_t units = 19;
  const float x0[3] = {-1.0f, 2.0f, std::nanf("")}, x1[3] = {3.0f, -5.0f, 0.5f};
  const float d0[3] = {0.0f, -0.5f, std::nanf("")}, d1[3] = {1e-4f, 2.0f, -1e-5f};
  std::vector<float> x(2 * units), der(2 * units);
  for (std::size_t u = 0; u < units; ++u) {
    const std::size_t k = u < 3 ? u : 1;
    x[u] = x0[k], x[units + u] = x1[k], der[u] = d0[k], der[units + u] = d1[k];
  }
  on_every_target([&] {
    Stats s(units);
    vector_unit_stats(s.refs(1e-3f), x.data(), der.data(), 2);
    const std::uint32_t saturated[3] = {2, 0, 1};
    const float max_input[3] = {3.0f, 2.0f, 0.5f}, max_derivative[3] = {1e-4f, 2.0f, 1e-5f};
    for (std::size_t u = 0; u < units; ++u) {
      const std::size_t k = u < 3 ? u : 1;
      EXPECT_EQ(s.saturated[u], saturated[k]) << u;
      EXPECT_EQ(s.max_input[u], max_input[k]) << u;
      EXPECT_EQ(s.max_derivative[u], max_derivative[k]) << u;
    }
  });
}

TEST(Moments, VectorAgreesWithTheReferenceAndWithHandSums) {
  const std::vector<float> small{1.0f, -2.0f, 3.0f};
  const Moments m = vector_moments(small.data(), small.size());
  EXPECT_EQ(m.sum, 2.0);
  EXPECT_EQ(m.sum_squares, 14.0);
  on_every_target([] {
    for (const std::size_t n : {0, 1, 7, 16, 17, 1000, 32768 + 5}) {
      std::vector<float> v(n + 1);
      Rng rng(n);
      for (float& x : v) x = float(rng.normal() * 3.0 + 1.0);
      const float* start = v.data() + 1;  // unaligned
      const Moments ref = reference_moments(start, n), vec = vector_moments(start, n);
      EXPECT_NEAR(vec.sum, ref.sum, 1e-12 * (1.0 + ref.sum_squares)) << n;
      EXPECT_NEAR(vec.sum_squares, ref.sum_squares, 1e-12 * (1.0 + ref.sum_squares)) << n;
    }
  });
}

// Softmax cross-entropy: the vector kernel against the reference loop, for class counts that fill
// part of a vector, exactly one, and several; logits up to +-80 apart (exponentials down to e^-160).
TEST(SoftmaxCrossEntropy, VectorAgreesWithTheReference) {
  for (const std::size_t classes : {1, 3, 10, 16, 17, 40}) {
    const std::size_t rows = 37;
    Rng rng(classes);
    std::vector<float> z(rows * classes + 1);  // rows start at z[1]: unaligned for most class counts
    std::vector<std::int32_t> labels(rows);
    for (std::size_t i = 0; i < z.size(); ++i) z[i] = float(rng.normal() * (i % 5 == 0 ? 40.0 : 2.0));
    for (auto& l : labels) l = std::int32_t(rng.below(classes));
    const float* logits = z.data() + 1;
    std::vector<float> ref(rows * classes);
    const double ref_loss = reference_softmax_cross_entropy(ref.data(), logits, labels.data(), rows, classes);
    on_every_target([&] {
      std::vector<float> vec(rows * classes + 1);
      const double vec_loss = vector_softmax_cross_entropy(vec.data() + 1, logits, labels.data(), rows, classes);
      EXPECT_NEAR(vec_loss, ref_loss, 1e-6 * (1.0 + ref_loss)) << classes;
      for (std::size_t i = 0; i < ref.size(); ++i)
        ASSERT_NEAR(vec[i + 1], ref[i], 1e-8f + 1e-6f * std::fabs(ref[i])) << i;
      // Without a gradient, the same loss; with the gradient written over the logits, too.
      EXPECT_EQ(vector_softmax_cross_entropy(nullptr, logits, labels.data(), rows, classes), vec_loss);
      std::vector<float> in_place(z.begin() + 1, z.end());
      EXPECT_EQ(vector_softmax_cross_entropy(in_place.data(), in_place.data(), labels.data(), rows, classes),
                vec_loss);
      EXPECT_EQ(in_place, std::vector<float>(vec.begin() + 1, vec.end()));
    });
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
  on_every_target([] {
    for (const std::size_t cols : {1, 5, 16, 63, 64, 65, 256}) {
      const std::size_t rows = 129;
      Rng rng(cols);
      std::vector<float> in(rows * cols + 1);
      for (float& v : in) v = float(rng.normal() * 1e3);
      std::vector<float> ref(cols), vec(cols, -1.0f);
      reference_column_sums(ref.data(), in.data() + 1, rows, cols);  // unaligned rows
      vector_column_sums(vec.data(), in.data() + 1, rows, cols);
      EXPECT_TRUE(same_bits(ref, vec)) << cols;
    }
  });
  const std::vector<float> two_rows{1.0f, 2.0f, 3.0f, 10.0f, 20.0f, 30.0f};
  std::vector<float> sums(3);
  vector_column_sums(sums.data(), two_rows.data(), 2, 3);
  EXPECT_EQ(sums, (std::vector<float>{11.0f, 22.0f, 33.0f}));
}

}  // namespace
}  // namespace actlab
