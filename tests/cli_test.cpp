// The actlab program as a user runs it: results, --help, and one clear line for every bad input.
#include "actlab/npy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <utility>

namespace actlab {
namespace {

struct CliRun {
  int code = -1;
  std::string output;  // stdout and stderr together
};

// `env`: assignments put before the program, as a shell reads them ("NAME=value").
CliRun run(const std::string& args, const std::string& env = "") {
  CliRun r;
  const std::string command = env + " " + std::string(ACTLAB_CLI_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, pipe)) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("actlab_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

// One line on stderr, "actlab: error: ..." containing `needle`, and a non-zero exit.
void expect_error(const CliRun& r, const std::string& needle) {
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("actlab: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST_F(Cli, HelpOnEverySubcommand) {
  for (const char* sub : {"", "train", "eval", "predict", "apply", "list"}) {
    const CliRun r = run(std::string(sub) + " --help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub;
  }
  EXPECT_NE(run("--version").output.find("actlab "), std::string::npos);
}

// CLI11's usage errors keep the contract too: one line, the subcommand's --help named, exit status 2.
TEST_F(Cli, UsageErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"train --bogus", "not expected: --bogus; see actlab train --help"},
      {"train --epochs abc", "--epochs: Value abc not in range"},
      {"train --lr abc", "Could not convert: --lr = abc; see actlab train --help"},
      {"predict --model m --input x.npy", "--output is required; see actlab predict --help"},
      {"frobnicate", "unknown subcommand 'frobnicate'; see actlab --help"},
      {"--bogus", "unknown option '--bogus'; see actlab --help"},
      {"", "A subcommand is required; see actlab --help"},
  };
  for (const auto& [args, needle] : cases) {
    const CliRun r = run(args);
    expect_error(r, needle);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.output.rfind("actlab: error: ", 0), 0u) << r.output;
  }
  const CliRun v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.output.rfind("actlab ", 0), 0u) << v.output;
}

TEST_F(Cli, ApplyForwardBackwardAndParamGrad) {
  const std::vector<float> x{-2.0f, -0.5f, 0.0f, 1.5f}, dy{1.0f, 2.0f, 3.0f, 4.0f};
  const std::vector<std::size_t> shape{2, 2};
  write_npy(path("x.npy"), x, shape);
  write_npy(path("dy.npy"), dy, shape);
  const CliRun r = run("apply prelu:weight=0.1 --input " + path("x.npy") + " --output " + path("y.npy") +
                    " --grad-output " + path("dy.npy") + " --grad-input " + path("dx.npy") + " --param-grad " +
                    path("da.npy"));
  ASSERT_EQ(r.code, 0) << r.output;
  const NpyArray y = read_npy(path("y.npy")), dx = read_npy(path("dx.npy")), da = read_npy(path("da.npy"));
  EXPECT_EQ(y.shape, shape);
  EXPECT_EQ(y.data, (std::vector<float>{-0.2f, -0.05f, 0.0f, 1.5f}));
  EXPECT_EQ(dx.data, (std::vector<float>{0.1f, 0.2f, 0.3f, 4.0f}));
  ASSERT_EQ(da.data.size(), 1u);
  EXPECT_FLOAT_EQ(da.data[0], 1.0f * -2.0f + 2.0f * -0.5f);  // sum of dy * x over x <= 0
}

// ACTLAB_ISA: a known instruction set is what runs (bench names the one dispatched; SSE4's results
// are within the kernels' bounds), an unknown one is one clear error, even for a command that runs
// no kernel.
TEST_F(Cli, InstructionSetFromTheEnvironment) {
  write_npy(path("x.npy"), std::vector<float>{-2.0f, -0.5f, 0.0f, 1.5f}, std::vector<std::size_t>{4});
  const std::string args = "apply silu --input " + path("x.npy") + " --output " + path("y.npy");
  const CliRun sse4 = run(args, "ACTLAB_ISA=sse4");
  ASSERT_EQ(sse4.code, 0) << sse4.output;
  const std::vector<float> y = read_npy(path("y.npy")).data;
  ASSERT_EQ(y.size(), 4u);
  EXPECT_NEAR(y[0], -0.238405844f, 1e-6f);
  EXPECT_NEAR(y[3], 1.22636171f, 1e-6f);
  const CliRun bench = run("bench --quick --no-reference --activations relu --threads 1", "ACTLAB_ISA=sse4");
  EXPECT_NE(bench.output.find("vector kernels: SSE4"), std::string::npos) << bench.output;
  expect_error(run(args, "ACTLAB_ISA=avx1024"), "instruction set 'avx1024' is not one of");
  expect_error(run("list", "ACTLAB_ISA=avx1024"), "instruction set 'avx1024' is not one of");
}

// bench's roofs are the faster of the plain and the streaming way, and each kernel's fraction is
// of the roof for its direction (copy forward, triad backward).
TEST_F(Cli, BenchRoofIsTheFasterOfPlainAndStreaming) {
  const CliRun bench = run("bench --quick --json --no-reference --activations relu --threads 1");
  ASSERT_EQ(bench.code, 0) << bench.output;
  std::string last = bench.output.substr(0, bench.output.find_last_not_of('\n') + 1);
  last = last.substr(last.find_last_of('\n') + 1);  // the JSON object is the last line
  const auto r = nlohmann::json::parse(last);
  ASSERT_FALSE(r["roofs"].empty());
  for (const auto& roof : r["roofs"]) {
    EXPECT_GT(roof["memcpy_gbs"].get<double>(), 0.0);
    EXPECT_GT(roof["stream_copy_gbs"].get<double>(), 0.0);
    EXPECT_GT(roof["plain_triad_gbs"].get<double>(), 0.0);
    EXPECT_GT(roof["stream_triad_gbs"].get<double>(), 0.0);
    EXPECT_EQ(roof["copy_gbs"].get<double>(),
              std::max(roof["memcpy_gbs"].get<double>(), roof["stream_copy_gbs"].get<double>()));
    EXPECT_EQ(roof["triad_gbs"].get<double>(),
              std::max(roof["plain_triad_gbs"].get<double>(), roof["stream_triad_gbs"].get<double>()));
    for (const auto& k : r["kernels"]) {
      if (k["elems"] != roof["elems"]) continue;
      const double roof_gbs = k["direction"] == "forward" ? roof["copy_gbs"].get<double>() : roof["triad_gbs"].get<double>();
      EXPECT_NEAR(k["roof_fraction"].get<double>(), k["gbs"].get<double>() / roof_gbs, 1e-9);
    }
  }
}

// With two threads bench measures reads of what another core wrote beside a core's own; with one
// there is no other core and no such entry.
TEST_F(Cli, BenchMeasuresReadsBetweenCoresWithTwoThreads) {
  const auto last_json = [](const CliRun& bench) {
    std::string last = bench.output.substr(0, bench.output.find_last_not_of('\n') + 1);
    return nlohmann::json::parse(last.substr(last.find_last_of('\n') + 1));
  };
  const CliRun two = run("bench --quick --json --no-reference --activations relu --threads 2");
  ASSERT_EQ(two.code, 0) << two.output;
  const auto r = last_json(two);
  ASSERT_TRUE(r.contains("cross_core")) << two.output;
  EXPECT_GT(r["cross_core"]["own_gbs"].get<double>(), 0.0);
  EXPECT_GT(r["cross_core"]["other_gbs"].get<double>(), 0.0);
  const CliRun one = run("bench --quick --json --no-reference --activations relu --threads 1");
  ASSERT_EQ(one.code, 0) << one.output;
  EXPECT_FALSE(last_json(one).contains("cross_core"));
  const CliRun table = run("bench --quick --no-reference --activations relu --threads 2");
  EXPECT_NE(table.output.find("between cores: 256 KB that another core has just written"), std::string::npos)
      << table.output;
}

// With prelu among the activations, bench also times the PReLU layer with one and with 256 slopes
// (its backward with the slopes' gradient), at both sizes and in both directions.
TEST_F(Cli, BenchTimesThePreluLayer) {
  const CliRun bench = run("bench --quick --json --no-reference --activations prelu --threads 1");
  ASSERT_EQ(bench.code, 0) << bench.output;
  std::string last = bench.output.substr(0, bench.output.find_last_not_of('\n') + 1);
  last = last.substr(last.find_last_of('\n') + 1);
  const auto r = nlohmann::json::parse(last);
  std::map<std::string, int> rows;
  for (const auto& k : r["kernels"]) {
    EXPECT_GT(k["ns_per_elem"].get<double>(), 0.0);
    ++rows[k["activation"].get<std::string>() + " " + k["direction"].get<std::string>()];
  }
  for (const std::string name : {"prelu", "prelu_layer:weights=1", "prelu_layer:weights=256"})
    for (const std::string direction : {"forward", "backward"}) EXPECT_EQ(rows[name + " " + direction], 2) << name;
  EXPECT_EQ(rows.size(), 6u);
}

TEST_F(Cli, ApplyErrors) {
  write_npy(path("x.npy"), std::vector<float>{1.0f, 2.0f}, std::vector<std::size_t>{2});
  write_npy(path("dy3.npy"), std::vector<float>{1.0f, 2.0f, 3.0f}, std::vector<std::size_t>{3});
  const std::string io = " --input " + path("x.npy") + " --output " + path("y.npy");
  expect_error(run("apply swish" + io), "unknown activation 'swish'");
  expect_error(run("apply elu:beta=1" + io), "no parameter 'beta'");
  expect_error(run("apply leaky_relu:negative_slope=abc" + io), "not a finite number");
  expect_error(run("apply gelu:approximate=fast" + io), "approximate");
  expect_error(run("apply relu --input " + path("missing.npy") + " --output " + path("y.npy")), "missing.npy");
  expect_error(run("apply relu --input " + dir_.string() + " --output " + path("y.npy")), dir_.string());
  expect_error(run("apply relu" + io + " --grad-output " + path("dy3.npy") + " --grad-input " + path("dx.npy")),
               "shape");
  expect_error(run("apply relu" + io + " --param-grad " + path("da.npy") + " --grad-output " + path("x.npy") +
                   " --grad-input " + path("dx.npy")),
               "no learnable parameter");
  EXPECT_FALSE(std::filesystem::exists(path("y.npy")));  // no output after a failed run
  EXPECT_FALSE(std::filesystem::exists(path("dx.npy")));

  FILE* f = fopen(path("bad.npy").c_str(), "wb");
  fputs("\x93NUMPY garbage", f);
  fclose(f);
  expect_error(run("apply relu --input " + path("bad.npy") + " --output " + path("y.npy")), "bad.npy");
}

TEST_F(Cli, TrainSaveEvalPredict) {
  const std::string model = path("model");
  std::filesystem::create_directories(model);  // an existing folder is a fine --out
  const CliRun t = run("train --data spirals --hidden 32,32 --epochs 3 --threads 1 --out " + model + " --json");
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_NE(t.output.find("warning: the last layer is elu"), std::string::npos);
  const std::string last_line = t.output.substr(t.output.rfind('{'));
  EXPECT_NE(last_line.find("\"test_accuracy\""), std::string::npos);
  EXPECT_NE(last_line.find("\"model_dir\""), std::string::npos);
  for (const char* file : {"config.json", "model.safetensors", "history.json"})
    EXPECT_TRUE(std::filesystem::exists(model + "/" + file)) << file;

  const CliRun e = run("eval --model " + model + " --data spirals --json");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("\"test_accuracy\""), std::string::npos);

  write_npy(path("in.npy"), std::vector<float>{0.1f, 0.2f, -0.3f, 0.4f, 0.5f, 0.6f}, std::vector<std::size_t>{3, 2});
  const CliRun p = run("predict --model " + model + " --input " + path("in.npy") + " --output " + path("out.npy"));
  ASSERT_EQ(p.code, 0) << p.output;
  EXPECT_EQ(read_npy(path("out.npy")).shape, (std::vector<std::size_t>{3, 3}));

  write_npy(path("wide.npy"), std::vector<float>(6), std::vector<std::size_t>{2, 3});
  expect_error(run("predict --model " + model + " --input " + path("wide.npy") + " --output " + path("o2.npy")),
               "does not fit the model");
  expect_error(run("predict --model " + path("none") + " --input " + path("in.npy") + " --output " + path("o3.npy")),
               "none");
  // Non-finite inputs are refused, naming the first one (numpy's indices), and nothing is written.
  write_npy(path("inf.npy"), std::vector<float>{0.1f, 0.2f, -0.3f, INFINITY, NAN, 0.6f},
            std::vector<std::size_t>{3, 2});
  expect_error(run("predict --model " + model + " --input " + path("inf.npy") + " --output " + path("o4.npy")),
               "inf.npy: row 1, column 1 is inf; predict needs finite inputs");
  EXPECT_FALSE(std::filesystem::exists(path("o4.npy")));
  // Finite inputs that overflow inside the model: refused too, not written as NaN results.
  write_npy(path("huge.npy"), std::vector<float>{0.1f, 0.2f, 3e38f, 3e38f}, std::vector<std::size_t>{2, 2});
  expect_error(run("predict --model " + model + " --input " + path("huge.npy") + " --output " + path("o5.npy")),
               "huge.npy: row 1 gives a non-finite output");
  EXPECT_FALSE(std::filesystem::exists(path("o5.npy")));
  FILE* csv = fopen(path("huge.csv").c_str(), "wb");
  for (int i = 0; i < 10; ++i) fprintf(csv, "%d,3e38,3e38\n", i % 3);  // the label first
  fclose(csv);
  expect_error(run("eval --model " + model + " --data csv:" + path("huge.csv")), "the values overflow float");
}

// eval scores a model on the test rows of the run that trained it: the seed picks the rows of csv
// data and makes the synthetic sets, and run.json keeps it with the data source.
TEST_F(Cli, EvalUsesTheTrainingRunsDataAndSeed) {
  const std::string model = path("seeded");
  const CliRun t = run("train --data moons:400 --recipe relu --hidden 8 --epochs 2 --seed 7 --threads 1 "
                       "--no-diagnostics --json --out " + model);
  ASSERT_EQ(t.code, 0) << t.output;
  const auto trained = nlohmann::json::parse(t.output.substr(t.output.rfind('{')));
  const CliRun e = run("eval --model " + model + " --threads 1 --json");
  ASSERT_EQ(e.code, 0) << e.output;
  const auto evaluated = nlohmann::json::parse(e.output.substr(e.output.rfind('{')));
  EXPECT_EQ(evaluated.at("seed"), 7);
  EXPECT_EQ(evaluated.at("test_loss").get<double>(), trained.at("test_loss").get<double>());
  EXPECT_EQ(evaluated.at("test_accuracy").get<double>(), trained.at("test_accuracy").get<double>());
  const CliRun other = run("eval --model " + model + " --threads 1 --seed 0 --json");
  ASSERT_EQ(other.code, 0) << other.output;
  EXPECT_NE(nlohmann::json::parse(other.output.substr(other.output.rfind('{'))).at("test_loss").get<double>(),
            trained.at("test_loss").get<double>());
  // A folder without run.json (saved by an earlier version): --data is needed, the seed is 0.
  std::filesystem::remove(model + "/run.json");
  const CliRun bare = run("eval --model " + model + " --data moons:400 --threads 1 --json");
  ASSERT_EQ(bare.code, 0) << bare.output;
  EXPECT_EQ(nlohmann::json::parse(bare.output.substr(bare.output.rfind('{'))).at("seed"), 0);
  // The data's path is stored absolute: eval finds it from another working directory.
  FILE* csv = fopen(path("rows.csv").c_str(), "wb");
  for (int i = 0; i < 40; ++i) fprintf(csv, "%d,%d,%d\n", i % 2, i, (i * 7) % 5);
  fclose(csv);
  const std::string model_csv = path("from_csv");
  ASSERT_EQ(run("train --data csv:rows.csv --recipe relu --hidden 4 --epochs 1 --seed 3 --threads 1 "
                "--no-diagnostics --out " + model_csv, "cd " + dir_.string() + " &&").code, 0);
  const CliRun moved = run("eval --model " + model_csv + " --threads 1", "cd / &&");
  EXPECT_EQ(moved.code, 0) << moved.output;
  EXPECT_NE(moved.output.find("seed 3"), std::string::npos) << moved.output;
}

// /dev/stdout names the pipe or file the shell gave the program: the output goes into it (and a
// pipe is not replaced by a file of that name, which writing through /proc/self/fd/1 would try).
TEST_F(Cli, OutputToStdoutGoesIntoThePipe) {
  write_npy(path("x.npy"), std::vector<float>{1, -2, 3}, std::vector<std::size_t>{3});
  ASSERT_EQ(run("apply relu --input " + path("x.npy") + " --output " + path("y.npy")).code, 0);
  const CliRun piped = run("apply relu --input " + path("x.npy") + " --output /dev/stdout | wc -c");
  EXPECT_EQ(piped.code, 0) << piped.output;
  EXPECT_EQ(std::stoul(piped.output), std::filesystem::file_size(path("y.npy"))) << piped.output;
}

TEST_F(Cli, TrainErrors) {
  expect_error(run("train --data spirals --model \"linear(8),wobble,linear(3)\" --epochs 1 --out " + path("m")),
               "wobble");
  expect_error(run("train --data spirals --recipe nope --epochs 1 --out " + path("m")), "unknown recipe 'nope'");
  expect_error(run("train --data csv:" + path("nothing.csv") + " --epochs 1 --out " + path("m")), "nothing.csv");
  expect_error(run("train --data mnist:" + path("empty") + " --epochs 1 --out " + path("m")), "empty");
  expect_error(run("train --data spirals --optimizer rmsprop --epochs 1 --out " + path("m")), "rmsprop");
  EXPECT_NE(run("train --epochs 0").code, 0);

  // A file where the run folder should go is refused before the data is loaded (expect_error's one
  // line: no "data: ..." line first), and left as it was.
  FILE* f = fopen(path("file").c_str(), "wb");
  fputs("keep", f);
  fclose(f);
  expect_error(run("train --data spirals --epochs 1 --out " + path("file")), "file is a file, not a folder");
  expect_error(run("train --data spirals --epochs 1 --out " + path("file") + "/sub"), "file is a file, not a folder");
  EXPECT_EQ(std::filesystem::file_size(path("file")), 4u);
}

}  // namespace
}  // namespace actlab
