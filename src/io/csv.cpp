// Numeric CSV data sets: one row per sample, one column of class labels, the rest features.
#include "actlab/file_io.hpp"
#include "io/io_internal.hpp"
#include "io/printable.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace actlab::io_detail {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits one line at commas into trimmed fields; surrounding double quotes (header names) are dropped.
void split_fields(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  for (;;) {
    const std::size_t comma = line.find(',');
    std::string_view f = trim(line.substr(0, comma));
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
    fields.push_back(f);
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
  }
}

// The whole field must be a number; from_chars also accepts "nan" and "inf", which callers reject.
bool parse_double(std::string_view s, double& v) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc{} && ptr == s.data() + s.size();
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

Dataset read_csv_dataset(const std::string& path) {
  const std::vector<std::byte> bytes = read_file(path);
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte-order mark, as Excel writes
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw std::runtime_error(fmt::format("{}: file is empty", path));

  Dataset ds;
  std::vector<std::string_view> fields;
  std::size_t columns = 0, label_col = 0, line_no = 0;
  bool first = true;
  std::int32_t max_label = -1;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;  // blank lines, including the usual one at the end
    split_fields(line, fields);

    if (first) {
      first = false;
      columns = fields.size();
      if (columns < 2)
        throw std::runtime_error(
            fmt::format("{}: line {}: need a label column and at least one feature column", path, line_no));
      // A header names its columns: no cell is a finite number ("nan", "Infinity" are names too), or
      // one is named "label" (numbered feature columns, "label,0,1,..."). A first row that mixes
      // numbers and text otherwise is refused, not guessed at: taken as a header, a data row with a
      // typo would vanish without a word.
      double v;
      const auto text_cell = std::find_if(fields.begin(), fields.end(),
                                          [&](std::string_view f) { return !parse_double(f, v); });
      const auto label_name = std::find_if(fields.begin(), fields.end(),
                                           [](std::string_view f) { return iequals(f, "label"); });
      const bool all_text = std::none_of(fields.begin(), fields.end(),
                                         [&](std::string_view f) { return parse_double(f, v) && std::isfinite(v); });
      if (all_text || label_name != fields.end()) {
        label_col = label_name == fields.end() ? 0 : std::size_t(label_name - fields.begin());
        continue;
      }
      if (text_cell != fields.end())
        throw std::runtime_error(fmt::format(
            "{}: line {}, column {}: '{}' is not a number, but other cells of this first row are (a header "
            "names every column, or has one named 'label'; a data row is all numbers)",
            path, line_no, std::size_t(text_cell - fields.begin()) + 1, printable(*text_cell)));
    }
    if (fields.size() != columns)
      throw std::runtime_error(
          fmt::format("{}: line {}: {} fields, expected {} as in the first row", path, line_no, fields.size(),
                      columns));
    for (std::size_t c = 0; c < columns; ++c) {
      double v = 0.0;
      if (!parse_double(fields[c], v))
        throw std::runtime_error(
            fmt::format("{}: line {}, column {}: '{}' is not a number", path, line_no, c + 1, printable(fields[c])));
      if (c == label_col) {
        if (!(v >= 0.0 && v <= 255.0 && v == std::floor(v)))
          throw std::runtime_error(fmt::format("{}: line {}: label '{}' is out of range (class index in [0, 255])",
                                               path, line_no, printable(fields[c])));
        ds.labels.push_back(std::int32_t(v));
        max_label = std::max(max_label, ds.labels.back());
        continue;
      }
      const auto f = static_cast<float>(v);
      if (!std::isfinite(f))  // NaN, inf, or beyond float's range
        throw std::runtime_error(fmt::format("{}: line {}, column {}: value '{}' is not finite", path, line_no,
                                             c + 1, printable(fields[c])));
      ds.values.push_back(f);
    }
  }
  if (ds.labels.empty()) throw std::runtime_error(fmt::format("{}: no data rows", path));
  ds.rows = ds.labels.size();
  ds.features = columns - 1;
  ds.num_classes = max_label + 1;
  return ds;
}

}  // namespace actlab::io_detail
