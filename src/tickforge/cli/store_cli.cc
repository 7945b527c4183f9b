// `tickforge store ...`: the dataset manager's verbs on the command line.
#include "tickforge/cli/store_cli.h"

#include <arrow/api.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "tickforge/cli/checks.h"
#include "tickforge/cli/format.h"
#include "tickforge/quality/fail_on.h"
#include "tickforge/store/quality.h"
#include "tickforge/label/commit.h"
#include "tickforge/store/convert.h"
#include "tickforge/store/options.h"
#include "tickforge/store/store.h"
#include "tickforge/util/parquet.h"

namespace tickforge::cli {
namespace {

namespace fs = std::filesystem;

using store::Store;

struct StoreArgs {
  std::string root;
  std::string dataset;
  std::vector<std::string> inputs;
  std::vector<std::string> columns;
  std::vector<std::string> filters;
  std::string kind, symbol, exchange = "binance", type = "generic", out, target;
  std::string compression = "zstd";
  int64_t max_rows_per_file = 5'000'000;
  int64_t target_rows = 5'000'000;
  int min_files = 2;
  int threads = 0;
  int64_t version = -1;
  int64_t limit = 10;
  int64_t batch_size = 0;
  double ttl = 3600;
  bool no_checksum = false, json = false, clear = false, expired = false;
  std::string since;
  std::vector<std::string> fail_on;
  std::string older_than = "7d";
  int64_t retain_versions = 0;
  bool dry_run = false;
  bool derive_books = false;
  std::string books_dataset = "mbp10";
};

Status Fail(const std::string& message) { return Status::Invalid(message); }

Result<store::ScanOptions> ScanOptionsOf(const StoreArgs& args) {
  store::ScanOptions options;
  options.columns = args.columns;
  for (const auto& text : args.filters) {
    ARROW_ASSIGN_OR_RAISE(auto predicate, store::ParsePredicate(text));
    options.filters.push_back(std::move(predicate));
  }
  if (args.version >= 0) options.version = args.version;
  options.batch_size = args.batch_size;
  return options;
}

store::WriteOptions WriteOptionsOf(const StoreArgs& args) {
  store::WriteOptions options;
  options.compression = args.compression;
  options.max_rows_per_file = args.max_rows_per_file;
  options.min_rows_per_group = std::min<int64_t>(options.min_rows_per_group, args.max_rows_per_file - 1);
  return options;
}

void PrintCommit(const std::string& what, const store::CommitInfo& info, double seconds, bool json) {
  if (json) {
    std::cout << store::ToJson(info).dump(1) << "\n";
    return;
  }
  for (const auto& warning : info.warnings) fmt::print(stderr, "warning: {}\n", warning);
  const std::string differing =
      info.rows_conflicting > 0 ? fmt::format(" ({} differ from the stored rows)", info.rows_conflicting) : "";
  fmt::print("{}: version {}, {} rows in, {} written, {} duplicates dropped{}, {} files added, {} removed, {:.2f} s\n",
             what, info.version, info.rows_in, info.rows_written, info.rows_duplicate, differing, info.added.size(),
             info.removed.size(), seconds);
}

/// Remove the empty store a failed first ingest created, so a typo leaves no store behind; one
/// that any commit or staged task wrote to is kept.
void RemoveIfStillEmpty(const Store& store, bool root_existed) {
  const auto snapshot = store.ReadSnapshot();
  std::error_code ec;
  const auto staging = store.paths().meta / "staging";
  if (!snapshot.ok() || snapshot->version != 0 || (fs::exists(staging, ec) && !fs::is_empty(staging, ec))) return;
  fs::remove_all(store.paths().meta, ec);
  if (!root_existed && fs::is_empty(store.paths().root, ec)) fs::remove(store.paths().root, ec);
}

Status Ingest(const StoreArgs& args) {
  std::error_code ec;
  const bool root_existed = fs::exists(args.root, ec);
  const bool is_new = !fs::exists(fs::path(args.root) / "_tickforge", ec);
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root));
  store::IngestOptions options;
  options.kind = args.kind;
  options.symbol = args.symbol;
  options.exchange = args.exchange;
  options.verify_checksum = !args.no_checksum;
  options.threads = args.threads;
  options.write = WriteOptionsOf(args);
  options.books.derive = args.derive_books;
  options.books.dataset = args.books_dataset;
  const auto start = std::chrono::steady_clock::now();
  Result<store::CommitInfo> info;
  {
    ProgressLine line("store ");
    options.progress = line.Fn();
    info = store->Ingest(args.inputs, options);
  }
  if (!info.ok() && is_new) RemoveIfStillEmpty(*store, root_existed);
  ARROW_RETURN_NOT_OK(info.status());
  PrintCommit("ingest", *info, SecondsSince(start), args.json);
  return Status::OK();
}

/// Print rows as an aligned text table, one line per row.
void PrintRows(const arrow::Schema& schema, const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  std::vector<std::vector<std::string>> cells = {schema.field_names()};
  for (const auto& batch : batches) {
    for (int64_t row = 0; row < batch->num_rows(); ++row) {
      std::vector<std::string> line;
      for (const auto& column : batch->columns()) {
        auto scalar = column->GetScalar(row);
        line.push_back(!scalar.ok() ? "?" : (*scalar)->is_valid ? (*scalar)->ToString() : "null");
      }
      cells.push_back(std::move(line));
    }
  }
  std::vector<size_t> width(schema.num_fields(), 0);
  for (const auto& line : cells) {
    for (size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
  }
  for (const auto& line : cells) {
    std::string text;
    for (size_t c = 0; c < line.size(); ++c) text += fmt::format("{:>{}}  ", line[c], width[c]);
    fmt::print("{}\n", text);
  }
}

Status Scan(const StoreArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root, /*create=*/false));
  ARROW_ASSIGN_OR_RAISE(auto options, ScanOptionsOf(args));
  store::ScanStats stats;
  ARROW_ASSIGN_OR_RAISE(auto reader, store->Scan(args.dataset, options, &stats));
  int64_t rows = 0;
  if (!args.out.empty()) {
    ARROW_ASSIGN_OR_RAISE(rows, store::WriteFlatParquet(*reader, args.out, WriteOptionsOf(args)));
    fmt::print("{}: {} rows from version {} ({} of {} files read)\n", args.out, rows, stats.version,
               stats.files_selected, stats.files_total);
    return Status::OK();
  }
  std::vector<std::shared_ptr<arrow::RecordBatch>> head;
  int64_t kept = 0;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (!batch) break;
    rows += batch->num_rows();
    if (kept < args.limit) {
      head.push_back(batch->Slice(0, std::min(batch->num_rows(), args.limit - kept)));
      kept += head.back()->num_rows();
    }
  }
  PrintRows(*reader->schema(), head);
  const auto pool = store::MemoryPoolJson();
  fmt::print("{} rows from version {} ({} of {} files read; Arrow memory peak {:.1f} MiB, {})\n", rows,
             stats.version, stats.files_selected, stats.files_total,
             pool["max_memory"].get<int64_t>() / 1048576.0, pool["backend"].get<std::string>());
  return Status::OK();
}

Status DatasetInfo(const StoreArgs& args, const Store& store);

Status Info(const StoreArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root, /*create=*/false));
  if (!args.dataset.empty() && !args.symbol.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto latest, store->LatestTimestamp(args.dataset, args.symbol));
    if (latest) {
      fmt::print("{}\n", *latest);
      return Status::OK();
    }
    // "none" is the answer for a symbol not ingested yet; the note catches a misspelt one.
    fmt::print("none\n");
    ARROW_ASSIGN_OR_RAISE(auto snapshot, store->ReadSnapshot());
    const auto summary = store::SummaryJson(snapshot);
    const auto& symbols = summary.at("datasets").at(args.dataset).at("symbols");
    std::string listed;
    for (size_t i = 0; i < symbols.size() && i < 20; ++i) listed += (i ? ", " : "") + symbols[i].get<std::string>();
    if (symbols.size() > 20) listed += fmt::format(" and {} more", symbols.size() - 20);
    fmt::print(stderr, "note: {} has no rows of symbol '{}' (it has {})\n", args.dataset, args.symbol,
               listed.empty() ? std::string("no symbols") : listed);
    return Status::OK();
  }
  if (!args.dataset.empty()) return DatasetInfo(args, *store);
  ARROW_ASSIGN_OR_RAISE(auto snapshot,
                        store->ReadSnapshot(args.version >= 0 ? std::optional<int64_t>(args.version) : std::nullopt));
  const auto summary = store::SummaryJson(snapshot);
  if (args.json) {
    std::cout << summary.dump(1) << "\n";
    return Status::OK();
  }
  if (snapshot.version == 0) {
    fmt::print("{}: empty (no commit yet)\n", args.root);
    return Status::OK();
  }
  fmt::print("{}: version {} ({} at {})\n", args.root, snapshot.version, snapshot.operation, snapshot.committed_at);
  for (const auto& [name, dataset] : summary["datasets"].items()) {
    fmt::print("  {:<12} {:<10} {:>12} rows {:>7} files {:>10.1f} MiB  {} symbols  keys {}\n", name,
               dataset["type"].get<std::string>(), dataset["rows"].get<int64_t>(), dataset["files"].get<int64_t>(),
               dataset["bytes"].get<int64_t>() / 1048576.0, dataset["symbols"].size(),
               fmt::format("{}", fmt::join(dataset["partition_keys"].get<std::vector<std::string>>(), "/")));
  }
  return Status::OK();
}

// The lineage a commit recorded, in one line: its source and thresholds hash.
std::string LineageLine(const nlohmann::ordered_json& lineage) {
  std::string source;
  const auto& from = lineage.value("source", nlohmann::ordered_json::object());
  if (from.contains("dataset")) {
    source = fmt::format("{}@{}", from["dataset"].get<std::string>(), from.value("version", int64_t{0}));
  } else if (from.contains("files")) {
    source = fmt::format("{} raw files", from["files"].size());
  }
  return fmt::format("from {}, config {}, thresholds {}, tickforge {}", source,
                     lineage.value("config_sha256", std::string()).substr(0, 12),
                     lineage.value("thresholds_sha256", std::string()).substr(0, 12),
                     lineage.value("tickforge_version", std::string()));
}

// `store info --dataset D`: the dataset at a version and the lineage of the commit that wrote it.
Status DatasetInfo(const StoreArgs& args, const Store& store) {
  const auto version = args.version >= 0 ? std::optional<int64_t>(args.version) : std::nullopt;
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store.ReadSnapshot(version));
  auto found = snapshot.Find(args.dataset);
  if (!found.ok()) return WithPath(found.status(), args.root);
  const store::DatasetEntry& dataset = **found;
  auto doc = nlohmann::ordered_json{{"dataset", dataset.name}, {"type", dataset.type}, {"version", snapshot.version},
                                    {"rows", dataset.rows()}, {"bytes", dataset.bytes()}};
  auto files = nlohmann::ordered_json::array();
  for (const auto& file : dataset.files) files.push_back({{"path", file.path}, {"rows", file.rows}, {"version", file.version}});
  doc["files"] = files;
  auto lineage = label::ReadLineage(args.root, args.dataset, snapshot.version);
  if (lineage.ok()) doc["lineage"] = *lineage;
  if (args.json) {
    std::cout << doc.dump(1) << "\n";
    return Status::OK();
  }
  fmt::print("{} at version {}: {} ({} rows, {} files)\n", dataset.name, snapshot.version, dataset.type,
             dataset.rows(), dataset.files.size());
  for (const auto& file : dataset.files) fmt::print("  {}  {} rows\n", file.path, file.rows);
  if (lineage.ok()) {
    fmt::print("lineage (commit {}):\n{}\n", (*lineage)["version"].get<int64_t>(), lineage->dump(2));
  } else {
    fmt::print("lineage: none recorded\n");
  }
  return Status::OK();
}

// `store log`: every commit, oldest first, with its operation, time and lineage.
Status Log(const StoreArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root, /*create=*/false));
  ARROW_ASSIGN_OR_RAISE(const int64_t latest, store::LatestVersion(store->paths()));
  auto entries = nlohmann::ordered_json::array();
  for (int64_t v = 1; v <= latest; ++v) {
    ARROW_ASSIGN_OR_RAISE(auto snapshot, store->ReadSnapshot(v));
    nlohmann::ordered_json entry = {{"version", v}, {"operation", snapshot.operation}, {"committed_at", snapshot.committed_at}};
    for (const auto& [key, text] : snapshot.details) {
      auto value = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
      entry[key] = value.is_discarded() ? nlohmann::ordered_json(text) : value;
    }
    if (args.json) {
      entries.push_back(entry);
      continue;
    }
    fmt::print("{:>6}  {}  {}", v, snapshot.committed_at, snapshot.operation);
    if (entry.contains("lineage")) fmt::print("  {}", LineageLine(entry["lineage"]));
    fmt::print("\n");
  }
  if (args.json) std::cout << entries.dump(1) << "\n";
  if (!args.json && latest == 0) fmt::print("{}: no commits yet\n", args.root);
  return Status::OK();
}

Status Compact(const StoreArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root, /*create=*/false));
  store::CompactOptions options;
  options.target_rows = args.target_rows;
  options.min_files = args.min_files;
  options.write = WriteOptionsOf(args);
  const auto start = std::chrono::steady_clock::now();
  ARROW_ASSIGN_OR_RAISE(auto info, store->Compact(args.dataset, options));
  PrintCommit("compact", info, SecondsSince(start), args.json);
  return Status::OK();
}

Status Migrate(const StoreArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root));
  auto options = WriteOptionsOf(args);
  if (!args.exchange.empty()) options.constants["exchange"] = args.exchange;
  if (!args.symbol.empty()) options.constants["symbol"] = args.symbol;
  const auto start = std::chrono::steady_clock::now();
  ARROW_ASSIGN_OR_RAISE(auto info, store->Migrate(args.inputs.at(0), args.dataset, args.type, options));
  PrintCommit("migrate", info, SecondsSince(start), args.json);
  return Status::OK();
}

Status Materialize(const StoreArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root, /*create=*/false));
  ARROW_ASSIGN_OR_RAISE(auto projection, ScanOptionsOf(args));
  const auto start = std::chrono::steady_clock::now();
  ARROW_ASSIGN_OR_RAISE(auto info, store->Materialize(args.dataset, projection, args.target, WriteOptionsOf(args)));
  PrintCommit("materialize", info, SecondsSince(start), args.json);
  return Status::OK();
}

Status Cache(const StoreArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root, /*create=*/false));
  if (args.clear) {
    ARROW_ASSIGN_OR_RAISE(int64_t removed, store->ClearCache(args.expired));
    fmt::print("removed {} cached projection{}\n", removed, removed == 1 ? "" : "s");
    return Status::OK();
  }
  if (args.dataset.empty()) return Fail("cache: give a DATASET, or --clear");
  ARROW_ASSIGN_OR_RAISE(auto projection, ScanOptionsOf(args));
  ARROW_ASSIGN_OR_RAISE(auto cached, store->Cached(args.dataset, projection, args.ttl));
  fmt::print("{} ({} rows, {})\n", cached.path.string(), cached.rows, cached.hit ? "hit" : "computed");
  return Status::OK();
}

Status Convert(const StoreArgs& args) {
  store::ConvertOptions options;
  if (!args.out.empty()) options.out = args.out;
  options.write = WriteOptionsOf(args);
  ARROW_ASSIGN_OR_RAISE(auto report, store::ConvertConsolidated(args.root, options));
  if (args.json) {
    std::cout << report.dump(1) << "\n";
    return Status::OK();
  }
  std::cout << store::FormatConvertReport(report);
  return Status::OK();
}

/// The exit code of `store quality --fail-on` when a named check found defects (errors give
/// kExitError, so a pipeline tells them apart).
constexpr int kExitQualityFailed = 2;

Status Quality(const StoreArgs& args, int* exit_code) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root, /*create=*/false));
  ARROW_ASSIGN_OR_RAISE(auto fail_on, quality::ExpandFailOn(args.fail_on));
  store::QualityQuery query;
  query.dataset = args.dataset;
  query.symbol = args.symbol;
  query.since = args.since;
  if (args.version >= 0) query.version = args.version;
  ARROW_ASSIGN_OR_RAISE(auto report, store::StoreQuality(store->paths(), query));
  const auto failing = quality::FailingChecks(report, fail_on);
  if (args.json) {
    std::cout << report.dump(1) << "\n";
  } else {
    fmt::print("{}: quality at version {}\n", args.root, report["version"].get<int64_t>());
    for (const auto& [name, dataset] : report["datasets"].items()) {
      fmt::print("  {} ({}): {} rows in {} files checked, {} files unchecked\n", name,
                 dataset["type"].get<std::string>(), dataset["rows"].get<int64_t>(),
                 dataset["files"].get<int64_t>(), dataset["files_unchecked"].get<int64_t>());
      for (const auto& [check, result] : dataset["checks"].items()) {
        std::vector<std::string> where;
        for (const auto& example : result["examples"]) {
          where.push_back(fmt::format("{}:{}", example["file"].get<std::string>(), example["row"].get<int64_t>()));
          if (where.size() == 3) break;
        }
        fmt::print("    {:<20} {:>10}  {}\n", check, result["count"].get<int64_t>(), fmt::join(where, " "));
      }
      for (const auto& note : dataset["notes"]) fmt::print("    note: {}\n", note.get<std::string>());
    }
  }
  if (!failing.empty()) {
    std::vector<std::string> names;
    for (const auto& [check, count] : failing) names.push_back(fmt::format("{} ({})", check, count));
    fmt::print(stderr, "tickforge: quality checks failed: {}\n", fmt::join(names, ", "));
    *exit_code = kExitQualityFailed;
  }
  return Status::OK();
}

Status Vacuum(const StoreArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(args.root, /*create=*/false));
  store::VacuumOptions options;
  ARROW_ASSIGN_OR_RAISE(options.older_than_seconds, store::ParseDurationSeconds(args.older_than));
  options.retain_versions = args.retain_versions;
  options.dry_run = args.dry_run;
  ARROW_ASSIGN_OR_RAISE(auto report, store->Vacuum(options));
  if (args.json) {
    std::cout << store::ToJson(report).dump(1) << "\n";
    return Status::OK();
  }
  fmt::print("{}: {} {} retired files ({:.1f} MiB); kept {} that versions {}..{} read; {} stale staging folders{}\n",
             args.root, report.dry_run ? "would delete" : "deleted", report.files_deleted,
             report.bytes_freed / 1048576.0, report.files_kept, report.oldest_retained_version,
             report.latest_version, report.staging_removed, report.dry_run ? " would be removed" : " removed");
  return Status::OK();
}

}  // namespace

void AddStoreCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<StoreArgs>();
  auto* cmd = app.add_subcommand("store", "The unified market-data store (Hive-partitioned Parquet + manifest)");
  cmd->require_subcommand(1);
  auto run = [exit_code, args](Status (*verb)(const StoreArgs&)) {
    return RunCommand(exit_code, [verb, args] { return verb(*args); });
  };
  auto add_write = [&](CLI::App* sub) {
    sub->add_option("--compression", args->compression, "Parquet codec")
        ->check(CLI::IsMember({"zstd", "snappy", "lz4", "gzip", "brotli", "none"}));
    sub->add_option("--max-rows-per-file", args->max_rows_per_file, "Start a new file after this many rows")
        ->check(Positive());
    sub->add_flag("--json", args->json, "Print the result as JSON");
  };
  auto add_scan = [&](CLI::App* sub) {
    sub->add_option("--columns", args->columns, "Columns to read (comma separated)")->delimiter(',');
    sub->add_option("--filter", args->filters, "COLUMN OP VALUE (== != < <= > >=) or 'COLUMN in A,B' (repeatable, AND)");
    sub->add_option("--version", args->version, "Read this snapshot version (default: newest)")
        ->check(NonNegative());
  };

  auto* ingest = cmd->add_subcommand("ingest", "Ingest Binance (CSV, zip, consolidated Parquet) and DBN files, one commit");
  ingest->add_option("store", args->root, "Store directory (created if missing)")->required();
  ingest->add_option("files", args->inputs, "Input files or directories (searched recursively)")->required()->expected(1, -1);
  ingest->add_option("--kind", args->kind, "Binance data type (klines, aggtrades, funding); default from file names");
  ingest->add_option("--symbol", args->symbol, "Symbol (default from file names)");
  ingest->add_option("--exchange", args->exchange, "Exchange partition value for Binance files");
  ingest->add_flag("--no-checksum", args->no_checksum, "Do not verify .CHECKSUM files");
  ingest->add_option("--threads", args->threads, "Files read at once (default: one per core)");
  ingest->add_flag("--derive-books", args->derive_books,
                   "Also rebuild the books of MBO, depth-stream and LOBSTER inputs into --books-dataset, same commit");
  ingest->add_option("--books-dataset", args->books_dataset, "The dataset derived books go to")->capture_default_str();
  add_write(ingest);
  ingest->callback(run(Ingest));

  auto* convert = cmd->add_subcommand("convert", "Convert a data directory's consolidated Binance files into a store (backup first)");
  convert->add_option("data_dir", args->root, "Directory with klines_*_consolidated.parquet files")->required();
  convert->add_option("--out", args->out, "Store directory (default DATA_DIR/unified)");
  add_write(convert);
  convert->callback(run(Convert));

  auto* scan = cmd->add_subcommand("scan", "Read a dataset: print the first rows, or write them to Parquet");
  scan->add_option("store", args->root, "Store directory")->required();
  scan->add_option("dataset", args->dataset, "Dataset")->required();
  add_scan(scan);
  scan->add_option("--out", args->out, "Write the rows to this Parquet file (one flat file)");
  scan->add_option("--compression", args->compression, "Parquet codec of --out")
      ->check(CLI::IsMember({"zstd", "snappy", "lz4", "gzip", "brotli", "none"}));
  scan->add_option("--limit", args->limit, "Rows to print")->check(NonNegative());
  scan->add_option("--batch-size", args->batch_size, "Rows per batch (default $TICKFORGE_SCAN_BATCH_SIZE or 262144)")
      ->check(Positive());
  scan->callback(run(Scan));

  auto* info = cmd->add_subcommand("info", "Datasets, rows, files, symbols; or the latest timestamp of a symbol");
  info->add_option("store", args->root, "Store directory")->required();
  info->add_option("--dataset", args->dataset, "Describe this dataset and its lineage; with --symbol: print its latest timestamp");
  info->add_option("--symbol", args->symbol, "With --dataset: print its latest timestamp");
  info->add_option("--version", args->version, "Describe this snapshot version")
      ->check(NonNegative());
  info->add_flag("--json", args->json, "Print JSON");
  info->callback(run(Info));

  auto* log = cmd->add_subcommand("log", "List the commits, oldest first, with the lineage they recorded");
  log->add_option("store", args->root, "Store directory")->required();
  log->add_flag("--json", args->json, "Print JSON");
  log->callback(run(Log));

  auto* compact = cmd->add_subcommand("compact", "Merge each partition's small files, one commit; rows unchanged");
  compact->add_option("store", args->root, "Store directory")->required();
  compact->add_option("dataset", args->dataset, "Dataset")->required();
  compact->add_option("--target-rows", args->target_rows, "Rows per merged file")->check(Positive());
  compact->add_option("--min-files", args->min_files, "Leave partitions with fewer small files alone");
  add_write(compact);
  compact->callback(run(Compact));

  auto* migrate = cmd->add_subcommand("migrate", "Write a flat directory of Parquet files into a partitioned dataset");
  migrate->add_option("store", args->root, "Store directory")->required();
  migrate->add_option("flat_dir", args->inputs, "Directory of Parquet files")->required()->expected(1);
  migrate->add_option("--dataset", args->dataset, "Target dataset")->required();
  migrate->add_option("--type", args->type, "Data type of the rows (klines, aggtrades, funding, generic, mbp10, ...)");
  migrate->add_option("--exchange", args->exchange, "Exchange partition value when the files have no exchange column");
  migrate->add_option("--symbol", args->symbol, "Symbol partition value when the files have no symbol column");
  add_write(migrate);
  migrate->callback(run(Migrate));

  auto* materialize = cmd->add_subcommand("materialize", "Write a projection of a dataset as a new dataset");
  materialize->add_option("store", args->root, "Store directory")->required();
  materialize->add_option("dataset", args->dataset, "Source dataset")->required();
  materialize->add_option("target", args->target, "New dataset")->required();
  add_scan(materialize);
  add_write(materialize);
  materialize->callback(run(Materialize));

  auto* cache = cmd->add_subcommand("cache", "Serve a projection from _cache/ (computed when absent or expired), or clear it");
  cache->add_option("store", args->root, "Store directory")->required();
  cache->add_option("dataset", args->dataset, "Dataset");
  add_scan(cache);
  cache->add_option("--ttl", args->ttl, "Seconds a cached projection stays valid");
  cache->add_flag("--clear", args->clear, "Remove cached projections");
  cache->add_flag("--expired", args->expired, "With --clear: only expired ones");
  cache->callback(run(Cache));

  auto* quality = cmd->add_subcommand("quality", "The data-quality flags of the live files, as recorded at each commit");
  quality->add_option("store", args->root, "Store directory")->required();
  quality->add_option("--dataset", args->dataset, "Only this dataset");
  quality->add_option("--symbol", args->symbol, "Only this symbol");
  quality->add_option("--since", args->since, "Only partitions on or after YYYY-MM-DD");
  quality->add_option("--version", args->version, "Snapshot version (default: newest)")
      ->check(NonNegative());
  quality->add_flag("--json", args->json, "Print JSON");
  quality->add_option("--fail-on", args->fail_on,
                      "Exit with code 2 when these checks or groups (gaps, crossed, duplicates, time, prices, book, "
                      "all) found defects (comma separated)")
      ->delimiter(',');
  quality->callback(RunCommand(exit_code, [args, exit_code] { return Quality(*args, exit_code); }));
  auto* vacuum = cmd->add_subcommand("vacuum", "Delete retired files no retained version reads (the log is kept)");
  vacuum->add_option("store", args->root, "Store directory")->required();
  vacuum->add_option("--older-than", args->older_than,
                     "Keep versions committed less than this long ago (7d, 12h, 30m, 45s; default 7d)");
  vacuum->add_option("--retain-versions", args->retain_versions, "Keep at least this many newest versions")
      ->check(NonNegative());
  vacuum->add_flag("--dry-run", args->dry_run, "Say what would be deleted; delete nothing");
  vacuum->add_flag("--json", args->json, "Print the report as JSON");
  vacuum->callback(run(Vacuum));
}

}  // namespace tickforge::cli
