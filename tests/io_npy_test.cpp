#include "actlab/npy.hpp"
#include "io_test_util.hpp"

#include <cstring>

using actlab::read_npy;
using actlab::write_npy;
using actlab::test::read_bytes;
using actlab::test::TempDir;
using actlab::test::throws_with;
using actlab::test::write_bytes;

namespace {

const std::string kData = std::string(ACTLAB_TEST_DATA_DIR) + "/io/";

// A version-1 .npy file with the given header text and `data_bytes` zero bytes of data.
std::vector<std::uint8_t> npy_bytes(const std::string& dict, std::size_t data_bytes) {
  std::vector<std::uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  const std::string header = dict + "\n";
  b.push_back(std::uint8_t(header.size() & 0xff));
  b.push_back(std::uint8_t(header.size() >> 8));
  b.insert(b.end(), header.begin(), header.end());
  b.resize(b.size() + data_bytes, 0);
  return b;
}

std::string dict(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

}  // namespace

TEST(Npy, ReadsNumpyFloat32) {
  const auto a = read_npy(kData + "f4_2x3.npy");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, -7.0f}));
}

TEST(Npy, ReadsOtherDtypesConverted) {
  EXPECT_EQ(read_npy(kData + "f8_3.npy").data, (std::vector<float>{0.1f, -2.5f, 1e30f}));
  EXPECT_EQ(read_npy(kData + "u1_2x2.npy").data, (std::vector<float>{0, 255, 7, 128}));
  EXPECT_EQ(read_npy(kData + "i8_4.npy").data, (std::vector<float>{-3, 0, 9, 1099511627776.0f}));
  EXPECT_EQ(read_npy(kData + "i2_3.npy").data, (std::vector<float>{-300, 5, 32767}));
}

TEST(Npy, ReadsVersions2And3) {
  const auto v1 = read_npy(kData + "f4_2x3.npy");
  for (const char* name : {"f4_v2.npy", "f4_v3.npy"}) {
    const auto a = read_npy(kData + name);
    EXPECT_EQ(a.shape, v1.shape) << name;
    EXPECT_EQ(a.data, v1.data) << name;
  }
}

TEST(Npy, ReadsScalarAndEmptyArrays) {
  const auto s = read_npy(kData + "f4_scalar.npy");
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.data, std::vector<float>{4.5f});
  const auto e = read_npy(kData + "f4_empty_0x3.npy");
  EXPECT_EQ(e.shape, (std::vector<std::size_t>{0, 3}));
  EXPECT_TRUE(e.data.empty());
}

TEST(Npy, WriteMatchesNumpyByteForByte) {
  TempDir t;
  const std::vector<float> data = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, -7.0f};
  const std::vector<std::size_t> shape = {2, 3};
  write_npy(t.file("a.npy"), data, shape);
  EXPECT_EQ(read_bytes(t.file("a.npy")), read_bytes(kData + "f4_2x3.npy"));
}

TEST(Npy, RoundTripsShapes) {
  TempDir t;
  const std::vector<std::vector<std::size_t>> shapes = {{}, {0}, {1}, {5}, {2, 3, 4}, {1, 1, 1, 1, 7}};
  for (const auto& shape : shapes) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<float> data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = float(i) * 0.5f - 3.0f;
    write_npy(t.file("r.npy"), data, shape);
    const auto bytes = read_bytes(t.file("r.npy"));
    const std::size_t header_end = 10 + std::size_t(bytes[8]) + std::size_t(bytes[9]) * 256;
    EXPECT_EQ(header_end % 64, 0u) << "data must start on a 64-byte boundary";
    const auto a = read_npy(t.file("r.npy"));
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.data, data);
  }
}

TEST(Npy, WriteRejectsShapeThatDisagreesWithData) {
  TempDir t;
  const std::vector<float> data(5);
  const std::vector<std::size_t> shape = {2, 3};
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { write_npy(t.file("x.npy"), data, shape); },
                                                 t.file("x.npy") + ":", "6 values"));
}

TEST(Npy, RejectsUnsupportedLayoutsAndDtypes) {
  const std::pair<const char*, const char*> cases[] = {
      {"f4_fortran.npy", "Fortran"}, {"f4_bigendian.npy", "big-endian"}, {"bool_2.npy", "unsupported dtype"},
      {"object_2.npy", "object"},    {"f2_2.npy", "unsupported dtype"}};
  for (const auto& [name, word] : cases)
    EXPECT_TRUE(throws_with([&] { read_npy(kData + name); }, kData + name + ":", word)) << name;
}

TEST(Npy, RejectsBrokenFiles) {
  TempDir t;
  const std::string p = t.file("bad.npy");
  auto rejects = [&](const std::vector<std::uint8_t>& bytes, const std::string& word) {
    write_bytes(p, bytes);
    return throws_with([&] { read_npy(p); }, p + ":", word);
  };
  EXPECT_TRUE(rejects({}, "bad magic")) << "empty file";
  EXPECT_TRUE(rejects({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0}, "bad magic"));
  auto v9 = npy_bytes(dict("<f4", "(1,)"), 4);
  v9[6] = 9;
  EXPECT_TRUE(rejects(v9, "version 9.0"));
  auto lying = npy_bytes(dict("<f4", "(1,)"), 4);
  lying[8] = 0xff, lying[9] = 0xff;  // header length far past the end
  EXPECT_TRUE(rejects(lying, "runs past the end"));
  EXPECT_TRUE(rejects(npy_bytes(dict("<f4", "(2, 3)"), 23), "needs 24 bytes")) << "truncated data";
  EXPECT_TRUE(rejects(npy_bytes(dict("<f4", "(2, 3)"), 28), "needs 24 bytes")) << "trailing data";
  EXPECT_TRUE(rejects(npy_bytes(dict("<f4", "(4611686018427387904, 8)"), 4), "overflow"));
  EXPECT_TRUE(rejects(npy_bytes(dict("<f4", "(99999999999999999999999,)"), 4), "too large"));
  EXPECT_TRUE(rejects(npy_bytes(dict("<f4", "(-1,)"), 4), "non-negative"));
  EXPECT_TRUE(rejects(npy_bytes("{'descr': '<f4', 'shape': (1,), }", 4), "needs the keys"));
  EXPECT_TRUE(rejects(npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4),
                      "twice"));
  EXPECT_TRUE(rejects(npy_bytes(dict("<f4", "(1,)") + " junk", 4), "after the closing"));
  EXPECT_TRUE(rejects(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", 4),
                      "structured"));
  EXPECT_TRUE(rejects(npy_bytes(dict("<c8", "(1,)"), 8), "unsupported dtype"));
  EXPECT_TRUE(rejects(npy_bytes(dict("<f4", "(1,)", "Maybe"), 4), "True or False"));
  EXPECT_TRUE(rejects(npy_bytes("{'descr': '<f4", 4), "unterminated"));
  const auto full = npy_bytes(dict("<f4", "(2,)"), 8);
  EXPECT_TRUE(rejects(std::vector<std::uint8_t>(full.begin(), full.begin() + 9), "truncated")) << "cut in prefix";
  EXPECT_TRUE(rejects(std::vector<std::uint8_t>(full.begin(), full.begin() + 30), "runs past the end"));
}

TEST(Npy, AcceptsPython2LongDimensions) {
  TempDir t;
  write_bytes(t.file("old.npy"), npy_bytes(dict("<f4", "(2L, 1L)"), 8));
  EXPECT_EQ(read_npy(t.file("old.npy")).shape, (std::vector<std::size_t>{2, 1}));
}

TEST(Npy, DirectoryAndMissingFile) {
  TempDir t;
  EXPECT_TRUE(throws_with([&] { read_npy(t.dir.string()); }, t.dir.string() + ":", "directory"));
  EXPECT_TRUE(throws_with([&] { read_npy(t.file("nope.npy")); }, t.file("nope.npy") + ":", "No such file"));
}
