// Runs a check once per instruction set that this binary carries and this CPU runs, so that the
// vector kernels' narrower versions (AVX2, SSE4, ...) are tested too, not only the best one.
#pragma once

#include <gtest/gtest.h>
#include <hwy/targets.h>

namespace actlab {

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
