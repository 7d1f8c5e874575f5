// The subcommands of the actlab program. main.cpp parses the command line (CLI11 stays in that one
// file: it is slow to compile) into these option structs; each run_* lives in its own file.
// They throw on errors; main prints one line and exits non-zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace actlab::cli {

struct TrainOptions {
  std::string kernels;  // --kernels vector|reference
  std::string recipe = "seed";
  std::string model_spec;  // overrides recipe/hidden/bn when set
  std::vector<std::size_t> hidden{256, 128};
  bool batchnorm = true;
  std::string data = "fashion-mnist";
  int epochs = 10;
  std::size_t batch = 128;
  std::string optimizer = "sgd";
  std::optional<double> lr;  // unset: the optimizer's default (sgd 0.05, adam/adamw 0.001)
  double momentum = 0.9;
  bool nesterov = false;
  std::optional<double> weight_decay;  // unset: the optimizer's default (0; adamw 0.01)
  std::string schedule = "cosine";
  std::string loss = "cross_entropy";
  std::uint64_t seed = 0;
  int threads = 0;  // 0: all cores
  std::string out;  // default runs/<recipe>-seed<seed>
  bool json = false;
  std::size_t checkpoint_every = 0;  // optimizer steps between checkpoints; 0: only on Ctrl-C
  std::string resume;                // a run folder holding checkpoint.safetensors
  bool diagnostics = true;           // per-layer health, diagnostics.jsonl
  std::vector<std::string> given;    // the options given on the command line, by their long names
};

struct EvalOptions {
  std::string kernels;  // --kernels vector|reference
  std::string model_dir;
  std::string data;                  // empty: the training run's (run.json), else fashion-mnist
  std::optional<std::uint64_t> seed;  // unset: the training run's (run.json), else 0
  int threads = 0;
  bool json = false;
};

struct PredictOptions {
  std::string kernels;  // --kernels vector|reference
  std::string model_dir, input, output;
  int threads = 0;
};

struct ApplyOptions {
  std::string kernels;  // --kernels vector|reference
  std::string spec, input, output, grad_output, grad_input, param_grad;
};

// compare and search share their options.
struct ExperimentCliOptions {
  std::vector<std::string> recipes;  // compare: recipes; search: the activations to choose from
  int seeds = 3;                     // seeds 0..N-1 (search: of the final comparison)
  int epochs = 5;
  int depth = 0;                     // > 0: that many hidden layers of `width` units
  std::size_t width = 128;
  std::vector<std::size_t> hidden{256, 128};
  bool batchnorm = true;
  std::string data = "fashion-mnist";
  std::size_t batch = 128;
  std::string optimizer = "sgd";
  std::optional<double> lr;  // unset: the optimizer's default
  double target = 0.85;
  std::size_t candidates = 16;  // search
  int first_epochs = 1;         // search
  std::uint64_t seed = 0;       // search: draws the candidates
  std::string out;
  bool report = true;
  int threads = 0;
};

struct ListOptions {
  bool json = false;
};

struct BenchCliOptions {
  bool json = false;
  bool quick = false;         // small sizes and short timings (CI smoke run)
  bool reference = true;      // also time the scalar reference kernels
  std::vector<std::string> activations;
  int threads = 0;
};

struct ReportCliOptions {
  std::string dir;             // a run folder (history.json) or a comparison folder (results.json)
  std::string format = "svg";  // svg | png
};

struct PlotActivationsOptions {
  std::vector<std::string> specs;  // empty: every activation of the table
  std::string out = "activations.svg";
  std::string range = "-5,5";      // MIN,MAX
  std::size_t points = 801;
};

int run_train(const TrainOptions& options);
int run_eval(const EvalOptions& options);
int run_predict(const PredictOptions& options);
int run_apply(const ApplyOptions& options);
int run_list(const ListOptions& options);
int run_compare(const ExperimentCliOptions& options);
int run_search(const ExperimentCliOptions& options);
int run_bench(const BenchCliOptions& options);
int run_report(const ReportCliOptions& options);
int run_plot_activations(const PlotActivationsOptions& options);

// Sets the OpenMP and OpenBLAS thread counts (0 leaves the defaults).
void set_threads(int threads);
// Applies --kernels (vector | reference; empty leaves ACTLAB_KERNELS or the default), after
// checking ACTLAB_KERNELS and ACTLAB_ISA.
void set_kernels(const std::string& kernels);

}  // namespace actlab::cli
