// The library's version, compiled in so that a program can tell which library it loaded.
#include "actlab/version.hpp"

namespace actlab {

const char* version() noexcept { return ACTLAB_VERSION_STRING; }

}  // namespace actlab
