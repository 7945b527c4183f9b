// The `tickforge` command line tool. Errors end here: a message on stderr and an exit code.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "tickforge/cli/store_cli.h"
#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/to_parquet.h"
#include "tickforge/features/depth_image.h"
#include "tickforge/features/image_io.h"
#include "tickforge/label/label.h"
#include "tickforge/panel/config.h"
#include "tickforge/panel/panel.h"
#include "tickforge/synth/binance.h"
#include "tickforge/synth/synth.h"
#include "tickforge/util/time.h"
#include "tickforge/util/version.h"

namespace tickforge {
namespace {

constexpr int kExitError = 1;

int Report(const Status& status) {
  fmt::print(stderr, "tickforge: error: {}\n", status.message());
  return kExitError;
}

std::string FormatTs(uint64_t ts) { return ts == dbn::kUndefTimestamp ? "-" : FormatTimestampNs(ts); }

std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", bytes, units[unit]);
}

// A one-line progress display on a terminal; silent when stderr is not a terminal.
class Progress {
 public:
  explicit Progress(std::string label) : label_(std::move(label)), enabled_(::isatty(2) != 0) {}
  ~Progress() {
    if (shown_) fmt::print(stderr, "\r\033[K");
  }
  void operator()(int64_t done, int64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    shown_ = true;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0;
    const int width = 30;
    const int filled = static_cast<int>(fraction * width);
    fmt::print(stderr, "\r{} [{}{}] {:5.1f}% {}/s", label_, std::string(filled, '#'),
               std::string(width - filled, ' '), fraction * 100,
               FormatBytes(seconds > 0 ? static_cast<double>(done) / seconds : 0));
  }

 private:
  std::string label_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

dbn::DecoderOptions DecoderOptionsFor(int fragment_version) {
  dbn::DecoderOptions options;
  if (fragment_version > 0) options.fragment_version = static_cast<uint8_t>(fragment_version);
  return options;
}

Status Inspect(const std::string& path, int fragment_version) {
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

}  // namespace
}  // namespace tickforge

int main(int argc, char** argv) {
  using namespace tickforge;
  CLI::App app{"tickforge: leakage-free labeled datasets from raw market data"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tickforge " + std::string(kVersion));

  // dbn inspect / to-parquet
  auto* dbn_cmd = app.add_subcommand("dbn", "Databento DBN files");
  dbn_cmd->require_subcommand(1);
  std::vector<std::string> files;
  int fragment_version = 0;

  auto* inspect = dbn_cmd->add_subcommand("inspect", "Print metadata, record counts per type and time range");
  inspect->add_option("files", files, "DBN files (.dbn or .dbn.zst)")->required()->check(CLI::ExistingFile);
  inspect->add_option("--fragment-version", fragment_version, "Read headerless record streams of this DBN version");

  auto* to_parquet = dbn_cmd->add_subcommand("to-parquet", "Convert DBN files to Parquet, one output file each");
  std::string out_dir;
  std::string price_type = "float";
  std::string compression = "zstd";
  bool no_symbols = false;
  int64_t row_group_rows = 1 << 17;
  to_parquet->add_option("files", files, "DBN files (.dbn or .dbn.zst)")->required()->check(CLI::ExistingFile);
  to_parquet->add_option("--out", out_dir, "Output directory")->required();
  to_parquet->add_option("--price-type", price_type, "float (to_df's default) or fixed (int64 1e-9 units)")
      ->check(CLI::IsMember({"float", "fixed"}));
  to_parquet->add_option("--compression", compression, "Parquet codec")
      ->check(CLI::IsMember({"zstd", "snappy", "lz4", "gzip", "brotli", "none"}));
  to_parquet->add_option("--row-group-rows", row_group_rows, "Rows per Parquet row group")
      ->check(CLI::PositiveNumber);
  to_parquet->add_flag("--no-symbols", no_symbols, "Do not add the resolved `symbol` column");
  to_parquet->add_option("--fragment-version", fragment_version, "Read headerless record streams of this DBN version");

  // synth dbn
  auto* synth_cmd = app.add_subcommand("synth", "Generate synthetic market data");
  synth_cmd->require_subcommand(1);
  auto* synth_dbn = synth_cmd->add_subcommand("dbn", "Write realistic MBP-10 DBN files, one per trading day");
  synth::SynthOptions synth_options;
  std::string start_date = "2024-04-01";
  bool no_zstd = false;
  synth_dbn->add_option("--symbols", synth_options.symbols, "Instruments per file")->capture_default_str();
  synth_dbn->add_option("--days", synth_options.days, "Trading days (one file each)")->capture_default_str();
  synth_dbn->add_option("--rows-per-day", synth_options.rows_per_day, "MBP-10 records per file")->capture_default_str();
  synth_dbn->add_option("--seed", synth_options.seed, "Random seed")->capture_default_str();
  synth_dbn->add_option("--start-date", start_date, "First day (YYYY-MM-DD)")->capture_default_str();
  synth_dbn->add_flag("--no-zstd", no_zstd, "Write raw .dbn instead of .dbn.zst");
  synth_dbn->add_option("--out", out_dir, "Output directory")->required();

  // synth binance
  auto* synth_binance = synth_cmd->add_subcommand("binance", "Write Binance public-data dumps (data.binance.vision layout)");
  synth::BinanceOptions binance_options;
  std::string binance_symbols = "2", binance_start = "2024-01-01";
  std::vector<std::string> binance_kinds = {"klines"};
  bool binance_header = false, binance_no_header = false;
  synth_binance->add_option("--out", binance_options.out_dir, "Output directory")->required();
  synth_binance->add_option("--symbols", binance_symbols, "A count (BTCUSDT, ETHUSDT, ...) or names A,B")->capture_default_str();
  synth_binance->add_option("--days", binance_options.days, "Days")->capture_default_str();
  synth_binance->add_option("--start", binance_start, "First day (YYYY-MM-DD)")->capture_default_str();
  synth_binance->add_option("--market", binance_options.market, "spot, um (USD-M) or cm (COIN-M)")
      ->check(CLI::IsMember({"spot", "um", "cm"}))->capture_default_str();
  synth_binance->add_option("--kinds", binance_kinds, "klines, aggtrades, funding")->delimiter(',')->capture_default_str();
  synth_binance->add_option("--interval", binance_options.interval, "Kline interval (1m to 1d)")->capture_default_str();
  synth_binance->add_option("--aggtrades-per-minute", binance_options.aggtrades_per_minute, "Mean aggTrades per minute")
      ->capture_default_str();
  synth_binance->add_flag("--monthly", binance_options.monthly, "One file per month instead of per day");
  synth_binance->add_flag("--zip", binance_options.zip, "Write .zip archives with .CHECKSUM files");
  auto* header_flag = synth_binance->add_flag("--header", binance_header, "Write a header row (default: futures yes, spot no)");
  synth_binance->add_flag("--no-header", binance_no_header, "Write no header row")->excludes(header_flag);
  synth_binance->add_option("--seed", binance_options.seed, "Random seed")->capture_default_str();

  // label fit / build / run
  auto* label_cmd = app.add_subcommand("label", "Leakage-free labels: thresholds fit on early files, symbol datasets");
  label_cmd->require_subcommand(1);
  std::string config_file, thresholds_path;
  std::vector<std::string> inputs, assignments;
  bool skip_bad_files = false, keep_intermediate = false;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("--config", config_file, "YAML or JSON file with the labeling keys")->check(CLI::ExistingFile);
    cmd->add_option("--input", inputs, "DBN files or directories of them")->required()->expected(1, -1);
    cmd->add_option("--set", assignments, "Override a config key, e.g. --set nbins=21 (repeatable)");
    cmd->add_flag("--skip-bad-files", skip_bad_files, "Record unreadable files in the report instead of failing");
  };
  auto* label_fit = label_cmd->add_subcommand("fit", "Fit quantile thresholds on the first fit_fraction of the files");
  add_common(label_fit);
  label_fit->add_option("--out", thresholds_path, "thresholds.json to write")->required();
  auto* label_build = label_cmd->add_subcommand("build", "Label all files with fitted thresholds, one dataset per symbol");
  add_common(label_build);
  label_build->add_option("--thresholds", thresholds_path, "thresholds.json from label fit")->required()->check(CLI::ExistingFile);
  label_build->add_option("--out", out_dir, "Output directory")->required();
  label_build->add_flag("--keep-intermediate", keep_intermediate, "Keep the per-file symbol splits");
  auto* label_run = label_cmd->add_subcommand("run", "Fit and build in one command");
  add_common(label_run);
  label_run->add_option("--out", out_dir, "Output directory")->required();
  label_run->add_flag("--keep-intermediate", keep_intermediate, "Keep the per-file symbol splits");

  // features render
  auto* features_cmd = app.add_subcommand("features", "Depth images");
  features_cmd->require_subcommand(1);
  auto* render = features_cmd->add_subcommand("render", "Write one depth image as .npy and as a PNG heat map");
  std::string dataset, out_prefix;
  int64_t render_row = -1, render_ts = -1;
  std::vector<std::string> feature_names = {"volume"};
  features::ImageOptions image_options;
  render->add_option("dataset", dataset, "A labeled symbol dataset (label build output)")->required()->check(CLI::ExistingFile);
  auto* row_option = render->add_option("--row", render_row, "Last row of the sample's window");
  render->add_option("--ts", render_ts, "Use the last row at or before this ts_event (ns since the epoch)")->excludes(row_option);
  render->add_option("--features", feature_names, "volume, variance, trade_counts")->delimiter(',');
  render->add_option("--time-bins", image_options.time_bins, "T")->capture_default_str();
  render->add_option("--ticks-per-bin", image_options.ticks_per_bin, "Rows per time bin")->capture_default_str();
  render->add_option("--micro-pip-size", image_options.micro_pip_size, "Price grid step")->capture_default_str();
  render->add_option("--out", out_prefix, "Output path without extension (writes .npy and .png)")->required();

  // panel build
  auto* panel_cmd = app.add_subcommand("panel", "Cross-sectional panels of many symbols");
  panel_cmd->require_subcommand(1);
  auto* panel_build = panel_cmd->add_subcommand(
      "build", "Combine per-symbol Parquet files into one panel with a symbol column, in bounded memory");
  std::vector<std::string> panel_inputs, panel_settings, panel_columns;
  std::string panel_out, panel_config, panel_target, panel_time, panel_symbol, panel_order, panel_spill;
  int64_t panel_min_cs = 0, panel_max_cs = 0;
  uint64_t panel_seed = 0;
  bool panel_no_float32 = false;
  std::string panel_compression = "zstd";
  int64_t panel_row_group_rows = 1 << 17;
  panel_build->add_option("--input", panel_inputs,
                          "Directories of NAME.parquet or symbol=NAME/ (or single files, symbol = file stem)")
      ->required()
      ->expected(1, -1);
  panel_build->add_option("--out", panel_out, "Parquet file to write")->required();
  panel_build->add_option("--config", panel_config, "Pipeline YAML (use_float32, streaming_collect, panel: keys)")
      ->check(CLI::ExistingFile);
  panel_build->add_option("--set", panel_settings, "Set a panel key, e.g. --set batch_rows=32768 (repeatable)");
  auto* target_opt = panel_build->add_option("--target", panel_target, "Target column: symbols without it are skipped");
  auto* time_opt = panel_build->add_option("--time-column", panel_time, "Time column (default: ts, timestamp, or the only timestamp column)");
  auto* symbol_opt = panel_build->add_option("--symbol-column", panel_symbol, "Name of the symbol column (default symbol)");
  auto* columns_opt = panel_build->add_option("--columns", panel_columns, "Read only these columns")->delimiter(',');
  auto* min_cs_opt = panel_build->add_option("--min-cs", panel_min_cs, "Keep timestamps with at least this many symbols with a target")
      ->check(CLI::NonNegativeNumber);
  auto* max_cs_opt = panel_build->add_option("--max-cs-samples", panel_max_cs, "At most this many symbols per timestamp (seeded)")
      ->check(CLI::NonNegativeNumber);
  auto* order_opt = panel_build->add_option("--order", panel_order, "symbol (concat of sorted symbols) or time")
      ->check(CLI::IsMember({"symbol", "time"}));
  auto* seed_opt = panel_build->add_option("--seed", panel_seed, "Seed of the max_cs_samples choice");
  auto* float_opt = panel_build->add_flag("--no-float32", panel_no_float32, "Keep float64 columns as float64");
  auto* spill_opt = panel_build->add_option("--spill-dir", panel_spill, "Where order=time spills (default: next to --out)");
  panel_build->add_option("--compression", panel_compression, "Parquet codec")
      ->check(CLI::IsMember({"zstd", "snappy", "lz4", "gzip", "brotli", "none"}));
  panel_build->add_option("--row-group-rows", panel_row_group_rows, "Rows per Parquet row group")->check(CLI::PositiveNumber);

  int store_exit = 0;
  auto* store_cmd = AddStoreCommands(app, &store_exit);

  CLI11_PARSE(app, argc, argv);
  if (store_cmd->parsed()) return store_exit;

  if (render->parsed()) {
    image_options.features.clear();
    for (const auto& name : feature_names) {
      auto feature = features::FeatureFromName(name);
      if (!feature.ok()) return Report(feature.status());
      image_options.features.push_back(*feature);
    }
    if (render_row < 0 && render_ts < 0) return Report(Status::Invalid("give --row or --ts"));
    int64_t row = render_row;
    if (render_ts >= 0) {
      auto found = features::RowAtOrBefore(dataset, render_ts);
      if (!found.ok()) return Report(found.status());
      row = *found;
    }
    auto image = features::RenderDatasetRow(dataset, row, image_options);
    if (!image.ok()) return Report(image.status());
    const auto planes = static_cast<int64_t>(image_options.features.size());
    std::vector<int64_t> shape = {features::kImageRows, image_options.time_bins};
    if (planes > 1) shape.insert(shape.begin(), planes);
    if (auto status = features::WriteNpy(out_prefix + ".npy", image->data(), shape); !status.ok()) return Report(status);
    if (auto status = features::WriteHeatmapPng(out_prefix + ".png", image->data(), static_cast<int>(planes),
                                                features::kImageRows, image_options.time_bins);
        !status.ok()) {
      return Report(status);
    }
    fmt::print("row {}: wrote {}.npy and {}.png\n", row, out_prefix, out_prefix);
    return 0;
  }


  if (panel_build->parsed()) {
    panel::PanelOptions options;
    if (!panel_config.empty()) {
      if (auto status = panel::ApplyPipelineConfig(panel_config, &options); !status.ok()) return Report(status);
    }
    for (const auto& setting : panel_settings) {
      if (auto status = panel::ApplyPanelSetting(setting, &options); !status.ok()) return Report(status);
    }
    if (target_opt->count()) options.target_column = panel_target;
    if (time_opt->count()) options.time_column = panel_time;
    if (symbol_opt->count()) options.symbol_column = panel_symbol;
    if (columns_opt->count()) options.columns = panel_columns;
    if (min_cs_opt->count()) options.min_cs = panel_min_cs;
    if (max_cs_opt->count()) options.max_cs_samples = panel_max_cs;
    if (order_opt->count()) options.order = panel::ParseOrder(panel_order).ValueOrDie();
    if (seed_opt->count()) options.seed = panel_seed;
    if (float_opt->count()) options.use_float32 = false;
    if (spill_opt->count()) options.spill_dir = panel_spill;
    if (auto status = options.Validate(); !status.ok()) return Report(status);
    panel::PanelBuilder builder(options);
    for (const auto& input : panel_inputs) {
      std::error_code ec;
      Status status;
      if (std::filesystem::is_directory(input, ec)) {
        status = builder.AddDirectory(input);
      } else if (std::filesystem::is_regular_file(input, ec)) {
        std::string stem = std::filesystem::path(input).filename().string();
        if (stem.ends_with(".parquet")) stem.resize(stem.size() - 8);
        status = builder.AddParquet(stem, {input});
      } else {
        status = Status::IOError(input, ": no such file or directory");
      }
      if (!status.ok()) return Report(status);
    }
    ParquetWriteOptions write;
    write.compression = ParquetCompression(panel_compression).ValueOrDie();
    write.row_group_rows = panel_row_group_rows;
    const auto start = std::chrono::steady_clock::now();
    auto report = builder.WriteParquet(panel_out, write);
    if (!report.ok()) return Report(report.status());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const auto& skipped : report->skipped) {
      fmt::print(stderr, "skipped {}: {}\n", skipped.symbol, skipped.reason);
    }
    fmt::print("{}: {} rows, {} symbols ({} skipped), order {}, in {:.2f} s\n", panel_out, report->rows_out,
               report->symbols.size(), report->skipped.size(), panel::OrderName(options.order), seconds);
    if (options.min_cs > 0 || options.max_cs_samples > 0) {
      fmt::print("  time column {}: {} timestamps with a target, {} kept by min_cs\n", report->time_column,
                 report->timestamps, report->timestamps_kept);
    }
    return 0;
  }

  if (label_fit->parsed() || label_build->parsed() || label_run->parsed()) {
    label::LabelConfig config;
    if (!config_file.empty()) {
      if (auto status = label::ApplyFile(config_file, &config); !status.ok()) return Report(status);
    }
    for (const auto& assignment : assignments) {
      if (auto status = label::ApplyAssignment(assignment, &config); !status.ok()) return Report(status);
    }
    if (keep_intermediate) {
      config.keep_intermediate = true;
      config.explicit_keys.insert("keep_intermediate");
    }
    const label::BuildOptions options{skip_bad_files};
    if (label_fit->parsed()) {
      auto doc = label::Fit(inputs, config, thresholds_path, options);
      if (!doc.ok()) return Report(doc.status());
      fmt::print("{}: {} boundaries from {} fit samples ({} mode)\n", thresholds_path,
                 (*doc)["nbins"].get<int>() + 1, (*doc)["sample_size"].get<int64_t>(), (*doc)["mode"].get<std::string>());
      for (const auto& warning : (*doc)["warnings"]) fmt::print(stderr, "warning: {}\n", warning.get<std::string>());
      return 0;
    }
    Result<nlohmann::ordered_json> report;
    if (label_build->parsed()) {
      std::ifstream in(thresholds_path);
      nlohmann::ordered_json thresholds;
      try {
        thresholds = nlohmann::ordered_json::parse(in);
      } catch (const std::exception& e) {
        return Report(Status::Invalid(thresholds_path, ": ", e.what()));
      }
      report = label::Build(inputs, thresholds, config, out_dir, options);
    } else {
      report = label::Run(inputs, config, out_dir, options);
    }
    if (!report.ok()) return Report(report.status());
    fmt::print("{}", label::Summarize(*report));
    fmt::print("wrote {}/build_report.json\n", out_dir);
    return 0;
  }

  if (inspect->parsed()) {
    for (const auto& file : files) {
      if (auto status = Inspect(file, fragment_version); !status.ok()) return Report(status);
    }
    return 0;
  }
  if (to_parquet->parsed()) {
    dbn::ParquetOptions options;
    options.arrow.price_type = price_type == "fixed" ? dbn::PriceType::kFixed : dbn::PriceType::kFloat;
    options.arrow.map_symbols = !no_symbols;
    options.parquet.compression = ParquetCompression(compression).ValueOrDie();
    options.parquet.row_group_rows = row_group_rows;
    options.decoder = DecoderOptionsFor(fragment_version);
    for (size_t i = 0; i < files.size(); ++i) {
      const auto output = std::filesystem::path(out_dir) / dbn::ParquetNameFor(files[i]);
      const auto start = std::chrono::steady_clock::now();
      Result<dbn::ConvertStats> stats;
      {
        Progress progress(fmt::format("[{}/{}] {}", i + 1, files.size(),
                                      std::filesystem::path(files[i]).filename().string()));
        stats = dbn::ConvertToParquet(files[i], output, options, std::ref(progress));
      }
      if (!stats.ok()) return Report(stats.status());
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print("{} -> {}: {} rows, {} -> {} in {:.2f} s\n", files[i], stats->output, stats->rows,
                 FormatBytes(static_cast<double>(stats->input_bytes)),
                 FormatBytes(static_cast<double>(stats->output_bytes)), seconds);
    }
    return 0;
  }
  if (synth_dbn->parsed()) {
    auto date = ParseIsoDate(start_date);
    if (!date.ok()) return Report(date.status());
    synth_options.start_date = *date;
    synth_options.zstd = !no_zstd;
    auto written = synth::WriteMbp10Days(out_dir, synth_options);
    if (!written.ok()) return Report(written.status());
    for (const auto& file : *written) fmt::print("{}  {} rows\n", file.path, file.rows);
    return 0;
  }
  if (synth_binance->parsed()) {
    if (!binance_symbols.empty() && std::all_of(binance_symbols.begin(), binance_symbols.end(), ::isdigit)) {
      binance_options.symbol_count = std::stoi(binance_symbols);
    } else {
      std::stringstream names(binance_symbols);
      for (std::string name; std::getline(names, name, ',');) binance_options.symbols.push_back(name);
    }
    auto date = ParseIsoDate(binance_start);
    if (!date.ok()) return Report(date.status());
    binance_options.start_date = *date;
    binance_options.kinds.clear();
    for (const auto& name : binance_kinds) {
      auto kind = binance::ParseKind(name);
      if (!kind.ok()) return Report(kind.status());
      binance_options.kinds.push_back(*kind);
    }
    if (binance_header) binance_options.header = true;
    if (binance_no_header) binance_options.header = false;
    auto written = synth::WriteBinanceDumps(binance_options);
    if (!written.ok()) return Report(written.status());
    for (const auto& file : *written) fmt::print("{}  {} rows\n", file.path, file.rows);
    return 0;
  }
  return 0;
}
