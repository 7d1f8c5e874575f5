// The actlab command line: options and dispatch only. Each subcommand runs in its own file.
#include "actlab/version.hpp"
#include "cli/commands.hpp"
#include "io/printable.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <functional>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace {

using namespace actlab::cli;
using Command = std::function<int()>;

// Unsigned options: digits only, within 0..2^64-1. CLI11 reads "-1" into an unsigned as 2^64-1 and
// clamps values past 2^64 without a word.
const CLI::Validator whole_number(
    [](std::string& text) -> std::string {
      std::uint64_t value = 0;
      const char* end = text.data() + text.size();
      const auto [stop, error] = std::from_chars(text.data(), end, value);
      if (text.empty() || error != std::errc() || stop != end)
        return fmt::format("'{}' is not a whole number from 0 to 18446744073709551615", text);
      return "";
    },
    "N");

// Values that cannot be empty: an empty --lr or --out read as "not given" and fell back to the default.
const CLI::Validator not_empty(
    [](std::string& text) { return text.empty() ? std::string("the value is empty") : std::string(); }, "");

void add_train(CLI::App& app, TrainOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("train", "Train a fully connected classifier and save it");
  cmd->add_option("--recipe", o.recipe, "Architecture: seed, or an activation name (relu, elu, gelu, ...)")
      ->capture_default_str();
  cmd->add_option("--model", o.model_spec,
                  "Model SPEC instead of a recipe, e.g. \"linear(256),batchnorm1d,relu,linear(10)\"")
      ->check(not_empty);
  cmd->add_option("--hidden", o.hidden, "Hidden widths for the recipe")
      ->delimiter(',')
      ->capture_default_str()
      ->check(whole_number);
  cmd->add_flag("--bn,!--no-bn", o.batchnorm, "BatchNorm after each hidden Linear (recipes)")->capture_default_str();
  cmd->add_option("--data", o.data,
                  "fashion-mnist | mnist:DIR | csv:FILE | npy:X.npy,Y.npy | spirals[:N] | moons | blobs")
      ->capture_default_str();
  cmd->add_option("--epochs", o.epochs, "Passes over the training set")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--batch", o.batch, "Mini-batch size")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--optimizer", o.optimizer, "sgd | adam | adamw")->capture_default_str();
  cmd->add_option("--lr", o.lr, "Peak learning rate (default: sgd 0.05, adam/adamw 0.001)")->check(not_empty);
  cmd->add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
  cmd->add_flag("--nesterov", o.nesterov, "Nesterov momentum (SGD)");
  cmd->add_option("--weight-decay", o.weight_decay,
                  "Weight decay for Linear layers (default 0; adamw 0.01); never on PReLU slopes or BatchNorm")
      ->check(not_empty);
  cmd->add_option("--schedule", o.schedule, "cosine | constant learning rate")->capture_default_str();
  cmd->add_option("--loss", o.loss, "cross_entropy | mse | bce (one-hot targets)")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed: same seed, same numbers")->capture_default_str()->check(whole_number);
  cmd->add_option("--threads", o.threads, "Threads for BLAS and OpenMP (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--out", o.out, "Where to save the model (default runs/RECIPE-seedN)")->check(not_empty);
  cmd->add_flag("--json", o.json, "Print one JSON object with the results as the last line");
  cmd->add_option("--checkpoint-every", o.checkpoint_every,
                  "Save OUT/checkpoint.safetensors every N optimizer steps (Ctrl-C always saves one)")
      ->check(whole_number);
  cmd->add_option("--resume", o.resume, "Continue the run in this folder from its checkpoint, bit for bit")
      ->check(not_empty);
  cmd->add_flag("!--no-diagnostics", o.diagnostics,
                "Skip the per-layer health (dead/saturated units, gradient norms) and diagnostics.jsonl");
  cmd->add_option("--kernels", o.kernels, "vector (default) | reference: the scalar specification kernels")
      ->check(not_empty);
  cmd->callback([c = &command, opts = &o, cmd] {
    for (const CLI::Option* option : cmd->get_options())  // by all their names: --bn/--no-bn
      if (option->count() > 0) opts->given.push_back(fmt::format("--{}", fmt::join(option->get_lnames(), "/--")));
    *c = [opts] { return run_train(*opts); };
  });
}

void add_eval(CLI::App& app, EvalOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("eval", "Loss and accuracy of a saved model on a data set's test split");
  cmd->add_option("--model", o.model_dir, "Model folder (config.json + model.safetensors)")->required();
  cmd->add_option("--data", o.data,
                  "Data source, as for train (default: the one the model was trained on, else fashion-mnist)")
      ->check(not_empty);
  cmd->add_option("--seed", o.seed,
                  "The training seed, which picks the test rows of csv/npy data and makes the synthetic sets "
                  "(default: the model's, else 0)")
      ->check(whole_number);
  cmd->add_option("--threads", o.threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_flag("--json", o.json, "Print one JSON object as the last line");
  cmd->add_option("--kernels", o.kernels, "vector (default) | reference: the scalar specification kernels")
      ->check(not_empty);
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_eval(*opts); }; });
}

void add_predict(CLI::App& app, PredictOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("predict", "Run a saved model on float32 inputs (an .npy file)");
  cmd->add_option("--model", o.model_dir, "Model folder")->required();
  cmd->add_option("--input", o.input, "float32 [N, features] .npy, already scaled as config.json says")->required();
  cmd->add_option("--output", o.output, "Where to write the last layer's outputs, float32 [N, classes]")->required();
  cmd->add_option("--threads", o.threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--kernels", o.kernels, "vector (default) | reference: the scalar specification kernels")
      ->check(not_empty);
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
  cmd->add_option("--kernels", o.kernels, "vector (default) | reference: the scalar specification kernels")
      ->check(not_empty);
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

void add_report(CLI::App& app, ReportCliOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("report", "One HTML page with figures (gnuplot) and their CSV data, from a run or compare folder");
  cmd->add_option("dir", o.dir, "A folder written by actlab train --out or actlab compare --out")->required();
  cmd->add_option("--format", o.format, "Figure files: svg | png")->capture_default_str();
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_report(*opts); }; });
}

void add_plot_activations(CLI::App& app, PlotActivationsOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("plot-activations", "Plot f and f' of activations in one figure (gnuplot), data as CSV");
  cmd->add_option("names", o.specs, "Activation specs, e.g. relu elu:alpha=0.5 (default: every one of actlab list)");
  cmd->add_option("--out", o.out, "The figure: FILE.svg or FILE.png (the data goes to FILE.csv)")->capture_default_str();
  cmd->add_option("--range", o.range, "The x range MIN,MAX")->capture_default_str();
  cmd->add_option("--points", o.points, "Grid points over the range")
      ->capture_default_str()
      ->check(whole_number)
      ->check(CLI::Range(2, 1000000));
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_plot_activations(*opts); }; });
}

void add_experiment_options(CLI::App* cmd, ExperimentCliOptions& o) {
  cmd->add_option("--seeds", o.seeds, "Seeds 0..N-1 for each recipe")->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("--epochs", o.epochs, "Epochs per run")->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_option("--depth", o.depth, "A deep variant: this many hidden layers of --width units")->check(CLI::Range(1, 64));
  cmd->add_option("--width", o.width, "Width of the hidden layers with --depth")
      ->capture_default_str()
      ->check(whole_number);
  cmd->add_option("--hidden", o.hidden, "Hidden widths (without --depth)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(whole_number);
  cmd->add_option("--data", o.data, "Data source, as for train")->capture_default_str();
  cmd->add_option("--batch", o.batch, "Mini-batch size")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--optimizer", o.optimizer, "sgd | adam | adamw")->capture_default_str();
  cmd->add_option("--lr", o.lr, "Peak learning rate (default: sgd 0.05, adam/adamw 0.001)")->check(not_empty);
  cmd->add_option("--threads", o.threads, "Threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_flag("!--no-report", o.report, "Skip the HTML report at the end");
}

void add_compare(CLI::App& app, ExperimentCliOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("compare", "Train several recipes with several seeds on the same budget; table + report");
  o.recipes = {"seed", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu", "sigmoid", "tanh"};
  cmd->add_option("--recipes", o.recipes, "Recipes to compare")->delimiter(',')->capture_default_str();
  cmd->add_flag("--bn,!--no-bn", o.batchnorm, "BatchNorm after each hidden Linear")->capture_default_str();
  cmd->add_option("--target", o.target, "Accuracy whose epochs/seconds-to-reach are reported")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) {
            const double v = std::strtod(text.c_str(), nullptr);
            return v > 0 && v <= 1 ? std::string() : fmt::format("'{}' is not an accuracy in (0, 1]", text);
          },
          "(0, 1]"));
  cmd->add_option("--out", o.out, "Output folder (default runs/compare)")->check(not_empty);
  add_experiment_options(cmd, o);
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_compare(*opts); }; });
}

void add_search(CLI::App& app, ExperimentCliOptions& o, Command& command) {
  auto* cmd = app.add_subcommand("search", "Successive halving over per-layer activations and BatchNorm; best vs seed recipe");
  cmd->add_option("--activations", o.recipes, "Activations to choose from (default: relu, leaky_relu, prelu, elu, selu, gelu, silu, tanh)")
      ->delimiter(',');
  cmd->add_option("--candidates", o.candidates, "Random assignments in the first round")
      ->capture_default_str()
      ->check(whole_number);
  cmd->add_option("--first-epochs", o.first_epochs, "Epochs per candidate in the first round (doubles each round)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--seed", o.seed, "Draws the candidates and the validation split")
      ->capture_default_str()
      ->check(whole_number);
  cmd->add_option("--out", o.out, "Output folder (default runs/search)")->check(not_empty);
  add_experiment_options(cmd, o);
  cmd->callback([c = &command, opts = &o] { *c = [opts] { return run_search(*opts); }; });
}

// Error messages quote user input; control characters in it are escaped so the message stays one line.
std::string one_line(const char* message) { return actlab::printable(message); }

// CLI11's usage errors (unknown option, bad or missing value, unknown subcommand) in the contract's
// one "actlab: error: " line, with exit status 2 (the usual one for usage errors) instead of CLI11's
// two lines and codes 104-114. Help names the subcommand being parsed, if any.
int usage_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  const std::vector<CLI::App*> subcommands = app.get_subcommands();
  std::string message = e.what(), help = "actlab --help";
  if (!subcommands.empty()) help = fmt::format("actlab {} --help", subcommands.front()->get_name());
  // Where CLI11 only says "A subcommand is required", name the word that is not one.
  else if (argc > 1) message = fmt::format("unknown {} '{}'", argv[1][0] == '-' ? "option" : "subcommand", argv[1]);
  fmt::print(stderr, "actlab: error: {}; see {}\n", one_line(message.c_str()), help);
  return 2;
}

// The --kernels value of whichever subcommand ran (at most one is non-empty).
std::string kernels_of(const TrainOptions& t, const EvalOptions& e, const PredictOptions& p, const ApplyOptions& a) {
  for (const std::string* k : {&t.kernels, &e.kernels, &p.kernels, &a.kernels})
    if (!k->empty()) return *k;
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  // A reader that goes away (actlab ... --output /dev/stdout | head) makes writes fail with EPIPE,
  // reported as one error line, instead of killing the process without a word.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"actlab: activation functions and batch normalization, trained and measured"};
  app.set_version_flag("--version", std::string("actlab ") + actlab::version());
  app.require_subcommand(1);
  TrainOptions train;
  EvalOptions eval;
  PredictOptions predict;
  ApplyOptions apply;
  ListOptions list;
  BenchCliOptions bench;
  ExperimentCliOptions compare, search;
  ReportCliOptions report;
  PlotActivationsOptions plot;
  Command command;
  add_train(app, train, command);
  add_eval(app, eval, command);
  add_predict(app, predict, command);
  add_apply(app, apply, command);
  add_bench(app, bench, command);
  add_compare(app, compare, command);
  add_search(app, search, command);
  add_report(app, report, command);
  add_plot_activations(app, plot, command);
  auto* list_cmd = app.add_subcommand("list", "The activation table: parameters, formulas, derivatives, gains");
  list_cmd->add_flag("--json", list.json, "As JSON");
  list_cmd->callback([&] { command = [&list] { return run_list(list); }; });
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version: printed on stdout, exit 0
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e, argc, argv);
  }
  try {
    set_kernels(kernels_of(train, eval, predict, apply));
    return command();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "actlab: error: {}\n", one_line(e.what()));
    return 1;
  }
}
