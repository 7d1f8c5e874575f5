// Which instruction set the vector kernels run: limit_vector_isa (and ACTLAB_ISA) caps it.
#include "actlab/activation.hpp"
#include "actlab/kernels.hpp"
#include "kernels/vector_activations.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <hwy/targets.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Log-spaced magnitudes of both signs: every branch of the kernel's math.
std::vector<float> inputs() {
  std::vector<float> x;
  for (int i = 0; i <= 20000; ++i) {
    const float m = float(std::pow(10.0, -30.0 + 60.0 * i / 20000.0));
    x.push_back(m), x.push_back(-m);
  }
  return x;
}

std::size_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  std::size_t i = 0;
  while (i < a.size() && std::bit_cast<std::uint32_t>(a[i]) == std::bit_cast<std::uint32_t>(b[i])) ++i;
  return i;
}

// Each target this CPU runs, capped by name, is what runs (vector_isa, and the same bits as that
// target set alone); "best" lifts the cap; an unknown name is a clear error that changes nothing.
TEST(VectorDispatch, InstructionSetCap) {
  const actlab::KernelMode saved = actlab::kernel_mode();
  actlab::set_kernel_mode(actlab::KernelMode::vector);
  const actlab::Activation act = actlab::parse_activation("gelu:approximate=tanh");
  const std::vector<float> x = inputs();
  std::vector<float> capped(x.size()), alone(x.size());
  const std::vector<std::int64_t> targets = hwy::SupportedAndGeneratedTargets();
  ASSERT_FALSE(targets.empty());
  for (const std::int64_t target : targets) {
    const std::string name = hwy::TargetName(target);
    actlab::limit_vector_isa(name);
    EXPECT_EQ(actlab::vector_isa(), name);
    actlab::activation_forward(act, capped, x);
    actlab::limit_vector_isa("best");
    hwy::SetSupportedTargetsForTest(target);
    actlab::activation_forward(act, alone, x);
    hwy::SetSupportedTargetsForTest(0);
    const std::size_t i = first_difference(capped, alone);
    EXPECT_EQ(i, x.size()) << name << ": x = " << x[i] << " gave " << capped[i] << " capped, " << alone[i] << " alone";
  }
  EXPECT_EQ(actlab::vector_isa(), hwy::TargetName(targets.front()));
  try {
    actlab::limit_vector_isa("avx1024");
    ADD_FAILURE() << "no error for an unknown instruction set";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("instruction set 'avx1024' is not one of: best,"), std::string::npos) << e.what();
  }
  EXPECT_EQ(actlab::vector_isa(), hwy::TargetName(targets.front()));
  actlab::set_kernel_mode(saved);
}

}  // namespace
