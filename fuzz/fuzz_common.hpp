// Shared by the fuzz targets: a per-process scratch folder, and the oracle every target applies to
// what a reader or parser throws.
//
// The contract under test (DESIGN.md, "Every file it reads is validated"): bad input throws
// std::runtime_error or std::invalid_argument with a non-empty message that, for a file reader, starts
// with the file's path. Anything else (another exception type, a crash, a sanitizer report, an
// allocation above -malloc_limit_mb) is a finding: the harness aborts so that libFuzzer saves the input.
// Messages quote the offending text verbatim, so they may hold a line break that the input held (the
// CLI escapes control characters when it prints the one line); a line break the library made up is
// a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>

#include <unistd.h>

namespace actlab::fuzz {

// A folder private to this process, on tmpfs when there is one (write_file_atomic fsyncs), removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
                        ? fs::path("/dev/shm")
                        : fs::temp_directory_path();
    fs::path d = base / ("actlab_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    std::atexit([] {
      std::error_code e;
      fs::remove_all(scratch_dir(), e);
    });
    return d;
  }();
  return dir;
}

inline std::string scratch_file(const std::string& name) { return (scratch_dir() / name).string(); }

inline void write_input(const std::string& path, const void* data, std::size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), std::streamsize(size));
  f.close();
  if (!f) {
    std::fprintf(stderr, "fuzz harness: cannot write %s\n", path.c_str());
    std::abort();
  }
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==== actlab fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// The input of the current run, set by set_input: a line break in a message must come from it.
inline std::string_view& current_input() {
  static std::string_view input;
  return input;
}
inline void set_input(const std::uint8_t* data, std::size_t size) {
  current_input() = std::string_view(reinterpret_cast<const char*>(data), size);
}

// Checks a caught error's message: non-empty, no line break the input did not hold, starting with
// `prefix` (the file path) if given.
inline void check_message(const std::exception& e, std::string_view prefix) {
  const std::string_view msg = e.what();
  if (msg.empty()) finding("empty error message");
  // (a backslash may be a JSON escape that decodes to a line break)
  const bool input_breaks = current_input().find_first_of("\n\r\\") != std::string_view::npos;
  if (!input_breaks && msg.find_first_of("\n\r") != std::string_view::npos)
    finding("error message spans several lines: " + std::string(msg));
  if (!prefix.empty() && !msg.starts_with(prefix))
    finding("error message does not start with the path '" + std::string(prefix) + "': " + std::string(msg));
}

// Runs f(); returns true when it succeeded, false when it threw an accepted error.
template <class F>
bool expect_clean(F&& f, std::string_view prefix = {}) {
  try {
    f();
    return true;
  } catch (const std::invalid_argument& e) {
    check_message(e, prefix);
  } catch (const std::runtime_error& e) {
    check_message(e, prefix);
  } catch (const std::exception& e) {
    finding(std::string("unexpected exception type ") + typeid(e).name() + ": " + e.what());
  } catch (...) {
    finding("a non-std exception escaped");
  }
  return false;
}

}  // namespace actlab::fuzz
