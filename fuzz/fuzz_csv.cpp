// load_data("csv:FILE"): the CSV reader and the seeded 80/20 split.
#include "fuzz_common.hpp"

#include "actlab/dataset.hpp"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actlab::fuzz;
  set_input(data, size);
  static const std::string path = scratch_file("input.csv");
  write_input(path, data, size);
  actlab::DataSplit split;
  if (!expect_clean([&] { split = actlab::load_data("csv:" + path, 0); }, path)) return 0;
  for (const actlab::Dataset* d : {&split.train, &split.test}) {
    if (d->rows == 0 || d->features == 0 || d->values.size() != d->rows * d->features ||
        d->labels.size() != d->rows || !d->pixels.empty())
      finding("load_data(csv) returned inconsistent sizes");
    for (float v : d->values)
      if (!std::isfinite(v)) finding("load_data(csv) accepted a non-finite value");
    for (std::int32_t l : d->labels)
      if (l < 0 || l >= d->num_classes) finding("load_data(csv) returned a label outside [0, num_classes)");
  }
  return 0;
}
