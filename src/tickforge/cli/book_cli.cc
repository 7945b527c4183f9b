// `tickforge book build`: MBO files to book rows, one Parquet file each, with a summary per
// file of what the replay saw, or all of them into one store commit (--into).
#include "tickforge/cli/book_cli.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "tickforge/book/build.h"
#include "tickforge/book/depth_build.h"
#include "tickforge/book/mbp_rows.h"
#include "tickforge/cli/checks.h"
#include "tickforge/cli/format.h"
#include "tickforge/store/options.h"
#include "tickforge/store/store.h"

namespace tickforge::cli {
namespace {

struct BookArgs {
  book::BuildOptions options;
  std::vector<std::string> files;
  std::string out_dir;
  std::string into;
  std::string dataset = "mbp10";
  std::string compression = "zstd";
  std::string format = "auto";
  bool json = false;
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

// A depth-stream file: its summary names the gaps, the first with its line.
Status BuildDepth(const BookArgs& args, const book::BuildOptions& options, const std::string& file,
                  const std::filesystem::path& output, ProgressReporter& progress, int64_t bytes,
                  nlohmann::ordered_json* summary) {
  const auto start = std::chrono::steady_clock::now();
  ARROW_ASSIGN_OR_RAISE(auto stats, book::BuildDepthFile(file, output, options.book, options.parquet));
  if (args.json) {
    summary->push_back(stats.ToJson());
    return progress.Add(stats.rows, bytes, 1);
  }
  const double seconds = SecondsSince(start);
  const std::string gaps =
      stats.gaps == 0 ? "0 gaps"
                      : fmt::format("{} gaps (first at line {}: {})", stats.gaps, stats.gap_list.front().line,
                                    stats.gap_list.front().reason);
  fmt::print("{} -> {}: {} {}, {} lines, {} messages, {} events, {} rows, {} snapshots, {} stale, {} unsynced, "
             "{} skipped, {} crossed, {}, size scale {}; {} -> {} in {:.2f} s ({:.1f} k lines/s)\n",
             file, stats.output, stats.format, stats.symbol, stats.lines, stats.messages, stats.events, stats.rows,
             stats.snapshots, stats.stale, stats.unsynced, stats.skipped, stats.crossed, gaps, stats.size_scale,
             FormatBytes(static_cast<double>(stats.input_bytes)), FormatBytes(static_cast<double>(stats.output_bytes)),
             seconds, seconds > 0 ? static_cast<double>(stats.lines) / seconds / 1e3 : 0.0);
  return progress.Add(stats.rows, bytes, 1);
}

// --into: every input's rows as one commit of the store's dataset, deduplicated against what
// it holds (a rerun adds nothing).
Status BuildInto(const BookArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, store::Store::Open(args.into));
  store::IngestOptions options;
  options.books.only = true;
  options.books.dataset = args.dataset;
  options.books.book = args.options.book;
  options.write.compression = args.compression;
  const auto start = std::chrono::steady_clock::now();
  Result<store::CommitInfo> result;
  {
    ProgressLine line("book ");
    options.progress = line.Fn();
    result = store->Ingest(args.files, options);
  }
  ARROW_ASSIGN_OR_RAISE(auto info, std::move(result));
  if (args.json) {
    std::cout << store::ToJson(info).dump(1) << "\n";
    return Status::OK();
  }
  for (const auto& warning : info.warnings) fmt::print(stderr, "warning: {}\n", warning);
  fmt::print("{} -> {} dataset {}: version {}, {} rows in, {} written, {} duplicates dropped, {} files added, "
             "{:.2f} s\n",
             args.files.size() == 1 ? args.files.front() : fmt::format("{} files", args.files.size()), args.into,
             args.dataset, info.version, info.rows_in, info.rows_written, info.rows_duplicate, info.added.size(),
             SecondsSince(start));
  return Status::OK();
}

Status Build(BookArgs& args) {
  if (!args.options.book.lobster.orderbook.empty() && args.files.size() != 1) {
    return Status::Invalid("--orderbook names the orderbook file of one message file; ", args.files.size(), " given");
  }
  ARROW_ASSIGN_OR_RAISE(args.options.parquet.compression, ParquetCompression(args.compression));
  ARROW_RETURN_NOT_OK(
      book::BookInputOptionsTable().Apply(nlohmann::json{{"format", args.format}}, &args.options.book.input, "--format"));
  if (!args.into.empty()) return BuildInto(args);
  const auto& files = args.files;
  ARROW_ASSIGN_OR_RAISE(const auto outputs, book::BookOutputsFor(files, args.out_dir, args.options.book));
  // One line for all files: their bytes make the ETA.
  const std::vector<int64_t> sizes = FileSizes(files);
  const int64_t bytes_total = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  ProgressLine line("book ");
  ProgressReporter progress(line.Fn());
  ARROW_RETURN_NOT_OK(progress.Begin("build", static_cast<int64_t>(files.size()), -1, bytes_total));
  auto summary = nlohmann::ordered_json::array();
  int64_t base = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    if (i > 0) base += sizes[i - 1];
    // The input's kind is found once (auto reads its first bytes) and handed on.
    book::BuildOptions options = args.options;
    ARROW_ASSIGN_OR_RAISE(options.book.input.format, book::ResolveBookFormat(files[i], options.book));
    if (book::IsDepthFormat(options.book.input.format)) {
      line.Clear();
      ARROW_RETURN_NOT_OK(BuildDepth(args, options, files[i], outputs[i], progress, sizes[i], &summary));
      continue;
    }
    const auto& output = outputs[i];
    const auto start = std::chrono::steady_clock::now();
    const Result<book::BookStats> stats = book::BuildBookFile(files[i], output, options, progress.ForFile(base));
    ARROW_RETURN_NOT_OK(stats.status());
    ARROW_RETURN_NOT_OK(progress.Add(stats->rows, 0, 1));
    ARROW_RETURN_NOT_OK(progress.SetBytes(base + sizes[i]));
    if (args.json) {
      summary.push_back(stats->ToJson());
      continue;
    }
    line.Clear();
    const double seconds = SecondsSince(start);
    fmt::print("{} -> {}: {} messages, {} events, {} rows, {} books, {} crossed, {} trailing, {}anomalies: {}; "
               "{} -> {} in {:.2f} s ({:.1f} M messages/s)\n",
               files[i], stats->output, stats->messages, stats->events, stats->rows, stats->books, stats->crossed,
               stats->trailing, stats->halts > 0 ? fmt::format("{} halts, ", stats->halts) : "", FormatAnomalies(stats->anomalies), FormatBytes(static_cast<double>(stats->input_bytes)),
               FormatBytes(static_cast<double>(stats->output_bytes)), seconds,
               seconds > 0 ? static_cast<double>(stats->messages) / seconds / 1e6 : 0.0);
  }
  ARROW_RETURN_NOT_OK(progress.End());
  line.Close();
  if (args.json) {
    int64_t rows = 0;
    for (const auto& file : summary) rows += file.value("rows", int64_t{0});
    const nlohmann::ordered_json doc = {{"files", summary}, {"rows", rows}};
    // A file name need not be UTF-8; the summary must still be JSON.
    fmt::print("{}\n", doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
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
      "Rebuild books into MBP-10 rows, one Parquet file per input: Databento MBO files (one row per event, "
      "F_LAST), LOBSTER message files (one row per message, with the orderbook file beside it) or crypto depth "
      "streams (Binance, Bybit, Hyperliquid: one row per applied update)");
  build->add_option("files", args->files, "MBO DBN files (.dbn or .dbn.zst), LOBSTER message files (.csv) or depth-stream files")
      ->required()
      ->check(CLI::ExistingFile);
  build->add_option("--format", args->format,
                    "Input kind: auto (detected from the name and content), mbo, lobster, binance, bybit, hyperliquid, "
                    "binance-csv")
      ->check(CLI::IsMember({"auto", "mbo", "lobster", "binance", "bybit", "hyperliquid", "binance-csv"}))
      ->capture_default_str();
  build->add_option("--size-scale", options.book.input.size_scale,
                    "Depth streams: decimals of the fixed-point sizes (-1: per file, from the data)")
      ->check(CLI::Range(-1, 18))
      ->capture_default_str();
  auto* out = build->add_option("--out", args->out_dir, "Output directory: one Parquet file per input");
  auto* into = build->add_option("--into", args->into,
                                 "Store directory (created if missing): all inputs' rows as one commit of --dataset, "
                                 "rows the dataset holds already dropped");
  out->excludes(into);
  into->excludes(out);
  build->add_option("--dataset", args->dataset, "--into: the store dataset the rows go to")
      ->needs(into)
      ->capture_default_str();
  build->add_option("--levels", options.book.levels, "Levels per side in each row (10: MBP-10)")
      ->check(CLI::Range(1, book::kMaxLevels))
      ->capture_default_str();
  build->add_flag("--strict", options.book.strict,
                  "Fail on the first anomaly (unknown order id, negative level, sequence backwards) or depth-stream "
                  "gap, naming the file and the record or line");
  build->add_option("--date", options.book.lobster.date, "LOBSTER: the trading day (YYYY-MM-DD) when the name states none");
  build->add_option("--symbol", options.book.lobster.symbol, "LOBSTER: the symbol (default: the file name's ticker)");
  build->add_option("--orderbook", options.book.lobster.orderbook,
                    "LOBSTER: the orderbook file of the one message file given (default: found beside it)")
      ->check(CLI::ExistingFile);
  build->add_option("--compression", args->compression, "Parquet codec")
      ->check(CLI::IsMember({"zstd", "snappy", "lz4", "gzip", "brotli", "none"}))
      ->capture_default_str();
  build->add_option("--row-group-rows", options.parquet.row_group_rows, "Rows per Parquet row group")
      ->check(Positive())
      ->capture_default_str();
  build->add_flag("--json", args->json, "Print one JSON object: each file's summary and the rows in all");
  build->callback(RunCommand(exit_code, [args] {
    if (args->out_dir.empty() && args->into.empty()) return Status::Invalid("book build needs --out DIR or --into STORE");
    return Build(*args);
  }));
}

}  // namespace tickforge::cli
