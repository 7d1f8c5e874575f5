// actlab's float reference kernels against values pinned from PyTorch (tests/data/activation_reference.json,
// written by tools/gen_reference.py: PyTorch 1.13 in float64 on float32 inputs, rounded to float32),
// plus parsing and printing of activation specs.
//
// Tolerance: torch.testing.assert_close's for float32, |actual - expected| <= 1e-5 + 1.3e-6 * |expected|;
// NaN only where NaN is expected, and an infinity only where the same infinity is expected.
#include "actlab/activation.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

const json& reference() {
  static const json data = [] {
    const std::string path = std::string(ACTLAB_TEST_DATA_DIR) + "/activation_reference.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path + " (run tools/gen_reference.py)");
    return json::parse(in);
  }();
  return data;
}

// A JSON number, or one of the strings "nan", "inf", "-inf".
double number(const json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  throw std::runtime_error("not a number in the reference file: " + s);
}

std::vector<float> floats(const json& a) {
  std::vector<float> out;
  for (const json& v : a) out.push_back(static_cast<float>(number(v)));
  return out;
}

// How far `actual` is from `expected` in units of the allowed error: <= 1 passes.
double excess(double actual, double expected) {
  if (std::isnan(expected) || std::isnan(actual))
    return std::isnan(expected) && std::isnan(actual) ? 0.0 : std::numeric_limits<double>::infinity();
  if (std::isinf(expected) || std::isinf(actual))
    return actual == expected ? 0.0 : std::numeric_limits<double>::infinity();
  return std::fabs(actual - expected) / (1e-5 + 1.3e-6 * std::fabs(expected));
}

// Passes when every element is within tolerance; otherwise names the worst input.
testing::AssertionResult all_close(const std::vector<float>& actual, const std::vector<float>& expected,
                                   const std::vector<float>& x, const std::string& what) {
  if (actual.size() != expected.size())
    return testing::AssertionFailure() << what << ": " << actual.size() << " values, expected "
                                       << expected.size();
  std::size_t worst = 0, failures = 0;
  double worst_excess = 0.0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double e = excess(actual[i], expected[i]);
    if (e > 1.0) ++failures;
    if (e > worst_excess) worst_excess = e, worst = i;
  }
  if (failures == 0) return testing::AssertionSuccess();
  return testing::AssertionFailure() << fmt::format(
             "{}: {} of {} values off; worst at x = {:.9g}: expected {:.9g}, actual {:.9g} "
             "(|diff| = {:.3g}, {:.3g} times the tolerance 1e-5 + 1.3e-6 |expected|)",
             what, failures, actual.size(), x[worst], expected[worst], actual[worst],
             std::fabs(double(actual[worst]) - expected[worst]), worst_excess);
}

TEST(ActivationReference, MatchesPyTorchFloat64Oracle) {
  const json& cases = reference().at("cases");
  ASSERT_GE(cases.size(), actlab::activation_table().size());
  for (const json& c : cases) {
    const std::string spec = c.at("spec");
    SCOPED_TRACE(spec);
    const actlab::Activation act = actlab::parse_activation(spec);
    const std::vector<float> x = floats(c.at("x")), dy = floats(c.at("dy"));
    std::vector<float> y(x.size()), dx(x.size());
    actlab::activation_forward(act, y, x);
    actlab::activation_backward(act, dx, dy, x, y);
    EXPECT_TRUE(all_close(y, floats(c.at("y")), x, spec + " forward"));
    EXPECT_TRUE(all_close(dx, floats(c.at("dx")), x, spec + " backward"));
    if (c.contains("dweight")) {
      const double expected = number(c.at("dweight"));
      const double actual = actlab::activation_param_grad(act, dy, x);
      EXPECT_LE(excess(actual, expected), 1.0)
          << spec << " weight gradient: expected " << fmt::format("{:.17g}", expected) << ", actual "
          << fmt::format("{:.17g}", actual);
    }
  }
}

// Where float32 PyTorch overflows (gelu-tanh's backward, hardswish and selu near the float limit) the
// oracle is still finite; actlab must give the oracle's value there, not PyTorch's. The test lists
// those points so a reader sees what "better than float32 PyTorch" covers.
TEST(ActivationReference, FiniteWhereFloat32PyTorchIsNot) {
  int points = 0;
  for (const json& c : reference().at("cases")) {
    const std::string spec = c.at("spec");
    const actlab::Activation act = actlab::parse_activation(spec);
    const std::vector<float> x = floats(c.at("x")), dy = floats(c.at("dy"));
    std::vector<float> y(x.size()), dx(x.size());
    actlab::activation_forward(act, y, x);
    actlab::activation_backward(act, dx, dy, x, y);
    const std::vector<float> y_oracle = floats(c.at("y")), dx_oracle = floats(c.at("dx"));
    const std::vector<float> y_torch = floats(c.at("y_torch_f32")), dx_torch = floats(c.at("dx_torch_f32"));
    for (std::size_t i = 0; i < x.size(); ++i) {
      const bool y_case = std::isfinite(y_oracle[i]) && !std::isfinite(y_torch[i]);
      const bool dx_case = std::isfinite(dx_oracle[i]) && !std::isfinite(dx_torch[i]);
      if (!y_case && !dx_case) continue;
      ++points;
      const char* which = y_case ? "forward" : "backward";
      const float mine = y_case ? y[i] : dx[i], oracle = y_case ? y_oracle[i] : dx_oracle[i];
      const float torch = y_case ? y_torch[i] : dx_torch[i];
      std::cout << fmt::format("  {} {} at x = {:.9g}: float32 PyTorch {}, oracle {:.9g}, actlab {:.9g}\n", spec,
                               which, x[i], torch, oracle, mine);
      EXPECT_LE(excess(mine, oracle), 1.0) << spec << " " << which << " at x = " << x[i];
    }
  }
  EXPECT_GT(points, 0) << "the reference file no longer has points where float32 PyTorch overflows";
}

TEST(ActivationReference, EveryTableEntryHasReferenceData) {
  std::set<std::string> covered;
  for (const json& c : reference().at("cases"))
    covered.insert(std::string(actlab::parse_activation(c.at("spec").get<std::string>()).name()));
  for (const actlab::ActivationInfo& info : actlab::activation_table())
    EXPECT_TRUE(covered.count(info.name))
        << "no reference case for '" << info.name << "': add it to tools/gen_reference.py and rerun it";
}

TEST(ActivationReference, SpecsAreCanonical) {
  for (const json& c : reference().at("cases")) {
    const std::string spec = c.at("spec");
    EXPECT_EQ(actlab::parse_activation(spec).to_string(), spec);
  }
}

// The message of the std::invalid_argument that parsing `spec` throws; "" when it does not throw.
std::string parse_error(const std::string& spec) {
  try {
    actlab::parse_activation(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(ActivationParse, ErrorsNameTheBadPart) {
  struct Bad {
    const char* spec;
    const char* mentions;  // the message must contain this
  };
  const Bad bad[] = {
      {"swish", "swish"},                               // unknown name
      {"", "unknown activation"},                       // empty name
      {"Relu", "Relu"},                                 // names are case-sensitive
      {"elu:beta=1", "beta"},                           // unknown key
      {"relu:alpha=1", "alpha"},                        // key on an entry without parameters
      {"celu:alpha=0", "alpha=0"},                      // out of range (alpha > 0)
      {"rrelu:lower=1.5", "1.5"},                       // out of [0, 1]
      {"rrelu:lower=-0.1", "-0.1"},                     // out of [0, 1]
      {"rrelu:lower=0.3,upper=0.2", "lower must be <= upper"},  // lower > upper
      {"gelu:approximate=foo", "foo"},                  // not a choice
      {"gelu:approximate=2", "2"},                      // not a choice index
      {"elu:alpha=inf", "inf"},                         // non-finite
      {"elu:alpha=nan", "nan"},                         // non-finite
      {"elu:alpha=-inf", "-inf"},                       // non-finite
      {"elu:alpha=1e999", "1e999"},                     // overflows double
      {"elu:alpha=0.5x", "0.5x"},                       // trailing garbage
      {"elu:alpha=0.5 ", "0.5 "},                       // trailing space
      {"elu:alpha=", "''"},                             // empty value
      {"elu:alpha", "alpha"},                           // no '='
      {"elu:=1", "=1"},                                 // no key
      {"elu:", "nothing after ':'"},                    // nothing after ':'
      {"elu:alpha=1,,", "key=value"},                   // empty item
      {"elu:alpha=0.5:beta=1", "0.5:beta=1"},           // garbage after the value
      {"softplus:beta=0", "beta=0"},                    // out of range (beta > 0)
  };
  for (const Bad& b : bad) {
    const std::string message = parse_error(b.spec);
    EXPECT_FALSE(message.empty()) << "'" << b.spec << "' parsed without an error";
    EXPECT_NE(message.find(b.mentions), std::string::npos)
        << "'" << b.spec << "': message \"" << message << "\" does not mention \"" << b.mentions << "\"";
  }
}

TEST(ActivationParse, AcceptsWhatItPrints) {
  const actlab::Activation gelu = actlab::parse_activation("gelu:approximate=tanh");
  EXPECT_EQ(gelu.param("approximate"), 1.0);
  EXPECT_EQ(actlab::parse_activation("gelu:approximate=1").to_string(), "gelu:approximate=tanh");
  const actlab::Activation sp = actlab::parse_activation("softplus:threshold=10,beta=2");
  EXPECT_EQ(sp.param("beta"), 2.0);
  EXPECT_EQ(sp.param("threshold"), 10.0);
  EXPECT_EQ(sp.to_string(), "softplus:beta=2,threshold=10");  // table order, not the spec's order
  EXPECT_EQ(actlab::parse_activation("elu:alpha=1").to_string(), "elu");  // defaults are left out
  EXPECT_THROW(gelu.param("alpha"), std::invalid_argument);
}

// Valid in the end, but lower=0.5 alone is above the default upper (1/3): the pair must be checked
// after every key is set, not after each one.
TEST(ActivationParse, RreluPairCheckedAfterAllKeys) {
  EXPECT_NO_THROW(actlab::parse_activation("rrelu:lower=0.5,upper=0.6"));
  EXPECT_NO_THROW(actlab::parse_activation("rrelu:upper=0.05,lower=0.01"));
  try {
    actlab::parse_activation("rrelu:lower=0.3,upper=0.2");
    ADD_FAILURE() << "lower > upper accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "rrelu: lower must be <= upper (got lower=0.3, upper=0.2)");
  }
}

TEST(ActivationParse, TrailingCommaAndRepeatedKeysAreErrors) {
  EXPECT_THROW(actlab::parse_activation("elu:alpha=0.5,"), std::invalid_argument);
  EXPECT_THROW(actlab::parse_activation("elu:alpha=1,alpha=2"), std::invalid_argument);
}

TEST(ActivationParse, ToStringRoundTrips) {
  for (const actlab::ActivationInfo& info : actlab::activation_table()) {
    const actlab::Activation act = actlab::make_activation(info.name);
    EXPECT_EQ(act.to_string(), info.name);  // defaults print as the bare name
    EXPECT_EQ(actlab::parse_activation(act.to_string()).params, act.params) << info.name;
    // Every numeric parameter, at awkward values: printing must keep every bit.
    for (std::size_t i = 0; i < info.params.size(); ++i) {
      const actlab::ParamInfo& p = info.params[i];
      if (!p.choices.empty()) {
        for (std::size_t c = 0; c < p.choices.size(); ++c) {
          actlab::Activation a = act;
          a.params[i] = double(c);
          EXPECT_EQ(actlab::parse_activation(a.to_string()).params, a.params) << a.to_string();
        }
        continue;
      }
      for (const double v : {0.1, 1.0 / 3.0, 1e-7, 0.2, 123456.789, -0.1, 1e30, 2.0 / 7.0 * 1e-20}) {
        if (v < p.min || v > p.max) continue;
        actlab::Activation a = act;
        a.params[i] = v;
        if (info.validate && info.validate(a.params)) continue;
        const std::string text = a.to_string();
        EXPECT_EQ(actlab::parse_activation(text).params, a.params) << text;
        EXPECT_EQ(actlab::parse_activation(text).to_string(), text);
      }
    }
  }
}

}  // namespace
