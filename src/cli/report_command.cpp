// actlab report: the HTML page, figures and CSV data of a run or comparison folder.
#include "actlab/report.hpp"
#include "cli/commands.hpp"

#include <fmt/format.h>
#include <stdexcept>

namespace actlab::cli {

int run_report(const ReportCliOptions& o) {
  ReportOptions options;
  if (o.format == "svg") options.format = FigureFormat::svg;
  else if (o.format == "png") options.format = FigureFormat::png;
  else throw std::invalid_argument(fmt::format("--format {}: use svg or png", o.format));
  const ReportResult r = write_report(o.dir, options);
  for (const std::string& note : r.notes) fmt::print(stderr, "note: {}\n", note);
  if (!r.message.empty()) fmt::print(stderr, "warning: {}\n", r.message);
  fmt::print("report: {} ({} figures drawn, {} data files in {}/figures)\n", r.html, r.figures.size(),
             r.data.size(), o.dir);
  return 0;
}

}  // namespace actlab::cli
