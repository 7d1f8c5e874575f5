// Which OpenBLAS kernels run the matrix products, for reports (actlab/kernels.hpp).
#include "actlab/kernels.hpp"

#include <cstdlib>
#include <dlfcn.h>
#include <string>

namespace actlab {

std::string describe_blas_kernels() {
  // Looked up rather than linked: another BLAS in OpenBLAS's place need not have it.
  const auto core_name = reinterpret_cast<char* (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* core = core_name ? core_name() : nullptr;
  std::string text = core ? std::string("OpenBLAS, ") + core + " kernels" : "a BLAS that does not name its kernels";
  // OpenBLAS picks its kernels by CPU when it loads, unless this variable names them: a machine
  // where it is set to an older core's runs every product on that core's (narrower) kernels.
  if (const char* forced = std::getenv("OPENBLAS_CORETYPE")) text += std::string(" (OPENBLAS_CORETYPE=") + forced + ")";
  return text;
}

}  // namespace actlab
