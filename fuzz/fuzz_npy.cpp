// read_npy (what `actlab apply` and `actlab predict` read), a write/read round trip of what it
// accepted, and load_data("npy:X,Y") with the same file as features and labels.
#include "fuzz_common.hpp"

#include "actlab/dataset.hpp"
#include "actlab/npy.hpp"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actlab::fuzz;
  set_input(data, size);
  static const std::string path = scratch_file("input.npy");
  static const std::string copy = scratch_file("roundtrip.npy");
  write_input(path, data, size);
  actlab::NpyArray a;
  if (expect_clean([&] { a = actlab::read_npy(path); }, path)) {
    std::size_t count = 1;
    for (std::size_t d : a.shape) count *= d;
    if (count != a.data.size()) finding("read_npy: shape product differs from the data size");
    actlab::write_npy(copy, a.data, a.shape);
    const actlab::NpyArray b = actlab::read_npy(copy);
    if (b.shape != a.shape || b.data.size() != a.data.size() ||
        (!a.data.empty() && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) != 0))
      finding("read_npy(write_npy(a)) differs from a");
  }
  // X [N, 1] and Y [N, 1] can be the same file.
  expect_clean([&] { actlab::load_data("npy:" + path + "," + path, 0); }, path);
  return 0;
}
