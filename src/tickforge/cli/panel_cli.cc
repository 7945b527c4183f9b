// `tickforge panel build`: per-symbol Parquet files into one cross-sectional panel.
#include "tickforge/cli/panel_cli.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "tickforge/cli/checks.h"
#include "tickforge/cli/format.h"
#include "tickforge/panel/config.h"
#include "tickforge/panel/panel.h"

namespace tickforge::cli {
namespace {

struct PanelArgs {
  std::vector<std::string> inputs, settings, columns;
  std::string out, config, target, time, symbol, order, spill;
  int64_t min_cs = 0, max_cs = 0;
  uint64_t seed = 0;
  bool no_float32 = false, json = false;
  std::string compression = "zstd";
  int64_t row_group_rows = 1 << 17;
  // The options given on the command line; only these override the config file and --set.
  CLI::Option *target_opt, *time_opt, *symbol_opt, *columns_opt, *min_cs_opt, *max_cs_opt, *order_opt, *seed_opt,
      *float_opt, *spill_opt;
};

Status AddInput(panel::PanelBuilder& builder, const std::string& input) {
  std::error_code ec;
  if (std::filesystem::is_directory(input, ec)) return builder.AddDirectory(input);
  if (std::filesystem::is_regular_file(input, ec)) {
    std::string stem = std::filesystem::path(input).filename().string();
    if (stem.ends_with(".parquet")) stem.resize(stem.size() - 8);
    return builder.AddParquet(stem, {input});
  }
  return Status::IOError(input, ": no such file or directory");
}

Status Build(const PanelArgs& args) {
  panel::PanelOptions options;
  if (!args.config.empty()) ARROW_RETURN_NOT_OK(panel::ApplyPipelineConfig(args.config, &options));
  for (const auto& setting : args.settings) ARROW_RETURN_NOT_OK(panel::ApplyPanelSetting(setting, &options));
  if (args.target_opt->count()) options.target_column = args.target;
  if (args.time_opt->count()) options.time_column = args.time;
  if (args.symbol_opt->count()) options.symbol_column = args.symbol;
  if (args.columns_opt->count()) options.columns = args.columns;
  if (args.min_cs_opt->count()) options.min_cs = args.min_cs;
  if (args.max_cs_opt->count()) options.max_cs_samples = args.max_cs;
  if (args.order_opt->count()) options.order = panel::ParseOrder(args.order).ValueOrDie();
  if (args.seed_opt->count()) options.seed = args.seed;
  if (args.float_opt->count()) options.use_float32 = false;
  if (args.spill_opt->count()) options.spill_dir = args.spill;
  ARROW_RETURN_NOT_OK(options.Validate());
  panel::PanelBuilder builder(options);
  for (const auto& input : args.inputs) ARROW_RETURN_NOT_OK(AddInput(builder, input));
  ParquetWriteOptions write;
  write.compression = ParquetCompression(args.compression).ValueOrDie();
  write.row_group_rows = args.row_group_rows;
  const auto start = std::chrono::steady_clock::now();
  Result<panel::PanelReport> written;
  {
    ProgressLine line("panel ");
    written = builder.WriteParquet(args.out, write, line.Fn());
  }
  ARROW_ASSIGN_OR_RAISE(auto report, std::move(written));
  const double seconds = SecondsSince(start);
  if (args.json) {
    auto doc = report.ToJson();
    doc["output"] = args.out;
    doc["seconds"] = seconds;
    fmt::print("{}\n", doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    return Status::OK();
  }
  for (const auto& skipped : report.skipped) {
    fmt::print(stderr, "skipped {}: {}\n", skipped.symbol, skipped.reason);
  }
  fmt::print("{}: {} rows, {} symbols ({} skipped), order {}, in {:.2f} s\n", args.out, report.rows_out,
             report.symbols.size(), report.skipped.size(), panel::OrderName(options.order), seconds);
  if (options.min_cs > 0 || options.max_cs_samples > 0) {
    fmt::print("  time column {}: {} timestamps with a target, {} kept by min_cs\n", report.time_column,
               report.timestamps, report.timestamps_kept);
  }
  return Status::OK();
}

}  // namespace

void AddPanelCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<PanelArgs>();
  auto& a = *args;
  auto* panel_cmd = app.add_subcommand("panel", "Cross-sectional panels of many symbols");
  panel_cmd->require_subcommand(1);
  auto* panel_build = panel_cmd->add_subcommand(
      "build", "Combine per-symbol Parquet files into one panel with a symbol column, in bounded memory");
  panel_build->add_option("--input", a.inputs,
                          "Directories of NAME.parquet or symbol=NAME/ (or single files, symbol = file stem)")
      ->required()
      ->expected(1, -1);
  panel_build->add_option("--out", a.out, "Parquet file to write")->required();
  panel_build->add_option("--config", a.config, "Pipeline YAML (use_float32, streaming_collect, panel: keys)")
      ->check(CLI::ExistingFile);
  panel_build->footer("Panel keys (--config FILE's panel: section, --set key=value) and their defaults:\n" +
                      panel::PanelOptionsTable().Help());
  panel_build->add_option("--set", a.settings, "Set a panel key, e.g. --set batch_rows=32768 (repeatable)");
  a.target_opt = panel_build->add_option("--target", a.target, "Target column: symbols without it are skipped");
  a.time_opt = panel_build->add_option("--time-column", a.time, "Time column (default: ts, timestamp, or the only timestamp column)");
  a.symbol_opt = panel_build->add_option("--symbol-column", a.symbol, "Name of the symbol column (default symbol)");
  a.columns_opt = panel_build->add_option("--columns", a.columns, "Read only these columns")->delimiter(',');
  a.min_cs_opt = panel_build->add_option("--min-cs", a.min_cs, "Keep timestamps with at least this many symbols with a target")
      ->check(NonNegative());
  a.max_cs_opt = panel_build->add_option("--max-cs-samples", a.max_cs, "At most this many symbols per timestamp (seeded)")
      ->check(NonNegative());
  a.order_opt = panel_build->add_option("--order", a.order, "symbol (concat of sorted symbols) or time")
      ->check(CLI::IsMember({"symbol", "time"}));
  a.seed_opt = panel_build->add_option("--seed", a.seed, "Seed of the max_cs_samples choice");
  a.float_opt = panel_build->add_flag("--no-float32", a.no_float32, "Keep float64 columns as float64");
  a.spill_opt = panel_build->add_option("--spill-dir", a.spill, "Where order=time spills (default: next to --out)");
  panel_build->add_option("--compression", a.compression, "Parquet codec")
      ->check(CLI::IsMember({"zstd", "snappy", "lz4", "gzip", "brotli", "none"}));
  panel_build->add_option("--row-group-rows", a.row_group_rows, "Rows per Parquet row group")->check(Positive());
  panel_build->add_flag("--json", a.json, "Print the report as one JSON object");
  panel_build->callback(RunCommand(exit_code, [args] { return Build(*args); }));
}

}  // namespace tickforge::cli
