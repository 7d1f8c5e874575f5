// actlab bench: prints the measurements of run_bench as tables, or as one JSON object.
#include "actlab/bench.hpp"
#include "cli/commands.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace actlab::cli {
namespace {

nlohmann::ordered_json to_json(const BenchReport& r) {
  nlohmann::ordered_json j{
      {"cpu", r.cpu}, {"isa", r.isa}, {"matrix_products", r.matrix_products}, {"threads", r.threads}};
  for (const Roof& roof : r.roofs)
    j["roofs"].push_back({{"elems", roof.elems},
                          {"copy_gbs", roof.copy_gbs},
                          {"triad_gbs", roof.triad_gbs},
                          {"memcpy_gbs", roof.memcpy_gbs},
                          {"stream_copy_gbs", roof.stream_copy_gbs},
                          {"plain_triad_gbs", roof.plain_triad_gbs},
                          {"stream_triad_gbs", roof.stream_triad_gbs}});
  if (r.cross_core.own_gbs > 0)
    j["cross_core"] = {{"own_gbs", r.cross_core.own_gbs}, {"other_gbs", r.cross_core.other_gbs}};
  for (const KernelTiming& k : r.kernels)
    j["kernels"].push_back({{"activation", k.activation}, {"direction", k.direction}, {"kernels", k.kernels},
                            {"elems", k.elems}, {"ns_per_elem", k.ns_per_elem}, {"gbs", k.gbs},
                            {"roof_fraction", k.roof_fraction}});
  for (const BatchNormTiming& b : r.batchnorm)
    j["batchnorm"].push_back({{"rows", b.rows}, {"features", b.features}, {"kernels", b.kernels},
                              {"train_forward_ns", b.train_forward_ns}, {"backward_ns", b.backward_ns},
                              {"eval_forward_ns", b.eval_forward_ns}});
  j["training_step"] = {{"step_ms", r.step.step_ms}, {"gemm_ms", r.step.gemm_ms}, {"other_ms", r.step.other_ms}};
  j["inference"] = {{"rows", r.inference.rows}, {"batch_ms", r.inference.batch_ms},
                    {"one_row_us", r.inference.one_row_us}};
  return j;
}

void print_tables(const BenchReport& r) {
  fmt::print("cpu: {}, vector kernels: {}, threads: {}\nmatrix products: {}\n", r.cpu, r.isa, r.threads,
             r.matrix_products);
  for (const Roof& roof : r.roofs) {
    fmt::print("\n{} floats: copy roof {:.1f} GB/s (memcpy {:.1f}, streaming {:.1f}), triad roof {:.1f} GB/s "
               "(plain {:.1f}, streaming {:.1f})\n",
               roof.elems, roof.copy_gbs, roof.memcpy_gbs, roof.stream_copy_gbs, roof.triad_gbs, roof.plain_triad_gbs,
               roof.stream_triad_gbs);
    fmt::print("{:<24} {:>9} {:>10} {:>9} {:>7} | {:>10} {:>9} {:>7} | {:>9}\n", "activation", "direction",
               "vector ns", "GB/s", "roof", "ref ns", "GB/s", "roof", "speedup");
    for (const KernelTiming& v : r.kernels) {
      if (v.elems != roof.elems || v.kernels != "vector") continue;
      const KernelTiming* ref = nullptr;
      for (const KernelTiming& k : r.kernels)
        if (k.elems == v.elems && k.kernels == "reference" && k.activation == v.activation &&
            k.direction == v.direction)
          ref = &k;
      fmt::print("{:<24} {:>9} {:>10.3f} {:>9.1f} {:>6.0f}%", v.activation, v.direction, v.ns_per_elem, v.gbs,
                 100 * v.roof_fraction);
      if (ref)
        fmt::print(" | {:>10.3f} {:>9.1f} {:>6.0f}% | {:>8.1f}x\n", ref->ns_per_elem, ref->gbs,
                   100 * ref->roof_fraction, ref->ns_per_elem / v.ns_per_elem);
      else
        fmt::print("\n");
    }
  }
  fmt::print("\nBatchNorm1d, ns per element\n{:>6} {:>8} {:>10} {:>13} {:>9} {:>11}\n", "rows", "features",
             "kernels", "train fwd", "backward", "eval fwd");
  for (const BatchNormTiming& b : r.batchnorm)
    fmt::print("{:>6} {:>8} {:>10} {:>13.3f} {:>9.3f} {:>11.3f}\n", b.rows, b.features, b.kernels,
               b.train_forward_ns, b.backward_ns, b.eval_forward_ns);
  if (r.cross_core.own_gbs > 0)
    fmt::print("\nbetween cores: 256 KB that another core has just written read at {:.1f} GB/s, against {:.1f} GB/s "
               "for a core's own ({:.1f}x); every handover between threads pays it\n",
               r.cross_core.other_gbs, r.cross_core.own_gbs, r.cross_core.own_gbs / r.cross_core.other_gbs);
  fmt::print("\ntraining step, seed recipe 784-256-128-10, batch 128, SGD: {:.3f} ms, of which matrix products "
             "{:.3f} ms ({:.0f}%), everything else {:.3f} ms\n",
             r.step.step_ms, r.step.gemm_ms, 100 * r.step.gemm_ms / r.step.step_ms, r.step.other_ms);
  fmt::print("inference (predict), seed recipe with BatchNorm folded: {} rows {:.3f} ms, one row {:.1f} us\n",
             r.inference.rows, r.inference.batch_ms, r.inference.one_row_us);
}

}  // namespace

int run_bench(const BenchCliOptions& o) {
  set_threads(o.threads);
  BenchOptions options;
  options.reference = o.reference;
  options.activations = o.activations;
  if (o.quick) {
    options.cache_elems = std::size_t(1) << 14;
    options.dram_elems = std::size_t(1) << 16;
    options.min_seconds = 0.002;
    options.inference_rows = 512;
  }
  const BenchReport report = run_bench(options);
  if (o.json) fmt::print("{}\n", to_json(report).dump());
  else print_tables(report);
  return 0;
}

}  // namespace actlab::cli
