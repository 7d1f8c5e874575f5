// The actlab command line: options and dispatch only. Each subcommand runs in its own file.
#include "cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <functional>
#include <fmt/format.h>

namespace {

using namespace actlab::cli;
using Command = std::function<int()>;

void add_train(CLI::App& app, TrainOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("train", "Train a fully connected classifier and save it");
  cmd->add_option("--recipe", o.recipe, "Architecture: seed, or an activation name (relu, elu, gelu, ...)")
      ->capture_default_str();
  cmd->add_option("--model", o.model_spec,
                  "Model SPEC instead of a recipe, e.g. \"linear(256),batchnorm1d,relu,linear(10)\"");
  cmd->add_option("--hidden", o.hidden, "Hidden widths for the recipe")->delimiter(',')->capture_default_str();
  cmd->add_flag("--bn,!--no-bn", o.batchnorm, "BatchNorm after each hidden Linear (recipes)")->capture_default_str();
  cmd->add_option("--data", o.data,
                  "fashion-mnist | mnist:DIR | csv:FILE | npy:X.npy,Y.npy | spirals[:N] | moons | blobs")
      ->capture_default_str();
  cmd->add_option("--epochs", o.epochs, "Passes over the training set")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--batch", o.batch, "Mini-batch size")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--optimizer", o.optimizer, "sgd | adam | adamw")->capture_default_str();
  cmd->add_option("--lr", o.lr, "Peak learning rate (default: sgd 0.05, adam/adamw 0.001)");
  cmd->add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
  cmd->add_flag("--nesterov", o.nesterov, "Nesterov momentum (SGD)");
  cmd->add_option("--weight-decay", o.weight_decay,
                  "Weight decay for Linear layers (default 0; adamw 0.01); never on PReLU slopes or BatchNorm");
  cmd->add_option("--schedule", o.schedule, "cosine | constant learning rate")->capture_default_str();
  cmd->add_option("--loss", o.loss, "cross_entropy | mse | bce (one-hot targets)")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed: same seed, same numbers")->capture_default_str();
  cmd->add_option("--threads", o.threads, "Threads for BLAS and OpenMP (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--out", o.out, "Where to save the model (default runs/RECIPE-seedN)");
  cmd->add_flag("--json", o.json, "Print one JSON object with the results as the last line");
  cmd->add_option("--kernels", o.kernels, "vector (default) | reference: the scalar specification kernels");
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_train(*opts); }; });
}

void add_eval(CLI::App& app, EvalOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("eval", "Loss and accuracy of a saved model on a data set's test split");
  cmd->add_option("--model", o.model_dir, "Model folder (config.json + model.safetensors)")->required();
  cmd->add_option("--data", o.data, "Data source, as for train")->capture_default_str();
  cmd->add_option("--threads", o.threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_flag("--json", o.json, "Print one JSON object as the last line");
  cmd->add_option("--kernels", o.kernels, "vector (default) | reference: the scalar specification kernels");
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_eval(*opts); }; });
}

void add_predict(CLI::App& app, PredictOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("predict", "Run a saved model on float32 inputs (an .npy file)");
  cmd->add_option("--model", o.model_dir, "Model folder")->required();
  cmd->add_option("--input", o.input, "float32 [N, features] .npy, already scaled as config.json says")->required();
  cmd->add_option("--output", o.output, "Where to write the last layer's outputs, float32 [N, classes]")->required();
  cmd->add_option("--threads", o.threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--kernels", o.kernels, "vector (default) | reference: the scalar specification kernels");
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_predict(*opts); }; });
}

void add_apply(CLI::App& app, ApplyOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("apply", "Apply one activation elementwise to an .npy array (and its backward)");
  cmd->add_option("spec", o.spec, "NAME or NAME:key=value,... e.g. leaky_relu:negative_slope=0.2")->required();
  cmd->add_option("--input", o.input, "float32 .npy array X of any shape")->required();
  cmd->add_option("--output", o.output, "Where to write Y = f(X)")->required();
  cmd->add_option("--grad-output", o.grad_output, "float32 .npy DY, X's shape: computes DX = DY * f'(X)");
  cmd->add_option("--grad-input", o.grad_input, "Where to write DX (needs --grad-output)");
  cmd->add_option("--param-grad", o.param_grad, "Where to write the learnable parameter's gradient (prelu)");
  cmd->add_option("--kernels", o.kernels, "vector (default) | reference: the scalar specification kernels");
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_apply(*opts); }; });
}

void add_bench(CLI::App& app, BenchCliOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("bench", "Measure kernels against the memory roof, BatchNorm, and a training step");
  cmd->add_flag("--json", o.json, "Print one JSON object");
  cmd->add_flag("--quick", o.quick, "Small sizes and short timings (a smoke run)");
  cmd->add_flag("!--no-reference", o.reference, "Skip the scalar reference baseline");
  cmd->add_option("--activations", o.activations, "Only these activations (specs)")->delimiter(' ');
  cmd->add_option("--threads", o.threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_bench(*opts); }; });
}

// The --kernels value of whichever subcommand ran (at most one is non-empty).
std::string kernels_of(const TrainOptions& t, const EvalOptions& e, const PredictOptions& p, const ApplyOptions& a) {
  for (const std::string* k : {&t.kernels, &e.kernels, &p.kernels, &a.kernels})
    if (!k->empty()) return *k;
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"actlab: activation functions and batch normalization, trained and measured"};
  app.set_version_flag("--version", std::string("actlab ") + ACTLAB_VERSION_STRING);
  app.require_subcommand(1);
  TrainOptions train;
  EvalOptions eval;
  PredictOptions predict;
  ApplyOptions apply;
  ListOptions list;
  BenchCliOptions bench;
  Command command;
  add_train(app, train, command);
  add_eval(app, eval, command);
  add_predict(app, predict, command);
  add_apply(app, apply, command);
  add_bench(app, bench, command);
  auto* list_cmd = app.add_subcommand("list", "The activation table: parameters, formulas, derivatives, gains");
  list_cmd->add_flag("--json", list.json, "As JSON");
  list_cmd->callback([&] { command = [&list] { return run_list(list); }; });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    set_kernels(kernels_of(train, eval, predict, apply));
    return command();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "actlab: error: {}\n", e.what());
    return 1;
  }
}
