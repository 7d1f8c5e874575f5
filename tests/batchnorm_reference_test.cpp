// Batch normalization and PReLU kernels against PyTorch (tests/data/batchnorm_reference.json, written by
// tools/gen_reference.py: torch.nn.BatchNorm1d and F.prelu in float64 on float32 inputs, rounded to
// float32) and against finite differences.
//
// Tolerance against the file: torch.testing.assert_close's for float32, |a - e| <= 1e-5 + 1.3e-6 |e|.
#include "actlab/batchnorm.hpp"
#include "actlab/kernels.hpp"
#include "actlab/prelu.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

const json& reference() {
  static const json data = [] {
    const std::string path = std::string(ACTLAB_TEST_DATA_DIR) + "/batchnorm_reference.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path + " (run tools/gen_reference.py)");
    return json::parse(in);
  }();
  return data;
}

std::vector<float> floats(const json& a) {
  std::vector<float> out;
  for (const json& v : a) out.push_back(v.get<float>());  // these files hold only finite values
  return out;
}

// Passes when every element is within |a - e| <= atol + rtol |e|; otherwise names the worst element.
testing::AssertionResult all_close(const std::vector<float>& actual, const std::vector<float>& expected,
                                   const std::string& what, double atol = 1e-5, double rtol = 1.3e-6) {
  if (actual.size() != expected.size())
    return testing::AssertionFailure() << what << ": " << actual.size() << " values, expected " << expected.size();
  std::size_t worst = 0, failures = 0;
  double worst_excess = 0.0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double d = std::fabs(double(actual[i]) - expected[i]);
    const double excess = std::isnan(d) ? INFINITY : d / (atol + rtol * std::fabs(expected[i]));
    if (excess > 1.0) ++failures;
    if (excess > worst_excess) worst_excess = excess, worst = i;
  }
  if (failures == 0) return testing::AssertionSuccess();
  return testing::AssertionFailure() << fmt::format(
             "{}: {} of {} values off; worst at index {}: expected {:.9g}, actual {:.9g} ({:.3g} times the tolerance)",
             what, failures, actual.size(), worst, expected[worst], actual[worst], worst_excess);
}

// One BatchNorm1d case of the file, run through actlab's kernels.
struct BatchNormRun {
  actlab::BatchNormShape shape;
  std::vector<float> x, gamma, beta, dy;
  std::vector<float> y, mean, invstd, running_mean, running_var, dx, dgamma, dbeta, y_eval;

  explicit BatchNormRun(const json& c)
      : shape{c.at("rows").get<std::size_t>(), c.at("features").get<std::size_t>()},
        x(floats(c.at("x"))), gamma(floats(c.at("gamma"))), beta(floats(c.at("beta"))), dy(floats(c.at("dy"))),
        y(x.size()), mean(shape.features), invstd(shape.features), running_mean(floats(c.at("running_mean"))),
        running_var(floats(c.at("running_var"))), dx(x.size()), dgamma(shape.features), dbeta(shape.features),
        y_eval(x.size()) {
    const float eps = c.at("eps").get<float>(), momentum = c.at("momentum").get<float>();
    actlab::batchnorm_forward_train(y, mean, invstd, running_mean, running_var, x, gamma, beta, shape, eps, momentum);
    actlab::batchnorm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, invstd, shape);
    actlab::batchnorm_forward_eval(y_eval, x, gamma, beta, running_mean, running_var, shape, eps);
  }
};

TEST(BatchNormReference, TrainForwardBackwardEvalMatchPyTorch) {
  const json& cases = reference().at("batchnorm");
  ASSERT_GE(cases.size(), 3u);
  for (const json& c : cases)
  for (const actlab::KernelMode mode : {actlab::KernelMode::vector, actlab::KernelMode::reference}) {
    actlab::set_kernel_mode(mode);
    const std::string name = std::string(c.at("name")) + (mode == actlab::KernelMode::vector ? " (vector)" : " (reference)");
    SCOPED_TRACE(name);
    const BatchNormRun run(c);
    EXPECT_TRUE(all_close(run.y, floats(c.at("y_train")), name + " train y"));
    EXPECT_TRUE(all_close(run.mean, floats(c.at("batch_mean")), name + " batch mean"));
    EXPECT_TRUE(all_close(run.invstd, floats(c.at("batch_invstd")), name + " batch invstd"));
    EXPECT_TRUE(all_close(run.running_mean, floats(c.at("running_mean_after")), name + " running_mean"));
    EXPECT_TRUE(all_close(run.running_var, floats(c.at("running_var_after")), name + " running_var"));
    EXPECT_TRUE(all_close(run.dx, floats(c.at("dx")), name + " dx"));
    EXPECT_TRUE(all_close(run.dgamma, floats(c.at("dgamma")), name + " dgamma"));
    EXPECT_TRUE(all_close(run.dbeta, floats(c.at("dbeta")), name + " dbeta"));
    EXPECT_TRUE(all_close(run.y_eval, floats(c.at("y_eval")), name + " eval y"));
  }
  actlab::set_kernel_mode(actlab::KernelMode::vector);
}

TEST(BatchNormReference, BatchOfOneThrowsInTraining) {
  const actlab::BatchNormShape shape{1, 3};
  std::vector<float> x{1, 2, 3}, y(3), mean(3), invstd(3), rm(3, 0.0f), rv(3, 1.0f), gamma(3, 1.0f), beta(3, 0.0f);
  try {
    actlab::batchnorm_forward_train(y, mean, invstd, rm, rv, x, gamma, beta, shape, 1e-5f, 0.1f);
    FAIL() << "a training batch of one row did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find('1'), std::string::npos) << e.what();
  }
  // The running statistics are untouched by the failed call; evaluation works for one row.
  EXPECT_EQ(rm, std::vector<float>(3, 0.0f));
  EXPECT_EQ(rv, std::vector<float>(3, 1.0f));
  EXPECT_NO_THROW(actlab::batchnorm_forward_eval(y, x, gamma, beta, rm, rv, shape, 1e-5f));
}

// The backward of a training batch, likewise (with no rows it used to return dgamma = 0 / 0).
TEST(BatchNormReference, BackwardOfFewerThanTwoRowsThrows) {
  for (const std::size_t rows : {0, 1}) {
    const actlab::BatchNormShape shape{rows, 3};
    std::vector<float> x(rows * 3, 1.0f), dy(rows * 3, 1.0f), dx(rows * 3), gamma(3, 1.0f), mean(3), invstd(3, 1.0f),
        dgamma(3), dbeta(3);
    EXPECT_THROW(actlab::batchnorm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, invstd, shape),
                 std::invalid_argument)
        << rows << " rows";
  }
}

// A double re-implementation of the training forward, y = gamma (x - mean) / sqrt(var_biased + eps) + beta,
// so that finite differences are not drowned by float rounding. It is first checked against actlab's
// float forward, so its derivatives are those of the function actlab computes.
std::vector<double> bn_forward_f64(const std::vector<double>& x, const std::vector<double>& gamma,
                                   const std::vector<double>& beta, std::size_t rows, std::size_t features) {
  std::vector<double> y(x.size());
  for (std::size_t c = 0; c < features; ++c) {
    double mean = 0.0, var = 0.0;
    for (std::size_t r = 0; r < rows; ++r) mean += x[r * features + c];
    mean /= double(rows);
    for (std::size_t r = 0; r < rows; ++r) var += (x[r * features + c] - mean) * (x[r * features + c] - mean);
    const double invstd = 1.0 / std::sqrt(var / double(rows) + double(1e-5f));
    for (std::size_t r = 0; r < rows; ++r)
      y[r * features + c] = gamma[c] * (x[r * features + c] - mean) * invstd + beta[c];
  }
  return y;
}

// Scalar loss L = sum(y * w) with a fixed weight w = dy: dL/dx, dL/dgamma, dL/dbeta are what
// batchnorm_backward returns for that dy. Central differences in double, h = 1e-6 * max(1, |v|);
// compared with the float backward at 1e-4 * (1 + |g|) (float rounding of the backward, ~1e-6 relative,
// stays far inside that).
TEST(BatchNormGradcheck, BackwardMatchesFiniteDifferences) {
  for (const json& c : reference().at("batchnorm")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const BatchNormRun run(c);
    const std::size_t rows = run.shape.rows, features = run.shape.features;
    std::vector<double> x(run.x.begin(), run.x.end()), gamma(run.gamma.begin(), run.gamma.end()),
        beta(run.beta.begin(), run.beta.end());
    const std::vector<double> w(run.dy.begin(), run.dy.end());
    const std::vector<double> y64 = bn_forward_f64(x, gamma, beta, rows, features);
    ASSERT_TRUE(all_close(run.y, std::vector<float>(y64.begin(), y64.end()), name + " double forward"));

    const auto loss = [&] {
      const std::vector<double> y = bn_forward_f64(x, gamma, beta, rows, features);
      double sum = 0.0;
      for (std::size_t i = 0; i < y.size(); ++i) sum += y[i] * w[i];
      return sum;
    };
    const auto check = [&](std::vector<double>& v, const std::vector<float>& grad, const char* what) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        const double saved = v[i], h = 1e-6 * std::max(1.0, std::fabs(saved));
        v[i] = saved + h;
        const double up = loss();
        v[i] = saved - h;
        const double down = loss();
        v[i] = saved;
        const double fd = (up - down) / (2 * h);
        EXPECT_NEAR(grad[i], fd, 1e-4 * (1 + std::fabs(fd))) << what << "[" << i << "]";
      }
    };
    check(x, run.dx, "dx");
    check(gamma, run.dgamma, "dgamma");
    check(beta, run.dbeta, "dbeta");
  }
}

struct PreluRun {
  std::size_t channels;
  std::vector<float> x, weight, dy, y, dx, dweight;

  explicit PreluRun(const json& c)
      : channels(c.at("channels").get<std::size_t>()), x(floats(c.at("x"))), weight(floats(c.at("weight"))),
        dy(floats(c.at("dy"))), y(x.size()), dx(x.size()), dweight(weight.size()) {
    actlab::prelu_forward(y, x, weight, channels);
    actlab::prelu_backward(dx, dweight, dy, x, weight, channels);
  }
};

TEST(PreluReference, SharedAndPerChannelMatchPyTorch) {
  const json& cases = reference().at("prelu");
  bool shared = false, per_channel = false;
  for (const json& c : cases) {
    const std::string name = c.at("name");
    const PreluRun run(c);
    (run.weight.size() == 1 ? shared : per_channel) = true;
    EXPECT_TRUE(all_close(run.y, floats(c.at("y")), name + " y"));
    EXPECT_TRUE(all_close(run.dx, floats(c.at("dx")), name + " dx"));
    EXPECT_TRUE(all_close(run.dweight, floats(c.at("dweight")), name + " dweight"));
  }
  EXPECT_TRUE(shared && per_channel) << "the file needs a shared and a per-channel case";
}

// L = sum(y * dy). y is linear in each weight, and piecewise linear in x: central differences with a
// step of 2^-8 (exact in float), computed in double from the float forward, away from x = 0.
TEST(PreluGradcheck, BackwardMatchesFiniteDifferences) {
  for (const json& c : reference().at("prelu")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    PreluRun run(c);
    const auto loss = [&] {
      std::vector<float> y(run.x.size());
      actlab::prelu_forward(y, run.x, run.weight, run.channels);
      double sum = 0.0;
      for (std::size_t i = 0; i < y.size(); ++i) sum += double(y[i]) * run.dy[i];
      return sum;
    };
    const float h = 0x1p-8f;
    const auto fd = [&](float& v) {
      const float saved = v;
      v = saved + h;
      const double up = loss();
      v = saved - h;
      const double down = loss();
      v = saved;
      return (up - down) / (2.0 * h);
    };
    for (std::size_t k = 0; k < run.weight.size(); ++k)
      EXPECT_NEAR(run.dweight[k], fd(run.weight[k]), 1e-4 * (1 + std::fabs(run.dweight[k]))) << "dweight[" << k << "]";
    for (std::size_t i = 0; i < run.x.size(); ++i) {
      if (std::fabs(run.x[i]) < 2 * h) continue;  // the kink
      EXPECT_NEAR(run.dx[i], fd(run.x[i]), 1e-4 * (1 + std::fabs(run.dx[i]))) << "dx[" << i << "]";
    }
  }
}

TEST(PreluReference, RejectsBadShapes) {
  std::vector<float> x(6), y(6), w3(3), w2(2);
  EXPECT_THROW(actlab::prelu_forward(y, x, w2, 3), std::invalid_argument);  // neither 1 nor 3 weights
  EXPECT_THROW(actlab::prelu_forward(y, x, w3, 4), std::invalid_argument);  // 6 values, 4 channels
  EXPECT_THROW(actlab::prelu_forward(y, x, w3, 0), std::invalid_argument);
  EXPECT_NO_THROW(actlab::prelu_forward(y, x, w3, 3));
}

}  // namespace
