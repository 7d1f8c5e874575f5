#include "nn/layer_args.hpp"

#include "kernels/parse_number.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <stdexcept>

namespace actlab {
namespace {

struct ArgReader {
  const std::vector<LayerArg>& args;
  const std::string& where;
  std::vector<bool> used = std::vector<bool>(args.size(), false);

  const LayerArg* find(std::string_view key, bool positional_ok) {
    for (std::size_t i = 0; i < args.size(); ++i)
      if (args[i].key == key || (positional_ok && args[i].key.empty())) {
        used[i] = true;
        return &args[i];
      }
    return nullptr;
  }
  double number(std::string_view key, double fallback, bool positional_ok = false) {
    const LayerArg* a = find(key, positional_ok);
    return a ? parse_finite_double(a->value, fmt::format("{}: {}", where, key)) : fallback;
  }
  std::size_t count(std::string_view key, std::size_t fallback, bool positional_ok = false) {
    const LayerArg* a = find(key, positional_ok);
    if (!a) return fallback;
    return std::size_t(parse_integer(a->value, fmt::format("{}: {}", where, key), 1, 1 << 24));
  }
  void finish(const std::string& type) {
    for (std::size_t i = 0; i < args.size(); ++i)
      if (!used[i])
        throw std::invalid_argument(fmt::format("{}: {} does not take '{}'", where, type,
                                                args[i].key.empty() ? args[i].value : args[i].key));
  }
};

void expect(bool ok, const std::string& where, const std::string& what) {
  if (!ok) throw std::invalid_argument(fmt::format("{}: {}", where, what));
}

std::string number_text(float v) { return fmt::format("{}", v); }

// Adds a layer's parameter count to the model's, refusing a total above max_model_parameters.
// Widths are at most 2^24, so one layer's count cannot overflow.
void add_parameters(std::size_t* total, std::size_t count, const std::string& where) {
  const std::size_t before = total ? *total : 0;
  if (count > max_model_parameters - std::min(before, max_model_parameters))
    throw std::invalid_argument(fmt::format("{}: the model would store {} parameters, more than the limit of {}",
                                            where, before + count, max_model_parameters));
  if (total) *total = before + count;
}

// The layers store float32: a value that is finite as a double may not be as a float.
float to_float(double v, const std::string& where, std::string_view key) {
  if (!(std::abs(v) <= double(FLT_MAX)))
    throw std::invalid_argument(fmt::format("{}: {}={} is beyond float32's range", where, key, v));
  return static_cast<float>(v);
}

}  // namespace

Layer make_layer(const std::string& type, const std::vector<LayerArg>& args, std::size_t width,
                 const std::string& where, std::size_t* parameters) {
  for (std::size_t i = 0; i < args.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      expect(args[i].key.empty() || args[i].key != args[j].key, where,
             fmt::format("'{}' is given twice", args[i].key));
  ArgReader in{args, where};
  Layer layer;
  if (type == "linear") {
    const std::size_t declared_in = in.count("in_features", width);
    expect(declared_in == width, where,
           fmt::format("linear in_features={} but its input has {} features", declared_in, width));
    const std::size_t out = in.count("out_features", 0, true);
    expect(out > 0, where, "linear needs out_features, e.g. linear(256)");
    add_parameters(parameters, width * out + out, where);
    layer = Linear(width, out);
  } else if (type == "batchnorm1d") {
    const std::size_t n = in.count("num_features", width);
    expect(n == width, where, fmt::format("batchnorm1d num_features={} but its input has {} features", n, width));
    const double eps = in.number("eps", 1e-5), momentum = in.number("momentum", 0.1);
    const float eps_f = to_float(eps, where, "eps");
    expect(eps_f > 0, where, fmt::format("batchnorm1d eps must be > 0 as a float32 (got {})", eps));
    expect(momentum >= 0 && momentum <= 1, where, "batchnorm1d momentum must be in [0, 1]");
    add_parameters(parameters, 4 * width, where);
    layer = BatchNorm1d(width, eps_f, float(momentum));
  } else if (type == "prelu") {
    const std::size_t n = in.count("num_parameters", 1);
    expect(n == 1 || n == width, where,
           fmt::format("prelu num_parameters={} but its input has {} features (use 1 or {})", n, width, width));
    const float init = to_float(in.number("init", 0.25), where, "init");
    add_parameters(parameters, n, where);
    layer = PReLU(n, init);
  } else if (type == "dropout") {
    const double p = in.number("p", 0.5);
    expect(p >= 0 && float(p) < 1, where, fmt::format("dropout p={} is not in [0, 1) (as a float32)", p));
    layer = Dropout(float(p));
  } else {
    if (!find_activation(type))
      throw std::invalid_argument(fmt::format(
          "{}: unknown layer type '{}' (linear, batchnorm1d, prelu, dropout, or an activation from `actlab list`)",
          where, type));
    Activation act = make_activation(type);
    for (std::size_t i = 0; i < args.size(); ++i) {
      expect(!args[i].key.empty(), where, fmt::format("{} needs key=value arguments", type));
      try {
        set_activation_param(act, args[i].key, args[i].value);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("{}: {}", where, e.what()));
      }
      in.used[i] = true;
    }
    try {
      validate_activation(act);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("{}: {}", where, e.what()));
    }
    layer = ActivationLayer(act);
  }
  in.finish(type);
  return layer;
}

std::vector<LayerArg> layer_args(const Layer& layer) {
  struct Args {
    std::vector<LayerArg> operator()(const Linear& l) const {
      return {{"in_features", std::to_string(l.in_features)}, {"out_features", std::to_string(l.out_features)}};
    }
    std::vector<LayerArg> operator()(const BatchNorm1d& b) const {
      return {{"num_features", std::to_string(b.num_features)},
              {"eps", number_text(b.eps)},
              {"momentum", number_text(b.momentum)}};
    }
    std::vector<LayerArg> operator()(const PReLU& p) const {
      return {{"num_parameters", std::to_string(p.num_parameters)}};
    }
    std::vector<LayerArg> operator()(const Dropout& d) const { return {{"p", number_text(d.p)}}; }
    std::vector<LayerArg> operator()(const ActivationLayer& a) const {
      validate_activation(a.act);  // params are public: a choice index may have been set out of range
      std::vector<LayerArg> out;
      const auto& params = a.act.info->params;
      for (std::size_t i = 0; i < params.size(); ++i) {
        if (!params[i].choices.empty())
          out.push_back({params[i].name, std::string(params[i].choices[std::size_t(a.act.params[i])]), true});
        else
          out.push_back({params[i].name, fmt::format("{}", a.act.params[i])});
      }
      return out;
    }
  };
  return std::visit(Args{}, layer);
}

}  // namespace actlab
