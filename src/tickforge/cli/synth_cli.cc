// `tickforge synth dbn` and `tickforge synth binance`.
#include "tickforge/cli/synth_cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tickforge/cli/format.h"
#include "tickforge/synth/binance.h"
#include "tickforge/synth/mbo.h"
#include "tickforge/synth/synth.h"
#include "tickforge/util/time.h"

namespace tickforge::cli {
namespace {

struct SynthDbnArgs {
  synth::SynthOptions options;
  std::string start_date = FormatYmd(options.start_date);
  bool no_zstd = !options.zstd;
  std::string out_dir;
};

// The text flags start from the option struct's defaults, so --help shows the engine's values.
std::vector<std::string> KindNames(const std::vector<binance::Kind>& kinds) {
  std::vector<std::string> names;
  for (auto kind : kinds) names.emplace_back(binance::KindName(kind));
  return names;
}

struct SynthBinanceArgs {
  synth::BinanceOptions options;
  std::string symbols = std::to_string(options.symbol_count), start = FormatYmd(options.start_date);
  std::vector<std::string> kinds = KindNames(options.kinds);
  bool header = false, no_header = false;
};

Status SynthDbn(SynthDbnArgs& args) {
  ARROW_ASSIGN_OR_RAISE(args.options.start_date, ParseIsoDate(args.start_date));
  args.options.zstd = !args.no_zstd;
  ARROW_ASSIGN_OR_RAISE(auto written, synth::WriteMbp10Days(args.out_dir, args.options));
  for (const auto& file : written) fmt::print("{}  {} rows\n", file.path, file.rows);
  return Status::OK();
}

struct SynthMboArgs {
  synth::MboSynthOptions options;
  std::string start_date = FormatYmd(options.start_date);
  bool no_zstd = !options.zstd;
  std::string out_dir;
};

Status SynthMbo(SynthMboArgs& args) {
  ARROW_ASSIGN_OR_RAISE(args.options.start_date, ParseIsoDate(args.start_date));
  args.options.zstd = !args.no_zstd;
  ARROW_ASSIGN_OR_RAISE(auto written, synth::WriteMboDays(args.out_dir, args.options));
  for (const auto& file : written) fmt::print("{}  {} records\n", file.path, file.rows);
  return Status::OK();
}

Status SynthBinance(SynthBinanceArgs& args) {
  auto& options = args.options;
  if (!args.symbols.empty() && std::all_of(args.symbols.begin(), args.symbols.end(), ::isdigit)) {
    options.symbol_count = std::stoi(args.symbols);
  } else {
    std::stringstream names(args.symbols);
    for (std::string name; std::getline(names, name, ',');) options.symbols.push_back(name);
  }
  ARROW_ASSIGN_OR_RAISE(options.start_date, ParseIsoDate(args.start));
  options.kinds.clear();
  for (const auto& name : args.kinds) {
    ARROW_ASSIGN_OR_RAISE(auto kind, binance::ParseKind(name));
    options.kinds.push_back(kind);
  }
  if (args.header) options.header = true;
  if (args.no_header) options.header = false;
  ARROW_ASSIGN_OR_RAISE(auto written, synth::WriteBinanceDumps(options));
  for (const auto& file : written) fmt::print("{}  {} rows\n", file.path, file.rows);
  return Status::OK();
}

}  // namespace

void AddSynthCommands(CLI::App& app, int* exit_code) {
  auto* synth_cmd = app.add_subcommand("synth", "Generate synthetic market data");
  synth_cmd->require_subcommand(1);

  auto dbn_args = std::make_shared<SynthDbnArgs>();
  auto* synth_dbn = synth_cmd->add_subcommand("dbn", "Write realistic MBP-10 DBN files, one per trading day");
  synth_dbn->add_option("--symbols", dbn_args->options.symbols, "Instruments per file")->capture_default_str();
  synth_dbn->add_option("--days", dbn_args->options.days, "Trading days (one file each)")->capture_default_str();
  synth_dbn->add_option("--rows-per-day", dbn_args->options.rows_per_day, "MBP-10 records per file")->capture_default_str();
  synth_dbn->add_option("--seed", dbn_args->options.seed, "Random seed")->capture_default_str();
  synth_dbn->add_option("--start-date", dbn_args->start_date, "First day (YYYY-MM-DD)")->capture_default_str();
  synth_dbn->add_flag("--no-zstd", dbn_args->no_zstd, "Write raw .dbn instead of .dbn.zst");
  synth_dbn->add_option("--out", dbn_args->out_dir, "Output directory")->required();
  synth_dbn->callback(RunCommand(exit_code, [dbn_args] { return SynthDbn(*dbn_args); }));

  auto mbo_args = std::make_shared<SynthMboArgs>();
  auto* synth_mbo = synth_cmd->add_subcommand(
      "mbo", "Write realistic order-level flow (adds, cancels, modifies, trades, a start-of-day snapshot) as "
             "Databento MBO DBN files, one per day");
  synth_mbo->add_option("--symbols", mbo_args->options.symbols, "Instruments per file")->capture_default_str();
  synth_mbo->add_option("--publishers", mbo_args->options.publishers, "Publishers (venues) per instrument")
      ->capture_default_str();
  synth_mbo->add_option("--days", mbo_args->options.days, "Days (one file each)")->capture_default_str();
  synth_mbo->add_option("--messages-per-day", mbo_args->options.messages_per_day,
                        "MBO records of live flow per file, after the snapshot")
      ->capture_default_str();
  synth_mbo->add_option("--seed", mbo_args->options.seed, "Random seed")->capture_default_str();
  synth_mbo->add_option("--start-date", mbo_args->start_date, "First day (YYYY-MM-DD)")->capture_default_str();
  synth_mbo->add_option("--dataset", mbo_args->options.dataset, "DBN dataset name")->capture_default_str();
  synth_mbo->add_flag("--no-zstd", mbo_args->no_zstd, "Write raw .dbn instead of .dbn.zst");
  synth_mbo->add_option("--out", mbo_args->out_dir, "Output directory")->required();
  synth_mbo->callback(RunCommand(exit_code, [mbo_args] { return SynthMbo(*mbo_args); }));

  auto binance_args = std::make_shared<SynthBinanceArgs>();
  auto& options = binance_args->options;
  auto* synth_binance = synth_cmd->add_subcommand("binance", "Write Binance public-data dumps (data.binance.vision layout)");
  synth_binance->add_option("--out", options.out_dir, "Output directory")->required();
  synth_binance->add_option("--symbols", binance_args->symbols, "A count (BTCUSDT, ETHUSDT, ...) or names A,B")->capture_default_str();
  synth_binance->add_option("--days", options.days, "Days")->capture_default_str();
  synth_binance->add_option("--start", binance_args->start, "First day (YYYY-MM-DD)")->capture_default_str();
  synth_binance->add_option("--market", options.market, "spot, um (USD-M) or cm (COIN-M)")
      ->check(CLI::IsMember({"spot", "um", "cm"}))->capture_default_str();
  synth_binance->add_option("--kinds", binance_args->kinds, "klines, aggtrades, funding")->delimiter(',')->capture_default_str();
  synth_binance->add_option("--interval", options.interval, "Kline interval (1m to 1d)")->capture_default_str();
  synth_binance->add_option("--aggtrades-per-minute", options.aggtrades_per_minute, "Mean aggTrades per minute")
      ->capture_default_str();
  synth_binance->add_flag("--monthly", options.monthly, "One file per month instead of per day");
  synth_binance->add_flag("--zip", options.zip, "Write .zip archives with .CHECKSUM files");
  auto* header_flag = synth_binance->add_flag("--header", binance_args->header, "Write a header row (default: futures yes, spot no)");
  synth_binance->add_flag("--no-header", binance_args->no_header, "Write no header row")->excludes(header_flag);
  synth_binance->add_option("--seed", options.seed, "Random seed")->capture_default_str();
  synth_binance->callback(RunCommand(exit_code, [binance_args] { return SynthBinance(*binance_args); }));
}

}  // namespace tickforge::cli
