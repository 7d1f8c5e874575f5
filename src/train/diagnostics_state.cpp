// Diagnostics' accumulators as checkpoint text: JSON whose arrays and sums are hex strings of their
// bytes, so that they come back bit for bit (JSON numbers cannot hold the -inf that an unseen
// unit's maximum starts at, and decimal text would round the doubles' sums).
#include "actlab/diagnostics.hpp"
#include "io/hex.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <span>
#include <stdexcept>
#include <type_traits>

namespace actlab {
namespace {

template <class T>
std::string hex_of(const std::vector<T>& values) {
  static_assert(std::is_trivially_copyable_v<T>);
  return io_detail::hex_text(std::as_bytes(std::span(values)));
}

// The values in `text` (as hex_of wrote them); exactly `count` of them, or an error naming `what`.
template <class T>
std::vector<T> values_of(const nlohmann::json& text, std::size_t count, const char* what) {
  std::vector<T> out(count);
  if (!text.is_string() ||
      !io_detail::from_hex(text.get_ref<const std::string&>(), std::as_writable_bytes(std::span(out))))
    throw std::runtime_error(fmt::format("'{}' does not hold {} values", what, count));
  return out;
}

}  // namespace

std::string Diagnostics::state() const {
  nlohmann::json j;
  j["watched"] = watched_;
  j["layers"] = nlohmann::json::array();
  for (const UnitStats& s : stats_)
    j["layers"].push_back({{"max_input", hex_of(s.max_input)},
                           {"max_derivative", hex_of(s.max_derivative)},
                           {"saturated", hex_of(s.saturated)},
                           {"sums", hex_of(std::vector<double>{s.sum_x, s.sum_xx, s.sum_y, s.sum_yy, s.count,
                                                               s.grad_ss, s.grad_count})}});
  j["weight_grad_ss"] = hex_of(weight_grad_ss_);
  j["samples"] = samples_;
  j["rows_seen"] = rows_seen_;
  j["sample_backward"] = sample_backward_;
  j["dead_since"] = dead_since_;
  return j.dump();
}

void Diagnostics::restore_state(std::string_view text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("watched").get<std::vector<std::size_t>>() != watched_ || j.at("layers").size() != stats_.size() ||
        j.at("dead_since").size() != dead_since_.size())
      throw std::runtime_error("its layers are not this model's");
    std::vector<UnitStats> stats = stats_;
    for (std::size_t k = 0; k < stats.size(); ++k) {
      const auto& l = j.at("layers").at(k);
      const std::size_t units = stats[k].max_input.size();
      stats[k].max_input = values_of<float>(l.at("max_input"), units, "max_input");
      stats[k].max_derivative = values_of<float>(l.at("max_derivative"), units, "max_derivative");
      stats[k].saturated = values_of<std::uint32_t>(l.at("saturated"), units, "saturated");
      const auto sums = values_of<double>(l.at("sums"), 7, "sums");
      UnitStats& s = stats[k];
      s.sum_x = sums[0], s.sum_xx = sums[1], s.sum_y = sums[2], s.sum_yy = sums[3], s.count = sums[4];
      s.grad_ss = sums[5], s.grad_count = sums[6];
    }
    auto weight_grad_ss = values_of<double>(j.at("weight_grad_ss"), weight_grad_ss_.size(), "weight_grad_ss");
    const auto samples = j.at("samples").get<std::size_t>(), rows_seen = j.at("rows_seen").get<std::size_t>();
    const bool sample_backward = j.at("sample_backward").get<bool>();
    auto dead_since = j.at("dead_since").get<std::vector<int>>();
    // Everything is read and checked before anything changes.
    samples_ = samples;
    rows_seen_ = rows_seen;
    sample_backward_ = sample_backward;
    dead_since_ = std::move(dead_since);
    stats_ = std::move(stats);
    weight_grad_ss_ = std::move(weight_grad_ss);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("diagnostics record does not fit this model ({})", e.what()));
  }
}

}  // namespace actlab
