// read_safetensors, a write/read round trip of what it accepted, and load_model with the fuzzed
// file as the weights of a fixed small model (the checks of names, dtypes, shapes and values).
#include "fuzz_common.hpp"

#include "actlab/model_io.hpp"
#include "actlab/safetensors.hpp"

#include <cstring>

namespace {

// The model of fuzz/corpus/safetensors/model.safetensors (see fuzz/make_corpus.py).
constexpr const char* kConfig = R"({"format": "actlab-model", "version": 1, "in_features": 2, "out_features": 3,
  "layers": [{"type": "linear", "out_features": 3}, {"type": "batchnorm1d"}, {"type": "prelu"}]})";

bool same(const actlab::TensorMap& a, const actlab::TensorMap& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    const auto &x = ia->second, &y = ib->second;
    if (ia->first != ib->first || x.dtype != y.dtype || x.shape != y.shape || x.f32.size() != y.f32.size() ||
        x.i64 != y.i64)
      return false;
    if (!x.f32.empty() && std::memcmp(x.f32.data(), y.f32.data(), x.f32.size() * sizeof(float)) != 0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actlab::fuzz;
  set_input(data, size);
  static const std::string dir = [] {
    const std::string d = scratch_file("model");
    std::filesystem::create_directories(d);
    write_input(d + "/config.json", kConfig, std::strlen(kConfig));
    return d;
  }();
  static const std::string path = dir + "/model.safetensors";
  static const std::string copy = scratch_file("roundtrip.safetensors");
  write_input(path, data, size);
  actlab::TensorMap t;
  if (!expect_clean([&] { t = actlab::read_safetensors(path); }, path)) return 0;
  // Names that write_safetensors refuses (empty) are the only reason a round trip may fail.
  bool written = false;
  expect_clean([&] {
    actlab::write_safetensors(copy, t);
    written = true;
  }, copy);
  if (written && !same(t, actlab::read_safetensors(copy))) finding("read_safetensors(write_safetensors(t)) differs from t");
  expect_clean([&] { actlab::load_model(dir); }, dir);
  return 0;
}
