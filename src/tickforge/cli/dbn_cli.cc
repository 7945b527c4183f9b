// `tickforge dbn inspect` and `tickforge dbn to-parquet`.
#include "tickforge/cli/dbn_cli.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "tickforge/cli/checks.h"
#include "tickforge/cli/format.h"
#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/to_parquet.h"

namespace tickforge::cli {
namespace {

struct DbnArgs {
  std::vector<std::string> files;
  int fragment_version = 0;
  std::string out_dir;
  std::string price_type = "float";
  std::string compression = "zstd";
  std::string schema;  // empty: the metadata's
  bool no_symbols = false, json = false;
  int64_t row_group_rows = 1 << 17;
};

std::string FormatTs(uint64_t ts) { return FormatTimestampOrDash(ts, dbn::kUndefTimestamp); }

dbn::DecoderOptions DecoderOptionsFor(int fragment_version) {
  dbn::DecoderOptions options;
  if (fragment_version > 0) options.fragment_version = static_cast<uint8_t>(fragment_version);
  return options;
}

Status InspectFile(const std::string& path, int fragment_version) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, dbn::Decoder::Open(path, DecoderOptionsFor(fragment_version)));
  const dbn::Metadata& m = decoder->metadata();
  std::map<uint8_t, int64_t> counts;
  uint64_t first = dbn::kUndefTimestamp, last = 0;
  int64_t records = 0;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(const dbn::RecordHeader* record, decoder->Next());
    if (record == nullptr) break;
    ++records;
    ++counts[record->rtype];
    if (record->ts_event != dbn::kUndefTimestamp) {
      first = std::min(first, record->ts_event);
      last = std::max(last, record->ts_event);
    }
  }
  fmt::print("{}\n", path);
  fmt::print("  size        {}\n", FormatBytes(static_cast<double>(decoder->raw_size())));
  fmt::print("  version     {}\n", m.version);
  fmt::print("  dataset     {}\n", m.dataset.empty() ? "-" : m.dataset);
  fmt::print("  schema      {}\n", m.schema ? dbn::SchemaName(*m.schema) : "mixed");
  fmt::print("  stype       {} -> {}\n", m.stype_in ? dbn::STypeName(*m.stype_in) : "mixed",
             dbn::STypeName(m.stype_out));
  fmt::print("  period      {} .. {}\n", FormatTs(m.start), FormatTs(m.end));
  fmt::print("  symbols     {}{}\n", m.symbols.size(),
             m.symbols.empty() ? "" : fmt::format(" ({}{})", m.symbols.front(), m.symbols.size() > 1 ? ", ..." : ""));
  fmt::print("  mappings    {} symbols, {} intervals\n", m.mappings.size(),
             [&] {
               size_t n = 0;
               for (const auto& mapping : m.mappings) n += mapping.intervals.size();
               return n;
             }());
  if (!m.partial.empty() || !m.not_found.empty()) {
    fmt::print("  partial     {}   not found {}\n", m.partial.size(), m.not_found.size());
  }
  fmt::print("  records     {}\n", records);
  for (const auto& [rtype, count] : counts) {
    fmt::print("    {:<16} {}\n", dbn::RTypeName(rtype), count);
  }
  fmt::print("  ts_event    {} .. {}\n", records ? FormatTs(first) : "-", records ? FormatTs(last) : "-");
  return Status::OK();
}

Status Inspect(const DbnArgs& args) {
  for (const auto& file : args.files) ARROW_RETURN_NOT_OK(InspectFile(file, args.fragment_version));
  return Status::OK();
}

Status ToParquet(const DbnArgs& args) {
  dbn::ParquetOptions options;
  options.arrow.price_type = args.price_type == "fixed" ? dbn::PriceType::kFixed : dbn::PriceType::kFloat;
  options.arrow.map_symbols = !args.no_symbols;
  options.parquet.compression = ParquetCompression(args.compression).ValueOrDie();
  options.parquet.row_group_rows = args.row_group_rows;
  options.decoder = DecoderOptionsFor(args.fragment_version);
  if (!args.schema.empty()) {
    options.arrow.schema = dbn::SchemaFromName(args.schema);
    if (!options.arrow.schema) {
      return Status::Invalid("--schema: unknown DBN schema '", args.schema,
                             "' (mbp-10, mbp-1, mbo, trades, tbbo, ohlcv-1m, definition, ...)");
    }
  }
  const auto& files = args.files;
  ARROW_ASSIGN_OR_RAISE(const auto outputs, dbn::ParquetOutputsFor(files, args.out_dir));
  // One line for all files: their bytes make the ETA.
  const std::vector<int64_t> sizes = FileSizes(files);
  const int64_t bytes_total = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  ProgressLine line("dbn ");
  ProgressReporter progress(line.Fn());
  ARROW_RETURN_NOT_OK(progress.Begin("to-parquet", static_cast<int64_t>(files.size()), -1, bytes_total));
  auto summary = nlohmann::ordered_json::array();
  int64_t base = 0, rows = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    if (i > 0) base += sizes[i - 1];
    const auto& output = outputs[i];
    const auto start = std::chrono::steady_clock::now();
    const Result<dbn::ConvertStats> stats = dbn::ConvertToParquet(files[i], output, options, progress.ForFile(base));
    ARROW_RETURN_NOT_OK(stats.status());
    ARROW_RETURN_NOT_OK(progress.Add(stats->rows, 0, 1));
    ARROW_RETURN_NOT_OK(progress.SetBytes(base + sizes[i]));
    rows += stats->rows;
    if (args.json) {
      summary.push_back({{"input", stats->input}, {"output", stats->output}, {"rows", stats->rows},
                         {"input_bytes", stats->input_bytes}, {"output_bytes", stats->output_bytes},
                         {"skipped_records", stats->skipped}});
      continue;
    }
    line.Clear();
    if (!stats->skipped.empty()) {
      int64_t skipped = 0;
      std::string listed;
      for (const auto& [type, count] : stats->skipped) {
        skipped += count;
        listed += fmt::format("{}{} {}", listed.empty() ? "" : ", ", count, type);
      }
      fmt::print(stderr, "note: {}: {} records of other schemas than {} not converted ({})\n", files[i], skipped,
                 args.schema, listed);
    }
    const double seconds = SecondsSince(start);
    fmt::print("{} -> {}: {} rows, {} -> {} in {:.2f} s\n", files[i], stats->output, stats->rows,
               FormatBytes(static_cast<double>(stats->input_bytes)),
               FormatBytes(static_cast<double>(stats->output_bytes)), seconds);
  }
  ARROW_RETURN_NOT_OK(progress.End());
  line.Close();
  if (args.json) {
    const nlohmann::ordered_json doc = {{"files", summary}, {"rows", rows}};
    fmt::print("{}\n", doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  }
  return Status::OK();
}

}  // namespace

void AddDbnCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<DbnArgs>();
  auto* dbn_cmd = app.add_subcommand("dbn", "Databento DBN files");
  dbn_cmd->require_subcommand(1);

  auto* inspect = dbn_cmd->add_subcommand("inspect", "Print metadata, record counts per type and time range");
  inspect->add_option("files", args->files, "DBN files (.dbn or .dbn.zst)")->required()->check(CLI::ExistingFile);
  inspect->add_option("--fragment-version", args->fragment_version, "Read headerless record streams of this DBN version");
  inspect->callback(RunCommand(exit_code, [args] { return Inspect(*args); }));

  auto* to_parquet = dbn_cmd->add_subcommand("to-parquet", "Convert DBN files to Parquet, one output file each");
  to_parquet->add_option("files", args->files, "DBN files (.dbn or .dbn.zst)")->required()->check(CLI::ExistingFile);
  to_parquet->add_option("--out", args->out_dir, "Output directory")->required();
  to_parquet->add_option("--price-type", args->price_type, "float (to_df's default) or fixed (int64 1e-9 units)")
      ->check(CLI::IsMember({"float", "fixed"}));
  to_parquet->add_option("--compression", args->compression, "Parquet codec")
      ->check(CLI::IsMember({"zstd", "snappy", "lz4", "gzip", "brotli", "none"}));
  to_parquet->add_option("--row-group-rows", args->row_group_rows, "Rows per Parquet row group")
      ->check(Positive());
  to_parquet->add_option("--schema", args->schema,
                         "Convert the records of this schema (mbp-10, trades, ...): for files that mix several");
  to_parquet->add_flag("--no-symbols", args->no_symbols, "Do not add the resolved `symbol` column");
  to_parquet->add_flag("--json", args->json, "Print one JSON object: each file's summary and the rows in all");
  to_parquet->add_option("--fragment-version", args->fragment_version, "Read headerless record streams of this DBN version");
  to_parquet->callback(RunCommand(exit_code, [args] { return ToParquet(*args); }));
}

}  // namespace tickforge::cli
