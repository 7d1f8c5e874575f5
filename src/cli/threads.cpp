#include "cli/commands.hpp"

#include "actlab/kernels.hpp"

#include <cblas.h>
#include <omp.h>

namespace actlab::cli {

void set_threads(int threads) {
  if (threads <= 0) return;
  // In OpenBLAS's OpenMP flavour this also sets OpenMP's count; both are set to say what we mean.
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
}

void set_kernels(const std::string& kernels) {
  (void)kernel_mode();  // reads ACTLAB_KERNELS and ACTLAB_ISA: a bad value stops any command at once
  if (!kernels.empty()) set_kernel_mode(parse_kernel_mode(kernels));
}

}  // namespace actlab::cli
