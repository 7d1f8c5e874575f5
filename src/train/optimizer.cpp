#include "actlab/optimizer.hpp"

#include "actlab/kernels.hpp"
#include "kernels/parallel_policy.hpp"
#include "kernels/update_kernels.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <fmt/format.h>
#include <omp.h>
#include <stdexcept>

namespace actlab {
namespace {

// Values per piece of a parameter's update: pieces are what the threads share out, from a model of
// Optimizer::shared_update_values parameters (smaller ones finish their update in a few microseconds).
// The first layer's weights of the seed recipe (200K values) are read and written from the last-level
// cache: two cores move them in about half the time.
constexpr std::size_t update_piece = 16384;

// Pieces [front, back) of one thread's share, claimed one at a time: by the owner from the front,
// by other threads, once their own share is done, from the back. Both ends in one word, so a claim
// is one compare-and-swap; on its own cache line, so that claims on one share do not slow another.
struct alignas(64) ShareClaims {
  std::atomic<std::uint64_t> ends{0};
  void reset(std::uint32_t front, std::uint32_t back) { ends.store(pack(front, back), std::memory_order_relaxed); }
  static std::uint64_t pack(std::uint32_t front, std::uint32_t back) { return std::uint64_t(back) << 32 | front; }
  // The next piece from the front (or the back); false once the share is used up.
  bool claim(bool from_back, std::uint32_t& piece) {
    std::uint64_t old = ends.load(std::memory_order_relaxed);
    for (;;) {
      const auto front = std::uint32_t(old), back = std::uint32_t(old >> 32);
      if (front >= back) return false;
      piece = from_back ? back - 1 : front;
      const std::uint64_t next = from_back ? pack(front, back - 1) : pack(front + 1, back);
      if (ends.compare_exchange_weak(old, next, std::memory_order_relaxed)) return true;
    }
  }
};

}  // namespace

Optimizer::Optimizer(const OptimizerConfig& config, std::vector<ParamRef> params)
    : config_(config), params_(std::move(params)) {
  const auto& c = config_;
  if (c.kind != "sgd" && c.kind != "adam" && c.kind != "adamw")
    throw std::invalid_argument(fmt::format("optimizer '{}' is not one of: sgd, adam, adamw", c.kind));
  if (!(c.lr > 0 && std::isfinite(c.lr)))
    throw std::invalid_argument(fmt::format("lr={} must be a finite number > 0", c.lr));
  if (!(c.momentum >= 0 && c.momentum < 1))
    throw std::invalid_argument(fmt::format("momentum={} must be in [0, 1)", c.momentum));
  if (c.nesterov && c.momentum == 0) throw std::invalid_argument("nesterov needs momentum > 0");
  if (!(c.weight_decay >= 0 && std::isfinite(c.weight_decay)))
    throw std::invalid_argument(fmt::format("weight_decay={} must be a finite number >= 0", c.weight_decay));
  if (!(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1 && c.eps > 0))
    throw std::invalid_argument("adam: betas must be in [0, 1) and eps > 0");
  for (std::size_t k = 0; k < params_.size(); ++k) {
    const std::size_t n = params_[k].value.size();
    if (params_[k].grad.size() != n)
      throw std::invalid_argument(fmt::format("parameter '{}' has {} values but {} gradients", params_[k].name, n,
                                              params_[k].grad.size()));
    first_.emplace_back(n, 0.0f);
    second_.emplace_back(c.kind == "sgd" ? 0 : n, 0.0f);
    total_values_ += n;
    for (std::size_t begin = 0; begin < n; begin += update_piece)
      pieces_.push_back({k, begin, std::min(update_piece, n - begin), true});
  }
}

bool Optimizer::update(std::size_t k, std::size_t begin, std::size_t count, double lr) {
  const auto& c = config_;
  ParamRef& p = params_[k];
  const bool vector = kernel_mode() == KernelMode::vector;
  const float wd = p.weight_decay ? float(c.weight_decay) : 0.0f;
  float* const value = p.value.data() + begin;
  const float* const grad = p.grad.data() + begin;
  float* const first = first_[k].data() + begin;
  if (c.kind == "sgd") {
    const SgdStep s{float(lr), float(c.momentum), wd, c.nesterov, steps_ == 1};
    return (vector ? vector_sgd_update : reference_sgd_update)(value, grad, first, count, s);
  }
  const double t = double(steps_);
  const AdamStep s{wd,
                   c.kind == "adamw",
                   float(c.beta1),
                   float(c.beta2),
                   float(c.eps),
                   float(lr / (1.0 - std::pow(c.beta1, t))),
                   float(1.0 / std::sqrt(1.0 - std::pow(c.beta2, t))),
                   float(1.0 - lr * wd)};
  return (vector ? vector_adam_update : reference_adam_update)(value, grad, first, second_[k].data() + begin, count,
                                                               s);
}

const ParamRef* Optimizer::step(double lr, std::span<const std::function<void()>> alongside) {
  ++steps_;
  const auto update_one = [&](Piece& piece) { piece.finite = update(piece.param, piece.begin, piece.count, lr); };
  if (!worth_parallel(double(total_values_), double(shared_update_values))) {
    for (Piece& piece : pieces_) update_one(piece);
    for (const auto& task : alongside) task();
  } else {
    // Each thread owns the same contiguous share of the pieces every step, so that the weights
    // and optimizer state it updates stay in its own core's cache from one step to the next. With
    // the pieces handed out as they came free instead, they moved between cores: on a VM whose two
    // cores read each other's caches at a third of the speed of their own, the seed recipe's
    // update took 1.4-1.8x as long. The last threads run the side tasks first; the others, done
    // with their shares, take the rest of those shares from the back. Updates are elementwise, so
    // any sharing gives the same bits.
    //
    // The shares, about equal in values, are set before the team starts (which publishes them);
    // should the team come out smaller than asked, the shares without an owner are taken by the
    // others as help.
    std::array<ShareClaims, kMaxShares> claims;
    const std::size_t shares = std::min(std::size_t(omp_get_max_threads()), kMaxShares);
    std::size_t next = 0, values = 0;  // the first piece not yet in a share; the values before it
    for (std::size_t share = 0; share < shares; ++share) {
      const std::size_t start = next;
      if (share + 1 == shares) next = pieces_.size();
      // Up to the piece whose middle reaches this share's end in values.
      const std::size_t target = total_values_ * (share + 1) / shares;
      while (next < pieces_.size() && values + pieces_[next].count / 2 < target) values += pieces_[next++].count;
      claims[share].reset(std::uint32_t(start), std::uint32_t(next));
    }
    std::exception_ptr failure;
#pragma omp parallel
    {
      const auto threads = std::size_t(omp_get_num_threads()), t = std::size_t(omp_get_thread_num());
      for (std::size_t task = threads - 1 - t; task < alongside.size(); task += threads) {
        try {
          alongside[task]();
        } catch (...) {
#pragma omp critical(actlab_optimizer_failure)
          if (!failure) failure = std::current_exception();
        }
      }
      std::uint32_t piece = 0;
      if (t < shares)
        while (claims[t].claim(false, piece)) update_one(pieces_[piece]);
      for (std::size_t k = 1; k <= shares; ++k)
        while (claims[(t + k) % shares].claim(true, piece)) update_one(pieces_[piece]);
    }
    if (failure) std::rethrow_exception(failure);
  }
  for (const Piece& piece : pieces_)
    if (!piece.finite) return &params_[piece.param];
  return nullptr;
}

std::vector<std::pair<std::string, std::vector<float>*>> Optimizer::state_buffers() {
  std::vector<std::pair<std::string, std::vector<float>*>> out;
  const bool sgd = config_.kind == "sgd";
  for (std::size_t k = 0; k < params_.size(); ++k) {
    out.emplace_back(params_[k].name + (sgd ? ".momentum_buffer" : ".exp_avg"), &first_[k]);
    if (!sgd) out.emplace_back(params_[k].name + ".exp_avg_sq", &second_[k]);
  }
  return out;
}

}  // namespace actlab
