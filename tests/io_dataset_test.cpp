#include "actlab/dataset.hpp"
#include "actlab/npy.hpp"
#include "io_test_util.hpp"

#include <cmath>
#include <filesystem>
#include <limits>

using actlab::Dataset;
using actlab::load_data;
using actlab::test::TempDir;
using actlab::test::throws_with;
using actlab::test::write_bytes;
using actlab::test::write_gz;

namespace {

std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> b = {0, 0, 0x08, std::uint8_t(dims.size())};
  for (std::uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// A tiny MNIST-layout folder: 10 training and 5 test images of 2x2; training files gzipped, test files not.
void write_mnist_dir(const TempDir& t, std::vector<std::uint8_t> train_labels) {
  std::vector<std::uint8_t> px(40);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = std::uint8_t(i * 6);
  write_gz(t.file("train-images-idx3-ubyte.gz"), idx_bytes({10, 2, 2}, px));
  write_gz(t.file("train-labels-idx1-ubyte.gz"), idx_bytes({std::uint32_t(train_labels.size())}, train_labels));
  px.resize(20);
  write_bytes(t.file("t10k-images-idx3-ubyte"), idx_bytes({5, 2, 2}, px));
  write_bytes(t.file("t10k-labels-idx1-ubyte"), idx_bytes({5}, {9, 8, 7, 6, 5}));
}

}  // namespace

TEST(Synthetic, SameSeedSameDataOtherSeedOtherData) {
  const auto a = actlab::make_spirals(100, 3, 5), b = actlab::make_spirals(100, 3, 5),
             c = actlab::make_spirals(100, 3, 6);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_NE(a.values, c.values);
  EXPECT_EQ(actlab::make_moons(50, 0.1f, 1).values, actlab::make_moons(50, 0.1f, 1).values);
  EXPECT_EQ(actlab::make_blobs(50, 3, 4, 1).values, actlab::make_blobs(50, 3, 4, 1).values);
  EXPECT_NE(actlab::make_blobs(50, 3, 4, 1).values, actlab::make_blobs(50, 3, 4, 2).values);
  const auto s1 = load_data("spirals", 9), s2 = load_data("spirals", 9);
  EXPECT_EQ(s1.train.values, s2.train.values);
  EXPECT_EQ(s1.test.labels, s2.test.labels);
}

TEST(Synthetic, ShapesLabelsAndRanges) {
  const auto s = actlab::make_spirals(200, 4, 1);
  EXPECT_EQ(s.rows, 800u);
  EXPECT_EQ(s.features, 2u);
  EXPECT_EQ(s.num_classes, 4);
  EXPECT_EQ(s.values.size(), 1600u);
  for (int k = 0; k < 4; ++k) EXPECT_EQ(std::count(s.labels.begin(), s.labels.end(), k), 200);
  for (float v : s.values) EXPECT_LE(std::abs(v), 1.0f);  // radius grows from 0 to 1
  const auto m = actlab::make_moons(101, 0.0f, 1);  // no noise: points lie on the two half circles
  EXPECT_EQ(m.rows, 101u);
  for (std::size_t i = 0; i < m.rows; ++i) {
    const float x = m.values[2 * i], y = m.values[2 * i + 1];
    const float r = m.labels[i] == 0 ? std::hypot(x, y) : std::hypot(x - 1.0f, y - 0.5f);
    EXPECT_NEAR(r, 1.0f, 1e-5f) << "point " << i;
  }
  const auto b = actlab::make_blobs(30, 3, 5, 1);
  EXPECT_EQ(b.rows, 30u);
  EXPECT_EQ(b.features, 5u);
  EXPECT_EQ(b.values.size(), 150u);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(std::count(b.labels.begin(), b.labels.end(), k), 10);
}

TEST(Synthetic, RejectsBadArguments) {
  EXPECT_THROW(actlab::make_spirals(0, 3, 1), std::invalid_argument);
  EXPECT_THROW(actlab::make_spirals(10, 0, 1), std::invalid_argument);
  EXPECT_THROW(actlab::make_spirals(10, 300, 1), std::invalid_argument);
  EXPECT_THROW(actlab::make_moons(10, -1.0f, 1), std::invalid_argument);
  EXPECT_THROW(actlab::make_moons(10, std::numeric_limits<float>::quiet_NaN(), 1), std::invalid_argument);
  EXPECT_THROW(actlab::make_blobs(10, 2, 0, 1), std::invalid_argument);
}

TEST(Dataset, LoadsSyntheticSources) {
  const auto s = load_data("spirals", 1);
  EXPECT_EQ(s.name, "spirals");
  EXPECT_EQ(s.train.rows, 2400u);
  EXPECT_EQ(s.test.rows, 600u);
  EXPECT_EQ(s.train.num_classes, 3);
  EXPECT_EQ(s.train.scaling.scale, 1.0f);
  EXPECT_EQ(s.train.scaling.shift, 0.0f);
  EXPECT_EQ(load_data("spirals:50", 1).train.rows, 120u);  // 50 per class, 80%
  const auto m = load_data("moons", 1);
  EXPECT_EQ(m.train.rows + m.test.rows, 2000u);
  EXPECT_EQ(m.train.num_classes, 2);
  const auto b = load_data("blobs:100", 1);
  EXPECT_EQ(b.train.rows, 80u);
  EXPECT_EQ(b.train.features, 2u);
  EXPECT_EQ(b.train.num_classes, 4);
}

TEST(Dataset, RejectsBadSourceStrings) {
  for (const char* bad : {"nope", "spirals:abc", "spirals:", "spirals:0", "moons:-5", "npy:a.npy", "npy:,b.npy",
                          "npy:a,b,c", "fashion-mnist:x", "mnist", "csv", ""})
    EXPECT_THROW(load_data(bad, 1), std::invalid_argument) << bad;
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { load_data("spirals:abc", 1); }, "data source 'spirals:abc'",
                                                 "not an integer"));
}

TEST(Dataset, GatherScalesPixelsAndValues) {
  Dataset d;
  d.rows = 3;
  d.features = 2;
  d.pixels = {0, 255, 10, 20, 128, 1};
  d.labels = {0, 1, 0};
  d.scaling = {1.0f / 255.0f, -0.5f};
  const std::vector<std::size_t> idx = {2, 0, 2};
  std::vector<float> out(6);
  d.gather(idx, out);
  const std::vector<std::uint8_t> want_raw = {128, 1, 0, 255, 128, 1};
  for (std::size_t i = 0; i < out.size(); ++i)
    EXPECT_FLOAT_EQ(out[i], float(want_raw[i]) * (1.0f / 255.0f) - 0.5f) << i;
  EXPECT_FLOAT_EQ(out[3], 0.5f);

  d.pixels.clear();
  d.values = {1.5f, -2.0f, 0.0f, 4.0f, 8.0f, 3.0f};
  d.scaling = {2.0f, 1.0f};
  const std::vector<std::size_t> one = {1};
  std::vector<float> out2(2);
  d.gather(one, out2);
  EXPECT_EQ(out2, (std::vector<float>{1.0f, 9.0f}));

  const std::vector<std::size_t> bad = {3};
  EXPECT_THROW(d.gather(bad, out2), std::out_of_range);
  std::vector<float> wrong(3);
  EXPECT_THROW(d.gather(one, wrong), std::invalid_argument);
}

TEST(Dataset, LoadsMnistLayoutFolder) {
  TempDir t;
  write_mnist_dir(t, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  const auto s = load_data("mnist:" + t.dir.string(), 1);
  EXPECT_EQ(s.name, "mnist");
  EXPECT_EQ(s.train.rows, 10u);
  EXPECT_EQ(s.test.rows, 5u);
  EXPECT_EQ(s.train.features, 4u);
  EXPECT_EQ(s.train.num_classes, 10);
  EXPECT_TRUE(s.train.values.empty());
  EXPECT_EQ(s.train.pixels[5], 30);  // raw bytes, in file order
  EXPECT_EQ(s.test.labels, (std::vector<std::int32_t>{9, 8, 7, 6, 5}));
  EXPECT_FLOAT_EQ(s.train.scaling.scale, 1.0f / 255.0f);
}

TEST(Dataset, MnistFolderErrors) {
  TempDir t;
  write_mnist_dir(t, {0, 1, 2, 3, 4, 5, 6, 7, 8, 10});
  const std::string labels = t.file("train-labels-idx1-ubyte.gz");
  EXPECT_TRUE(throws_with([&] { load_data("mnist:" + t.dir.string(), 1); }, labels + ":", "label 10 at index 9"));
  write_mnist_dir(t, {0, 1, 2});
  EXPECT_TRUE(throws_with([&] { load_data("mnist:" + t.dir.string(), 1); }, labels + ":", "3 labels"));
  std::filesystem::remove(t.file("t10k-images-idx3-ubyte"));
  EXPECT_TRUE(throws_with([&] { load_data("mnist:" + t.dir.string(), 1); }, labels + ":", "3 labels"));
  write_mnist_dir(t, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  std::filesystem::remove(t.file("t10k-images-idx3-ubyte"));
  EXPECT_TRUE(throws_with([&] { load_data("mnist:" + t.dir.string(), 1); }, t.file("t10k-images-idx3-ubyte"),
                          "not found"));
}

TEST(Dataset, LoadsNpyPairs) {
  TempDir t;
  std::vector<float> x(10 * 2 * 3), y(10);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = float(i % 4);
  const std::vector<std::size_t> xs = {10, 2, 3}, ys = {10};
  actlab::write_npy(t.file("x.npy"), x, xs);
  actlab::write_npy(t.file("y.npy"), y, ys);
  const auto s = load_data("npy:" + t.file("x.npy") + "," + t.file("y.npy"), 3);
  EXPECT_EQ(s.name, "x");
  EXPECT_EQ(s.train.rows, 8u);
  EXPECT_EQ(s.test.rows, 2u);
  EXPECT_EQ(s.train.features, 6u);
  EXPECT_EQ(s.train.num_classes, 4);
  for (std::size_t r = 0; r < s.train.rows; ++r)  // each row's features still sit with its own label
    EXPECT_EQ(int(s.train.values[r * 6]) / 6 % 4, s.train.labels[r]);

  const std::string pair = "npy:" + t.file("x.npy") + "," + t.file("y.npy");
  x[13] = std::numeric_limits<float>::quiet_NaN();
  actlab::write_npy(t.file("x.npy"), x, xs);
  EXPECT_TRUE(throws_with([&] { load_data(pair, 3); }, t.file("x.npy") + ":", "row 2, feature 1"));
  x[13] = 0.0f;
  actlab::write_npy(t.file("x.npy"), x, xs);
  y[4] = 2.5f;
  actlab::write_npy(t.file("y.npy"), y, ys);
  EXPECT_TRUE(throws_with([&] { load_data(pair, 3); }, t.file("y.npy") + ":", "row 4: label 2.5 is out of range"));
  const std::vector<std::size_t> short_y = {9};
  actlab::write_npy(t.file("y.npy"), std::span<const float>(y.data(), 9), short_y);
  EXPECT_TRUE(throws_with([&] { load_data(pair, 3); }, t.file("y.npy") + ":", "9 labels"));
  const std::vector<std::size_t> flat = {60};
  actlab::write_npy(t.file("x.npy"), x, flat);
  EXPECT_TRUE(throws_with([&] { load_data(pair, 3); }, t.file("x.npy") + ":", "expected features"));
}

TEST(Dataset, FashionMnistFromDebianPackage) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) GTEST_SKIP() << dir << " is not installed";
  const auto s = load_data("fashion-mnist", 1);
  EXPECT_EQ(s.name, "fashion-mnist");
  EXPECT_EQ(s.train.rows, 60000u);
  EXPECT_EQ(s.test.rows, 10000u);
  EXPECT_EQ(s.train.features, 784u);
  EXPECT_EQ(s.train.num_classes, 10);
  EXPECT_EQ(s.train.pixels.size(), 60000u * 784u);
  EXPECT_TRUE(s.train.values.empty());
  EXPECT_FLOAT_EQ(s.train.scaling.scale, 1.0f / 255.0f);
  EXPECT_EQ(s.train.scaling.shift, 0.0f);
  std::vector<int> histogram(10, 0);
  for (auto l : s.train.labels) ++histogram[std::size_t(l)];
  EXPECT_EQ(histogram, std::vector<int>(10, 6000));
  EXPECT_EQ(*std::max_element(s.train.pixels.begin(), s.train.pixels.end()), 255);
}
