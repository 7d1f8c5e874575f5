// Which kernels run the matrix products (gemm.cpp chooses; actlab/kernels.hpp describes).
#include "actlab/kernels.hpp"
#include "kernels/gemm.hpp"
#include "kernels/packed_gemm.hpp"

#include <cblas.h>
#include <cstdlib>
#include <dlfcn.h>
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace actlab {

namespace {

// The library that holds the sgemm we call, so that its symbols are found even where it was loaded
// privately (a libactlab.so opened with RTLD_LOCAL, as Python's ctypes does, hides it from
// RTLD_DEFAULT).
void* blas_library() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&cblas_sgemm), &info) && info.dli_fname)
    if (void* handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD)) return handle;  // not closed: it stays
  return RTLD_DEFAULT;
}

}  // namespace

const std::string& openblas_core_name() {
  // Looked up rather than linked: another BLAS in OpenBLAS's place need not have it.
  static const std::string name = [] {
    // The global scope first: the library's own lookup (dladdr) took 80 us.
    void* symbol = dlsym(RTLD_DEFAULT, "openblas_get_corename");
    if (!symbol) symbol = dlsym(blas_library(), "openblas_get_corename");
    const auto core_name = reinterpret_cast<char* (*)()>(symbol);
    const char* core = core_name ? core_name() : nullptr;
    return std::string(core ? core : "");
  }();
  return name;
}

bool blas_has_avx512_kernels() {
  // OpenBLAS's AVX-512 cores; a BLAS that does not name its kernels is taken to be the better one.
  // Decided once: gemm() asks on every product.
  static const bool avx512 = [] {
    const std::string& core = openblas_core_name();
    return core.empty() || core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids";
  }();
  return avx512;
}

GemmKernels gemm_kernels_setting() {
  static const GemmKernels setting = [] {
    const char* value = std::getenv("ACTLAB_GEMM");
    const std::string text = value ? value : "";
    if (text.empty() || text == "auto") return GemmKernels::automatic;
    if (text == "blas") return GemmKernels::blas;
    if (text == "packed") return GemmKernels::packed;
    throw std::invalid_argument(fmt::format("ACTLAB_GEMM '{}' is not one of: auto, blas, packed", text));
  }();
  return setting;
}

std::string describe_matrix_products() {
  (void)kernel_mode();  // applies ACTLAB_ISA, which caps what the packed kernel dispatches to
  const std::string& core = openblas_core_name();
  std::string blas = core.empty() ? "a BLAS that does not name its kernels" : "OpenBLAS, " + core + " kernels";
  // OpenBLAS picks its kernels by CPU when it loads, unless this variable names them.
  if (const char* forced = std::getenv("OPENBLAS_CORETYPE")) blas += std::string(" (OPENBLAS_CORETYPE=") + forced + ")";
  switch (gemm_kernels_setting()) {
    case GemmKernels::blas: return blas + " (ACTLAB_GEMM=blas)";
    case GemmKernels::packed: return "actlab's packed kernel (ACTLAB_GEMM=packed), but one-row products: " + blas;
    case GemmKernels::automatic: break;
  }
  if (packed_gemm_is_avx512() && !blas_has_avx512_kernels())
    return "actlab's packed AVX-512 kernel, but one-row products: " + blas;
  return blas;
}

}  // namespace actlab
