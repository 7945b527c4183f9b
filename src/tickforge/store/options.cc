#include "tickforge/store/options.h"

#include <arrow/memory_pool.h>
#include <arrow/type.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <variant>

#include "tickforge/store/totals_internal.h"
#include "tickforge/util/config.h"

namespace tickforge::store {

using nlohmann::json;

namespace {

// The write keys every writing command shares.
const config::Table<WriteOptions>& WriteTable() {
  static const auto* table = [] {
    auto* t = new config::Table<WriteOptions>();
    using W = WriteOptions;
    t->Field("compression", &W::compression, "zstd, snappy, lz4, gzip, brotli or none")
        .Field("max_rows_per_file", &W::max_rows_per_file, "rows per file at most")
        .Field("min_rows_per_group", &W::min_rows_per_group, "rows per row group at least")
        .Field("max_rows_per_group", &W::max_rows_per_group, "rows per row group at most")
        .Field("metadata", &W::metadata, "key-value metadata for every file")
        .Field("dedup", &W::dedup, "drop rows whose natural key the dataset holds")
        .Field("constants", &W::constants, "constant columns added to every row")
        .Field("quality", &W::quality, "run the data-quality checks and record them in the commit");
    return t;
  }();
  return *table;
}

Result<Value> ValueFromJson(const json& j) {
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<int64_t>());
  if (j.is_number()) return Value(j.get<double>());
  if (j.is_string()) return Value(j.get<std::string>());
  return Status::Invalid("filter value ", j.dump(), " is not a number, string or boolean");
}

Result<Predicate> PredicateFromJson(const json& term) {
  if (term.is_string()) return ParsePredicate(term.get<std::string>());
  if (!term.is_array() || term.size() != 3 || !term.at(0).is_string() || !term.at(1).is_string()) {
    return Status::Invalid("filter ", term.dump(), " must be [column, op, value] or 'column op value'");
  }
  Predicate predicate{term.at(0).get<std::string>(), term.at(1).get<std::string>(), {}};
  for (const auto& value : term.at(2).is_array() ? term.at(2) : json::array({term.at(2)})) {
    ARROW_ASSIGN_OR_RAISE(auto v, ValueFromJson(value));
    predicate.values.push_back(std::move(v));
  }
  return predicate;
}

json PredicateToJson(const Predicate& predicate) {
  json values = json::array();
  for (const auto& value : predicate.values) {
    std::visit([&](const auto& v) { values.push_back(v); }, value);
  }
  return json::array({predicate.column, predicate.op, values});
}

const config::Table<ScanOptions>& ScanTable() {
  static const auto* table = [] {
    auto* t = new config::Table<ScanOptions>();
    using config::Null;
    t->Field("columns", &ScanOptions::columns, "columns to read (null: all)", Null::kClear)
        .Custom(
            "filters",
            [](const json& value, ScanOptions* o, std::string_view source, std::string_view key) -> Status {
              o->filters.clear();
              if (value.is_null()) return Status::OK();
              if (!value.is_array()) return config::WrongType(source, key, "a list of filters", value);
              for (const auto& term : value) {
                ARROW_ASSIGN_OR_RAISE(auto predicate, PredicateFromJson(term));
                o->filters.push_back(std::move(predicate));
              }
              return Status::OK();
            },
            [](const ScanOptions& o) -> nlohmann::ordered_json {
              json out = json::array();
              for (const auto& predicate : o.filters) out.push_back(PredicateToJson(predicate));
              return out;
            },
            "[column, op, value] terms, all of which a row must meet")
        .Field("batch_size", &ScanOptions::batch_size, "rows per batch (null: Arrow's default)", Null::kClear)
        .Field("version", &ScanOptions::version, "the version to read (null: the newest)")
        .Field("use_threads", &ScanOptions::use_threads, "read on Arrow's thread pool")
        .Field("paths", &ScanOptions::paths, "only these files of the snapshot (null: all)", Null::kClear);
    return t;
  }();
  return *table;
}

const config::Table<BookIngestOptions>& BookIngestTable() {
  static const auto* table = [] {
    auto* t = new config::Table<BookIngestOptions>();
    t->Field("derive_books", &BookIngestOptions::derive,
             "also write the rebuilt books of MBO, depth-stream and LOBSTER inputs, same commit")
        .Field("books_dataset", &BookIngestOptions::dataset, "the dataset the derived books go to");
    return t;
  }();
  return *table;
}

const config::Table<IngestOptions>& IngestTable() {
  static const auto* table = [] {
    auto* t = new config::Table<IngestOptions>();
    using config::Null;
    t->Field("kind", &IngestOptions::kind, "the data kind (null: from the file name)", Null::kClear)
        .Field("symbol", &IngestOptions::symbol, "the symbol (null: from the file name)", Null::kClear)
        .Field("exchange", &IngestOptions::exchange, "the exchange partition value")
        .Field("verify_checksum", &IngestOptions::verify_checksum, "check <file>.CHECKSUM when present")
        .Field("threads", &IngestOptions::threads, "files ingested at once (0: ARROW_NUM_THREADS or cores)");
    t->Include(WriteTable(), &IngestOptions::write);
    t->Include(BookIngestTable(), &IngestOptions::books);
    return t;
  }();
  return *table;
}

const config::Table<CompactOptions>& CompactTable() {
  static const auto* table = [] {
    auto* t = new config::Table<CompactOptions>();
    t->Field("target_rows", &CompactOptions::target_rows, "rows per compacted file")
        .Field("min_files", &CompactOptions::min_files, "partitions with fewer files are left alone");
    t->Include(WriteTable(), &CompactOptions::write);
    return t;
  }();
  return *table;
}

const config::Table<StoreOptions>& StoreTable() {
  static const auto* table = [] {
    auto* t = new config::Table<StoreOptions>();
    t->Field("checkpoint_interval", &StoreOptions::checkpoint_interval,
             "commits between Parquet checkpoints of the whole snapshot");
    return t;
  }();
  return *table;
}

const config::Table<VacuumOptions>& VacuumTable() {
  static const auto* table = [] {
    auto* t = new config::Table<VacuumOptions>();
    t->Custom(
         "older_than",
         [](const json& value, VacuumOptions* o, std::string_view source, std::string_view key) -> Status {
           if (value.is_number()) {
             o->older_than_seconds = value.get<double>();
             return Status::OK();
           }
           if (!value.is_string()) return config::WrongType(source, key, "seconds or a duration such as 7d", value);
           ARROW_ASSIGN_OR_RAISE(o->older_than_seconds, ParseDurationSeconds(value.get<std::string>()));
           return Status::OK();
         },
         [](const VacuumOptions& o) -> nlohmann::ordered_json { return o.older_than_seconds; },
         "keep versions committed less than this long ago (seconds, or 7d, 12h, 30m, 45s)")
        .Field("retain_versions", &VacuumOptions::retain_versions, "keep at least this many newest versions")
        .Field("dry_run", &VacuumOptions::dry_run, "report what would be deleted, delete nothing");
    return t;
  }();
  return *table;
}

template <typename Options>
Result<Options> FromJson(const config::Table<Options>& table, const json& j, std::string_view what) {
  Options options;
  ARROW_RETURN_NOT_OK(table.Apply(j, &options, what));
  return options;
}

}  // namespace

Result<WriteOptions> WriteOptionsFromJson(const json& j) {
  ARROW_ASSIGN_OR_RAISE(auto options, FromJson(WriteTable(), j, "write options"));
  ARROW_RETURN_NOT_OK(options.Validate());
  return options;
}

Result<ScanOptions> ScanOptionsFromJson(const json& j) { return FromJson(ScanTable(), j, "scan options"); }

Result<IngestOptions> IngestOptionsFromJson(const json& j) {
  ARROW_ASSIGN_OR_RAISE(auto options, FromJson(IngestTable(), j, "ingest options"));
  ARROW_RETURN_NOT_OK(options.write.Validate());
  return options;
}

Result<CompactOptions> CompactOptionsFromJson(const json& j) {
  ARROW_ASSIGN_OR_RAISE(auto options, FromJson(CompactTable(), j, "compact options"));
  ARROW_RETURN_NOT_OK(options.write.Validate());
  return options;
}

Result<StoreOptions> StoreOptionsFromJson(const json& j) {
  ARROW_ASSIGN_OR_RAISE(auto options, FromJson(StoreTable(), j, "store options"));
  if (options.checkpoint_interval < 1) {
    return Status::Invalid("store options: checkpoint_interval must be at least 1, not ", options.checkpoint_interval);
  }
  return options;
}

Result<VacuumOptions> VacuumOptionsFromJson(const json& j) {
  ARROW_ASSIGN_OR_RAISE(auto options, FromJson(VacuumTable(), j, "vacuum options"));
  if (!(options.older_than_seconds >= 0)) return Status::Invalid("vacuum options: older_than must not be negative");
  if (options.retain_versions < 0) return Status::Invalid("vacuum options: retain_versions must not be negative");
  return options;
}

Result<double> ParseDurationSeconds(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text.substr(used);
  static const std::map<std::string, double> kUnits = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600},
                                                       {"d", 86'400}, {"w", 7 * 86'400}};
  auto it = kUnits.find(unit);
  if (used == 0 || it == kUnits.end() || !(value >= 0)) {
    return Status::Invalid("duration '", text, "' is not a non-negative number of seconds or a number with s, m, h, d or w");
  }
  return value * it->second;
}

nlohmann::ordered_json ToJson(const StoreOptions& options) { return StoreTable().ToJson(options); }
nlohmann::ordered_json ToJson(const VacuumOptions& options) { return VacuumTable().ToJson(options); }

json ToJson(const VacuumReport& report) {
  return {{"dry_run", report.dry_run},
          {"latest_version", report.latest_version},
          {"oldest_retained_version", report.oldest_retained_version},
          {"files_deleted", report.files_deleted},
          {"bytes_freed", report.bytes_freed},
          {"files_kept", report.files_kept},
          {"staging_removed", report.staging_removed},
          {"deleted", report.deleted}};
}

nlohmann::ordered_json ToJson(const WriteOptions& options) { return WriteTable().ToJson(options); }
nlohmann::ordered_json ToJson(const ScanOptions& options) { return ScanTable().ToJson(options); }
nlohmann::ordered_json ToJson(const IngestOptions& options) { return IngestTable().ToJson(options); }
nlohmann::ordered_json ToJson(const CompactOptions& options) { return CompactTable().ToJson(options); }

json ToJson(const FileEntry& file) {
  json partition = json::object();
  for (const auto& [key, value] : file.partition) partition[key] = value;
  return {{"path", file.path}, {"rows", file.rows}, {"bytes", file.bytes}, {"partition", partition},
          {"min_time", file.min_time}, {"max_time", file.max_time}, {"version", file.version}};
}

json ToJson(const CommitInfo& info) {
  json added = json::array(), removed = json::array();
  for (const auto& file : info.added) added.push_back(ToJson(file));
  for (const auto& file : info.removed) removed.push_back(ToJson(file));
  return {{"version", info.version},     {"rows_in", info.rows_in},
          {"rows_written", info.rows_written}, {"rows_duplicate", info.rows_duplicate},
          {"rows_conflicting", info.rows_conflicting},
          {"added", added},              {"removed", removed},
          {"warnings", info.warnings}};
}

json MemoryPoolJson() {
  arrow::MemoryPool* pool = arrow::default_memory_pool();
  return {{"backend", pool->backend_name()},
          {"bytes_allocated", pool->bytes_allocated()},
          {"max_memory", pool->max_memory()},
          {"num_allocations", pool->num_allocations()}};
}

json SummaryJson(const Snapshot& snapshot) {
  // Each chunk of the listing is summed once and the sum kept with it (totals_internal.h).
  return SummaryJsonOf(snapshot, SumSnapshot(snapshot));
}

}  // namespace tickforge::store
