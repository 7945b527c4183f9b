#include "tickforge/store/convert.h"

#include <arrow/api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <unordered_set>

#include "tickforge/store/ingest.h"
#include "tickforge/util/io.h"
#include "tickforge/util/time.h"

namespace tickforge::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct SourceProfile {
  int64_t rows = 0;
  int64_t duplicates = 0;
  int64_t out_of_order = 0;
  int64_t gaps = 0;
  int64_t largest_gap_ms = 0;
  int64_t first = 0;
  int64_t last = 0;
};

/// Read a source's timestamps and natural keys once: counts, order, duplicates, gaps.
Result<SourceProfile> Profile(const std::string& path, const IngestOptions& ingest, const std::string& key,
                              int64_t interval_ms) {
  ARROW_ASSIGN_OR_RAISE(auto source, OpenIngestSource(path, ingest));
  ARROW_ASSIGN_OR_RAISE(auto reader, source.open());
  SourceProfile profile;
  std::unordered_set<int64_t> keys;
  bool any = false;
  int64_t previous = 0;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(WithPath(reader->ReadNext(&batch), path));
    if (!batch) break;
    auto ts = std::static_pointer_cast<arrow::Int64Array>(batch->GetColumnByName("timestamp"));
    auto ids = std::static_pointer_cast<arrow::Int64Array>(batch->GetColumnByName(key));
    if (!ts || !ids) return Status::Invalid(path, ": no timestamp/", key, " column to validate");
    for (int64_t i = 0; i < batch->num_rows(); ++i) {
      const int64_t t = ts->Value(i);
      if (!keys.insert(ids->Value(i)).second) ++profile.duplicates;
      if (any) {
        if (t < previous) ++profile.out_of_order;
        if (interval_ms > 0 && t - previous > interval_ms) {
          ++profile.gaps;
          profile.largest_gap_ms = std::max(profile.largest_gap_ms, t - previous);
        }
        profile.first = std::min(profile.first, t);
        profile.last = std::max(profile.last, t);
      } else {
        profile.first = profile.last = t;
      }
      previous = t;
      any = true;
    }
    profile.rows += batch->num_rows();
  }
  return profile;
}

}  // namespace

Result<json> ConvertConsolidated(const fs::path& data_dir, const ConvertOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) return Status::IOError(data_dir.string(), ": not a directory");
  std::map<std::string, std::vector<fs::path>> found;  // klines / aggtrades / futures
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !name.ends_with("_consolidated.parquet")) continue;
    for (const char* prefix : {"klines_", "aggtrades_", "futures_"}) {
      if (name.rfind(prefix, 0) == 0) found[std::string(prefix, std::strlen(prefix) - 1)].push_back(entry.path());
    }
  }
  if (found["klines"].empty()) {
    return Status::Invalid(data_dir.string(),
                           ": no klines_<exchange>_<SYMBOL>_<timeframe>_consolidated.parquet file; klines are "
                           "required for the unified store");
  }
  json report = {{"data_dir", data_dir.string()}, {"warnings", json::array()}, {"sources", json::array()}};
  for (const char* optional : {"aggtrades", "futures"}) {
    if (found[optional].empty()) {
      report["warnings"].push_back(fmt::format("no {}_*_consolidated.parquet: the {} dataset is skipped", optional,
                                               std::string(optional) == "futures" ? "funding" : optional));
    }
  }
  // Backup first: the conversion never touches the originals, but the seed's users expect a
  // copy taken before anything else happens.
  std::string stamp = UtcNow();
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  const fs::path backup = data_dir / ("backup_" + stamp);
  fs::create_directories(backup, ec);
  if (ec) return Status::IOError(backup.string(), ": ", ec.message());
  std::vector<std::string> inputs;
  for (const auto& [kind, paths] : found) {
    for (const auto& path : paths) {
      fs::copy_file(path, backup / path.filename(), ec);
      if (ec) return Status::IOError("backup of ", path.string(), ": ", ec.message());
      inputs.push_back(path.string());
    }
  }
  ARROW_RETURN_NOT_OK(SyncDirectory(backup));
  report["backup"] = backup.string();

  const fs::path out = options.out.empty() ? data_dir / "unified" : options.out;
  ARROW_ASSIGN_OR_RAISE(auto store, Store::Open(out));
  IngestOptions ingest;
  ingest.write = options.write;
  ARROW_ASSIGN_OR_RAISE(auto info, store->Ingest(inputs, ingest));
  report["store"] = out.string();
  report["version"] = info.version;
  report["rows_written"] = info.rows_written;
  report["rows_duplicate"] = info.rows_duplicate;

  // Validation: each source against what the store now holds for its symbol.
  std::set<std::string> symbols;
  for (const auto& path : inputs) {
    ARROW_ASSIGN_OR_RAISE(auto source, OpenIngestSource(path, ingest));
    const std::string symbol = source.constants.count("symbol") ? source.constants.at("symbol") : "";
    const std::string timeframe = source.constants.count("timeframe") ? source.constants.at("timeframe") : "";
    symbols.insert(symbol);
    const std::string key = source.dataset == "aggtrades" ? "trade_id" : "timestamp";
    ARROW_ASSIGN_OR_RAISE(auto profile, Profile(path, ingest, key, source.dataset == "klines" ? KlineIntervalMillis(timeframe).value_or(0) : 0));
    ScanOptions scan;
    scan.columns = {"timestamp"};
    scan.filters.push_back(Predicate{"symbol", "==", {symbol}});
    if (!timeframe.empty()) scan.filters.push_back(Predicate{"timeframe", "==", {timeframe}});
    ARROW_ASSIGN_OR_RAISE(auto reader, store->Scan(source.dataset, scan));
    int64_t store_rows = 0;
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
      if (!batch) break;
      store_rows += batch->num_rows();
    }
    json item = {{"file", fs::path(path).filename().string()},
                 {"dataset", source.dataset},
                 {"symbol", symbol},
                 {"source_rows", profile.rows},
                 {"store_rows", store_rows},
                 {"duplicates", profile.duplicates},
                 {"rows_match", store_rows == profile.rows - profile.duplicates},
                 {"monotonic", profile.out_of_order == 0},
                 {"out_of_order", profile.out_of_order},
                 {"first", profile.first},
                 {"last", profile.last}};
    if (source.dataset == "klines") {
      item["gaps"] = profile.gaps;
      item["largest_gap_ms"] = profile.largest_gap_ms;
    }
    report["sources"].push_back(item);
  }
  // _config.json: what future collection into this store should use.
  json config = {{"format", "tickforge.store"},
                 {"exchange", "binance"},
                 {"symbols", symbols},
                 {"datasets", {{"klines", "klines"}, {"aggtrades", "aggtrades"}, {"funding", "funding"}}},
                 {"partitioning", "hive"},
                 {"compression", options.write.compression},
                 {"timestamp_unit", "ms"},
                 {"incremental_updates", "tickforge store info STORE --dataset D --symbol S gives the latest timestamp"}};
  for (const auto& [name, text] : {std::pair<std::string, std::string>{"_config.json", config.dump(2)},
                                   {"validation_report.json", report.dump(2)}}) {
    ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(out / name));
    ARROW_RETURN_NOT_OK(file->stream()->Write(text + "\n"));
    ARROW_RETURN_NOT_OK(file->Commit());
  }
  return report;
}

std::string FormatConvertReport(const json& report) {
  std::string text = fmt::format("backup: {}\nstore:  {} (version {}, {} rows written, {} duplicates dropped)\n",
                                 report["backup"].get<std::string>(), report["store"].get<std::string>(),
                                 report["version"].get<int64_t>(), report["rows_written"].get<int64_t>(),
                                 report["rows_duplicate"].get<int64_t>());
  for (const auto& warning : report["warnings"]) text += "warning: " + warning.get<std::string>() + "\n";
  for (const auto& item : report["sources"]) {
    text += fmt::format("  {:<48} {:<9} source {:>10}  store {:>10}  dup {:>6}  {}{}\n",
                        item["file"].get<std::string>(), item["dataset"].get<std::string>(),
                        item["source_rows"].get<int64_t>(), item["store_rows"].get<int64_t>(),
                        item["duplicates"].get<int64_t>(),
                        item["monotonic"].get<bool>() ? "monotonic" : "NOT monotonic",
                        item.contains("gaps") ? fmt::format("  gaps {}", item["gaps"].get<int64_t>()) : "");
    if (!item["rows_match"].get<bool>()) text += "    ROW COUNT MISMATCH\n";
  }
  return text;
}

}  // namespace tickforge::store
