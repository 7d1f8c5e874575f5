// Kernel selection: ACTLAB_KERNELS and ACTLAB_ISA (and ACTLAB_GEMM, checked) read once, overridable
// by set_kernel_mode and limit_vector_isa.
#include "actlab/kernels.hpp"
#include "kernels/gemm.hpp"
#include "kernels/parallel_policy.hpp"
#include "kernels/vector_activations.hpp"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fmt/format.h>
#include <hwy/targets.h>
#include <omp.h>
#include <stdexcept>
#include <utility>
#include <vector>

namespace actlab {
namespace {

std::string lower_case(std::string text) {
  for (char& c : text) c = char(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Every instruction set this binary carries vector kernels for, best first (Highway numbers better
// targets with lower bits), by lower-case name.
std::vector<std::pair<std::string, int64_t>> compiled_isas() {
  std::vector<std::pair<std::string, int64_t>> isas;
  for (int bit = 0; bit < 63; ++bit) {
    const int64_t target = int64_t(1) << bit;
    if (!(HWY_TARGETS & target)) continue;
    isas.emplace_back(lower_case(hwy::TargetName(target)), target);
  }
  return isas;
}

// Restricts dispatch to the CPU's targets outside `disabled`. Highway 1.0.3's DisableTargets is not
// enough: every later SupportedTargets() call re-detects the CPU and resets HWY_DYNAMIC_DISPATCH to
// the best target, ignoring the disabled ones. A fixed target set (the mechanism Highway's own
// tests use), taken from the CPU's targets as detected once, is never re-detected. Tests that set
// their own set and reset it to 0 end the cap.
void cap_targets(int64_t disabled) {
  static const int64_t detected = [] {
    hwy::SetSupportedTargetsForTest(0);
    return hwy::SupportedTargets();
  }();
  hwy::SetSupportedTargetsForTest(disabled ? detected & ~disabled : 0);
}

void cap_at(const std::string& name) {
  const std::string key = lower_case(name);
  if (key == "best") return cap_targets(0);
  std::string known = "best";
  for (const auto& [isa, target] : compiled_isas()) {
    if (isa == key) return cap_targets(target - 1);  // every better target
    known += ", " + isa;
  }
  throw std::invalid_argument(fmt::format("instruction set '{}' is not one of: {}", name, known));
}

// ACTLAB_ISA, applied once before any kernel runs (every vector kernel is behind a kernel_mode()
// call) and before any explicit limit_vector_isa, which then wins. A bad value throws on every call.
void apply_isa_from_environment() {
  static const bool applied = [] {
    if (const char* isa = std::getenv("ACTLAB_ISA"); isa && *isa) cap_at(isa);
    return true;
  }();
  (void)applied;
}

KernelMode mode_from_environment() {
  apply_isa_from_environment();
  (void)gemm_kernels_setting();  // a bad ACTLAB_GEMM stops a command at once, as a bad ACTLAB_KERNELS
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

void limit_vector_isa(const std::string& name) {
  apply_isa_from_environment();
  cap_at(name);
}

std::string vector_isa() {
  (void)kernel_mode();  // applies ACTLAB_ISA
  return vector_target_name();  // what HWY_DYNAMIC_DISPATCH runs now
}

bool worth_parallel(double work, double spinning_threshold) {
  static const double scale = [] {
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    return lower_case(policy ? policy : "") == "passive" ? 32.0 : 1.0;
  }();
  // Inside an active region (work shared out by a caller) the kernel runs on its own thread.
  return omp_get_max_threads() > 1 && !omp_in_parallel() && work >= spinning_threshold * scale;
}

}  // namespace actlab
