// actlab apply: one activation elementwise over an .npy array, and optionally its backward.
#include "actlab/activation.hpp"
#include "actlab/npy.hpp"
#include "cli/commands.hpp"

#include <fmt/format.h>
#include <stdexcept>

namespace actlab::cli {

int run_apply(const ApplyOptions& o) {
  const Activation act = parse_activation(o.spec);  // rrelu applies its evaluation-mode mean slope
  if (o.grad_output.empty() != o.grad_input.empty())
    throw std::invalid_argument("--grad-output and --grad-input go together");
  if (!o.param_grad.empty() && o.grad_output.empty())
    throw std::invalid_argument("--param-grad needs --grad-output (the gradient flowing into the activation)");
  if (!o.param_grad.empty() && !act.info->learnable)
    throw std::invalid_argument(fmt::format("--param-grad: '{}' has no learnable parameter", act.name()));

  const NpyArray x = read_npy(o.input);
  std::vector<float> y(x.data.size());
  activation_forward(act, y, x.data);

  std::vector<float> dx;
  double dparam = 0.0;
  if (!o.grad_output.empty()) {
    const NpyArray dy = read_npy(o.grad_output);
    if (dy.shape != x.shape)
      throw std::runtime_error(fmt::format("{}: shape [{}] differs from the input's [{}]", o.grad_output,
                                           fmt::join(dy.shape, ", "), fmt::join(x.shape, ", ")));
    dx.resize(x.data.size());
    activation_backward(act, dx, dy.data, x.data, y);
    if (!o.param_grad.empty()) dparam = activation_param_grad(act, dy.data, x.data);
  }
  // Outputs are written only after everything was computed: an error leaves no partial set of files.
  write_npy(o.output, y, x.shape);
  if (!dx.empty()) write_npy(o.grad_input, dx, x.shape);
  if (!o.param_grad.empty()) {
    const float d = float(dparam);
    const std::size_t one = 1;
    write_npy(o.param_grad, std::span(&d, 1), std::span(&one, 1));
  }
  return 0;
}

}  // namespace actlab::cli
