// Helpers for the io tests: a private temporary folder, raw file writers, and an error-message matcher.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace actlab::test {

// A fresh folder under the system temp dir, removed with everything in it at the end of the test.
struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = std::filesystem::temp_directory_path() /
          ("actlab_io_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
           (info ? info->name() : "x"));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!f) throw std::runtime_error("test: cannot write " + path);
}

inline void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<std::uint8_t>(text.begin(), text.end()));
}

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(f), {});
}

inline void write_gz(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  if (!gz) throw std::runtime_error("test: gzopen failed for " + path);
  if (!bytes.empty() && gzwrite(gz, bytes.data(), unsigned(bytes.size())) != int(bytes.size()))
    throw std::runtime_error("test: gzwrite failed for " + path);
  gzclose(gz);
}

// Passes when f() throws E whose message starts with `prefix` (the file path) and contains `word`.
template <typename E = std::runtime_error, typename F>
::testing::AssertionResult throws_with(F&& f, const std::string& prefix, const std::string& word) {
  try {
    f();
  } catch (const std::exception& e) {  // one handler, so that E may be std::exception itself
    if (!dynamic_cast<const E*>(&e)) return ::testing::AssertionFailure() << "wrong exception type: " << e.what();
    const std::string m = e.what();
    if (m.rfind(prefix, 0) == 0 && m.find(word) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message '" << m << "' lacks prefix '" << prefix << "' or word '"
                                         << word << "'";
  }
  return ::testing::AssertionFailure() << "no exception";
}

}  // namespace actlab::test
