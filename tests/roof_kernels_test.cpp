// The memory roof's streaming copy and triad (kernels/roof_kernels.hpp) on every instruction set
// this binary carries: the same bits as the plain loops, on lengths that leave a partial vector
// and on starts that are not vector-aligned, and nothing written outside the output range.
#include "kernels/roof_kernels.hpp"

#include "every_target.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <vector>

namespace actlab {
namespace {

constexpr float kGuard = -7.0f;

TEST(RoofKernels, StreamingCopyAndTriadMatchThePlainLoops) {
  on_every_target([] {
    for (const std::size_t n : {0, 1, 3, 15, 16, 17, 63, 100, 1000}) {
      for (const std::size_t offset : {0, 1, 5}) {
        std::vector<float> b(n + offset), c(n + offset);
        for (std::size_t i = 0; i < b.size(); ++i) {
          b[i] = 0.37f * float(i) - 11.0f;
          c[i] = 1.0f / (1.0f + float(i));
        }
        std::vector<float> copy(n + offset + 1, kGuard), triad(n + offset + 1, kGuard);
        stream_copy(copy.data() + offset, b.data() + offset, n);
        stream_triad(triad.data() + offset, b.data() + offset, c.data() + offset, 0.5f, n);
        for (std::size_t i = 0; i < offset; ++i) {
          EXPECT_EQ(copy[i], kGuard);
          EXPECT_EQ(triad[i], kGuard);
        }
        for (std::size_t i = offset; i < offset + n; ++i) {
          EXPECT_EQ(copy[i], b[i]) << n << " " << offset << " " << i;
          const float plain = b[i] + 0.5f * c[i];
          EXPECT_EQ(std::memcmp(&triad[i], &plain, sizeof plain), 0) << n << " " << offset << " " << i;
        }
        EXPECT_EQ(copy[offset + n], kGuard);
        EXPECT_EQ(triad[offset + n], kGuard);
      }
    }
  });
}

}  // namespace
}  // namespace actlab
