// Runs a check once per instruction set that this binary carries and this CPU runs, so that the
// vector kernels' narrower versions (AVX2, SSE4, ...) are tested too, not only the best one; and
// sets the kernel mode (vector or reference) for a scope.
#pragma once

#include "actlab/kernels.hpp"

#include <gtest/gtest.h>
#include <hwy/targets.h>

namespace actlab {

// Restores the kernel mode on scope exit.
struct ModeGuard {
  KernelMode saved = kernel_mode();
  explicit ModeGuard(KernelMode m) { set_kernel_mode(m); }
  ~ModeGuard() { set_kernel_mode(saved); }
};

template <class Check>
void on_every_target(Check&& check) {
  for (const std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    check();
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace actlab
