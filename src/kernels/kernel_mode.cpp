// Kernel selection: ACTLAB_KERNELS read once, overridable by set_kernel_mode.
#include "actlab/kernels.hpp"
#include "kernels/parallel_policy.hpp"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fmt/format.h>
#include <hwy/targets.h>
#include <omp.h>
#include <stdexcept>

namespace actlab {
namespace {

KernelMode mode_from_environment() {
  const char* value = std::getenv("ACTLAB_KERNELS");
  return value && *value ? parse_kernel_mode(value) : KernelMode::vector;
}

std::atomic<KernelMode>& current_mode() {
  static std::atomic<KernelMode> mode{mode_from_environment()};
  return mode;
}

}  // namespace

KernelMode parse_kernel_mode(const std::string& text) {
  if (text == "vector") return KernelMode::vector;
  if (text == "reference") return KernelMode::reference;
  throw std::invalid_argument(fmt::format("kernels '{}' is not one of: vector, reference", text));
}

KernelMode kernel_mode() { return current_mode().load(std::memory_order_relaxed); }

void set_kernel_mode(KernelMode mode) { current_mode().store(mode, std::memory_order_relaxed); }

std::string vector_isa() {
  // Highway lists the targets this binary was built for and this CPU supports, best first; that
  // first one is what HWY_DYNAMIC_DISPATCH runs.
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  return targets.empty() ? "none" : hwy::TargetName(targets.front());
}

bool worth_parallel(double work, double spinning_threshold) {
  static const double scale = [] {
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    std::string value = policy ? policy : "";
    for (char& c : value) c = char(std::tolower(static_cast<unsigned char>(c)));
    return value == "passive" ? 32.0 : 1.0;
  }();
  // Inside an active region (work shared out by a caller) the kernel runs on its own thread.
  return omp_get_max_threads() > 1 && !omp_in_parallel() && work >= spinning_threshold * scale;
}

}  // namespace actlab
