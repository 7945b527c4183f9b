// `tickforge book build`: MBO files to book rows, one Parquet file each, with a summary per
// file of what the replay saw.
#include "tickforge/cli/book_cli.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/book/build.h"
#include "tickforge/book/mbp_rows.h"
#include "tickforge/cli/format.h"

namespace tickforge::cli {
namespace {

struct BookArgs {
  book::BuildOptions options;
  std::vector<std::string> files;
  std::string out_dir;
  std::string compression = "zstd";
};

// "none", or each anomaly that occurred with its count.
std::string FormatAnomalies(const book::AnomalyCounts& anomalies) {
  std::string out;
  for (int i = 1; i < book::kAnomalyKinds; ++i) {
    const auto kind = static_cast<book::Anomaly>(i);
    if (anomalies[kind] == 0) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", book::AnomalyName(kind), anomalies[kind]);
  }
  return out.empty() ? "none" : out;
}

Status Build(BookArgs& args) {
  if (!args.options.book.lobster.orderbook.empty() && args.files.size() != 1) {
    return Status::Invalid("--orderbook names the orderbook file of one message file; ", args.files.size(), " given");
  }
  ARROW_ASSIGN_OR_RAISE(args.options.parquet.compression, ParquetCompression(args.compression));
  const auto& files = args.files;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto output = std::filesystem::path(args.out_dir) / book::BookParquetNameFor(files[i], args.options.book);
    const auto start = std::chrono::steady_clock::now();
    Result<book::BookStats> stats;
    {
      Progress progress(fmt::format("[{}/{}] {}", i + 1, files.size(), std::filesystem::path(files[i]).filename().string()));
      stats = book::BuildBookFile(files[i], output, args.options, std::ref(progress));
    }
    ARROW_RETURN_NOT_OK(stats.status());
    const double seconds = SecondsSince(start);
    fmt::print("{} -> {}: {} messages, {} events, {} rows, {} books, {} crossed, {} trailing, {}anomalies: {}; "
               "{} -> {} in {:.2f} s ({:.1f} M messages/s)\n",
               files[i], stats->output, stats->messages, stats->events, stats->rows, stats->books, stats->crossed,
               stats->trailing, stats->halts > 0 ? fmt::format("{} halts, ", stats->halts) : "", FormatAnomalies(stats->anomalies), FormatBytes(static_cast<double>(stats->input_bytes)),
               FormatBytes(static_cast<double>(stats->output_bytes)), seconds,
               seconds > 0 ? static_cast<double>(stats->messages) / seconds / 1e6 : 0.0);
  }
  return Status::OK();
}

}  // namespace

void AddBookCommands(CLI::App& app, int* exit_code) {
  auto* book_cmd = app.add_subcommand("book", "Order books rebuilt into MBP-10 rows");
  book_cmd->require_subcommand(1);

  auto args = std::make_shared<BookArgs>();
  auto& options = args->options;
  auto* build = book_cmd->add_subcommand(
      "build",
      "Rebuild the books of Databento MBO files (one row per event, F_LAST) or LOBSTER message files (one row per "
      "message, with the orderbook file beside it): one Parquet file per input");
  build->add_option("files", args->files, "MBO DBN files (.dbn or .dbn.zst) or LOBSTER message files (.csv)")->required()->check(CLI::ExistingFile);
  build->add_option("--out", args->out_dir, "Output directory")->required();
  build->add_option("--levels", options.book.levels, "Levels per side in each row (10: MBP-10)")
      ->check(CLI::Range(1, book::kMaxLevels))
      ->capture_default_str();
  build->add_flag("--strict", options.book.strict,
                  "Fail on the first anomaly (unknown order id, negative level, sequence backwards), naming the "
                  "file and the record");
  build->add_option("--date", options.book.lobster.date, "LOBSTER: the trading day (YYYY-MM-DD) when the name states none");
  build->add_option("--symbol", options.book.lobster.symbol, "LOBSTER: the symbol (default: the file name's ticker)");
  build->add_option("--orderbook", options.book.lobster.orderbook,
                    "LOBSTER: the orderbook file of the one message file given (default: found beside it)")
      ->check(CLI::ExistingFile);
  build->add_option("--compression", args->compression, "Parquet codec")
      ->check(CLI::IsMember({"zstd", "snappy", "lz4", "gzip", "brotli", "none"}))
      ->capture_default_str();
  build->add_option("--row-group-rows", options.parquet.row_group_rows, "Rows per Parquet row group")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  build->callback(RunCommand(exit_code, [args] { return Build(*args); }));
}

}  // namespace tickforge::cli
