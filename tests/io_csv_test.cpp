#include "actlab/dataset.hpp"
#include "io_test_util.hpp"

#include <algorithm>
#include <tuple>

using actlab::load_data;
using actlab::test::TempDir;
using actlab::test::throws_with;
using actlab::test::write_text;

namespace {

// All rows of both halves as (label, features), sorted, to compare with the file's rows.
std::vector<std::pair<int, std::vector<float>>> all_rows(const actlab::DataSplit& s) {
  std::vector<std::pair<int, std::vector<float>>> rows;
  for (const auto* d : {&s.train, &s.test})
    for (std::size_t r = 0; r < d->rows; ++r)
      rows.emplace_back(d->labels[r], std::vector<float>(d->values.begin() + std::ptrdiff_t(r * d->features),
                                                         d->values.begin() + std::ptrdiff_t((r + 1) * d->features)));
  std::sort(rows.begin(), rows.end());
  return rows;
}

const std::string kFive = "x1,label,x2\n1,0,10\n2,3,20\n3,1,30\n4,0,40\n5,2,50\n";

}  // namespace

TEST(Csv, HeaderNamesTheLabelColumn) {
  TempDir t;
  write_text(t.file("five.csv"), kFive);
  const auto s = load_data("csv:" + t.file("five.csv"), 1);
  EXPECT_EQ(s.name, "five");
  EXPECT_EQ(s.train.rows, 4u);
  EXPECT_EQ(s.test.rows, 1u);
  EXPECT_EQ(s.train.features, 2u);
  EXPECT_EQ(s.train.num_classes, 4);
  EXPECT_TRUE(s.train.pixels.empty());
  EXPECT_EQ(s.train.scaling.scale, 1.0f);
  EXPECT_EQ(s.train.scaling.shift, 0.0f);
  const std::vector<std::pair<int, std::vector<float>>> expected = {
      {0, {1, 10}}, {0, {4, 40}}, {1, {3, 30}}, {2, {5, 50}}, {3, {2, 20}}};
  EXPECT_EQ(all_rows(s), expected);
}

TEST(Csv, WithoutHeaderTheFirstColumnIsTheLabel) {
  TempDir t;
  // CRLF line ends, a byte-order mark, blank lines, spaces and a '+' sign are all tolerated.
  write_text(t.file("n.csv"), "\xEF\xBB\xBF" "1, 0.5,+2\r\n0,1.5,3e1\r\n\r\n1,2,-1\n0,3,4\n1,4,5\n\n");
  const auto s = load_data("csv:" + t.file("n.csv"), 7);
  EXPECT_EQ(s.train.rows + s.test.rows, 5u);
  EXPECT_EQ(s.train.num_classes, 2);
  const std::vector<std::pair<int, std::vector<float>>> expected = {
      {0, {1.5f, 30}}, {0, {3, 4}}, {1, {0.5f, 2}}, {1, {2, -1}}, {1, {4, 5}}};
  EXPECT_EQ(all_rows(s), expected);
}

// The first row is a header when it names its columns: no numbers, or a column named "label"
// (numbered feature columns). One that mixes text and numbers otherwise is an error, since taking
// it as a header would drop a data row with a typo without a word.
TEST(Csv, AFirstRowIsAHeaderOnlyWhenItNamesTheColumns) {
  TempDir t;
  const std::string rows = "1,10,100\n0,20,200\n1,30,300\n0,40,400\n1,50,500\n";
  write_text(t.file("numbered.csv"), "0,label,1\n10,1,100\n20,0,200\n30,1,300\n40,0,400\n50,1,500\n");
  const auto numbered = load_data("csv:" + t.file("numbered.csv"), 1);
  EXPECT_EQ(numbered.train.rows + numbered.test.rows, 5u);
  EXPECT_EQ(numbered.train.num_classes, 2);

  write_text(t.file("typo.csv"), "1,1O,100\n" + rows);  // a letter O in the first data row
  EXPECT_TRUE(throws_with([&] { load_data("csv:" + t.file("typo.csv"), 1); },
                          t.file("typo.csv") + ": line 1, column 2: '1O' is not a number", "header"));
  write_text(t.file("named.csv"), "y,0,1\n" + rows);  // numbered columns without a 'label' column
  EXPECT_TRUE(throws_with([&] { load_data("csv:" + t.file("named.csv"), 1); },
                          t.file("named.csv") + ": line 1, column 1: 'y'", "'label'"));

  write_text(t.file("unnamed.csv"), ",a,b\n" + rows);  // pandas' unnamed index column
  EXPECT_EQ(load_data("csv:" + t.file("unnamed.csv"), 1).train.features, 2u);
  write_text(t.file("words.csv"), "class,nan,Infinity\n" + rows);  // words that parse as non-finite numbers
  EXPECT_EQ(load_data("csv:" + t.file("words.csv"), 1).train.features, 2u);
  write_text(t.file("nan_row.csv"), "1,nan,100\n" + rows);  // a data row, refused for its value
  EXPECT_TRUE(throws_with([&] { load_data("csv:" + t.file("nan_row.csv"), 1); },
                          t.file("nan_row.csv") + ": line 1, column 2: value 'nan' is not finite", ""));
}

TEST(Csv, SplitIsASeededShuffle) {
  TempDir t;
  std::string text = "label,x\n";
  for (int i = 0; i < 100; ++i) text += std::to_string(i % 3) + "," + std::to_string(i) + "\n";
  write_text(t.file("h.csv"), text);
  const auto a = load_data("csv:" + t.file("h.csv"), 42), b = load_data("csv:" + t.file("h.csv"), 42),
             c = load_data("csv:" + t.file("h.csv"), 43);
  EXPECT_EQ(a.train.rows, 80u);
  EXPECT_EQ(a.test.rows, 20u);
  EXPECT_EQ(a.train.values, b.train.values);
  EXPECT_EQ(a.test.labels, b.test.labels);
  EXPECT_NE(a.train.values, c.train.values);
  EXPECT_EQ(all_rows(a), all_rows(c));  // the same rows, in another order
}

TEST(Csv, RejectsBadContent) {
  TempDir t;
  const std::string p = t.file("bad.csv");
  auto rejects = [&](const std::string& text, const std::string& word) {
    write_text(p, text);
    return throws_with([&] { load_data("csv:" + p, 1); }, p + ":", word);
  };
  const std::string rows = "0,1\n1,2\n0,3\n1,4\n";
  EXPECT_TRUE(rejects("label,x\n0,1\n1,nan\n" + rows, "line 3, column 2: value 'nan' is not finite"));
  EXPECT_TRUE(rejects("0,inf\n" + rows, "not finite"));
  EXPECT_TRUE(rejects("0,1e39\n" + rows, "not finite")) << "beyond float's range";
  EXPECT_TRUE(rejects(rows + "300,1\n", "line 5: label '300' is out of range"));
  EXPECT_TRUE(rejects(rows + "-1,1\n", "out of range"));
  EXPECT_TRUE(rejects(rows + "1.5,1\n", "out of range"));
  EXPECT_TRUE(rejects(rows + "1,2,3\n", "line 5: 3 fields, expected 2"));
  EXPECT_TRUE(rejects(rows + "1,abc\n", "'abc' is not a number"));
  // Control bytes are quoted as \xNN: a NUL cut the message short where it passed through what().
  EXPECT_TRUE(rejects(rows + std::string("1,2\0x\n", 6), "line 5, column 2: '2\\x00x' is not a number"));
  EXPECT_TRUE(rejects("", "empty"));
  EXPECT_TRUE(rejects("\n \n", "empty"));
  EXPECT_TRUE(rejects("label,x\n", "no data rows"));
  EXPECT_TRUE(rejects("label\n0\n", "feature column"));
  EXPECT_TRUE(rejects("0,1\n1,2\n", "too few")) << "fewer than 5 rows cannot be split";
}

TEST(Csv, MissingFileAndDirectory) {
  TempDir t;
  EXPECT_TRUE(throws_with([&] { load_data("csv:" + t.file("no.csv"), 1); }, t.file("no.csv") + ":", "No such file"));
  EXPECT_TRUE(throws_with([&] { load_data("csv:" + t.dir.string(), 1); }, t.dir.string() + ":", "directory"));
}
