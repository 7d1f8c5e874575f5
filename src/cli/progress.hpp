// A one-line progress bar for terminals; plain output otherwise (logs, pipes, CI).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <unistd.h>

#include <fmt/format.h>

namespace actlab::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::FILE* out = stdout) : out_(out), enabled_(isatty(fileno(out)) != 0) {}

  // Redraws at most 100 times a pass; a no-op when the output is not a terminal.
  void update(const std::string& label, std::size_t done, std::size_t total, const std::string& suffix) {
    if (!enabled_ || total == 0) return;
    const std::size_t percent = done * 100 / total;
    if (percent == last_percent_ && done != total) return;
    last_percent_ = percent;
    constexpr std::size_t width = 30;
    const std::size_t filled = done * width / total;
    fmt::print(out_, "\r{} [{}{}] {:3}% {}", label, std::string(filled, '#'), std::string(width - filled, '.'),
               percent, suffix);
    std::fflush(out_);
  }

  // Clears the bar so that the next line starts clean.
  void clear() {
    if (!enabled_ || last_percent_ == npos) return;
    fmt::print(out_, "\r{}\r", std::string(100, ' '));
    last_percent_ = npos;
  }

 private:
  static constexpr std::size_t npos = std::size_t(-1);
  std::FILE* out_;
  bool enabled_;
  std::size_t last_percent_ = npos;
};

}  // namespace actlab::cli
