// read_idx on a file holding the fuzz input as is: plain IDX, or gzip (detected by magic) whose
// stream the mutations corrupt.
#include "fuzz_common.hpp"

#include "actlab/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actlab::fuzz;
  set_input(data, size);
  static const std::string path = scratch_file("input.idx");
  write_input(path, data, size);
  actlab::IdxArray a;
  if (!expect_clean([&] { a = actlab::read_idx(path); }, path)) return 0;
  // What it accepted is consistent: 1-4 dimensions whose product is the data size.
  std::size_t count = 1;
  for (std::size_t d : a.dims) count *= d;
  if (a.dims.empty() || a.dims.size() > 4 || count != a.data.size()) finding("read_idx returned inconsistent dims");
  return 0;
}
