// The Store API: opening a store, and each operation as one transaction (write, ingest, scan,
// compaction, migration, materialization), plus the flat one-file write. The pieces they are
// made of live in rules.cc, predicate.cc, row_key.cc, transaction.cc, writer.cc and cache.cc.
#include "tickforge/store/store.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/dataset/api.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/util/thread_pool.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <set>

#include "tickforge/store/ingest.h"
#include "tickforge/store/listing_internal.h"
#include "tickforge/store/predicate_internal.h"
#include "tickforge/store/rules_internal.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/store/vacuum_internal.h"
#include "tickforge/store/writer_internal.h"
#include "tickforge/util/files.h"
#include "tickforge/util/parquet.h"

namespace tickforge::store {

namespace fs = std::filesystem;
namespace cp = arrow::compute;
namespace ds = arrow::dataset;

Result<int64_t> WriteFlatParquet(arrow::RecordBatchReader& reader, const fs::path& path,
                                 const WriteOptions& options) {
  ARROW_RETURN_NOT_OK(options.Validate());
  ParquetWriteOptions parquet;
  ARROW_ASSIGN_OR_RAISE(parquet.compression, ParquetCompression(options.compression));
  parquet.row_group_rows = options.max_rows_per_group;
  auto schema = reader.schema();
  if (!options.metadata.empty()) {
    auto metadata = schema->metadata() ? schema->metadata()->Copy() : std::make_shared<arrow::KeyValueMetadata>();
    for (const auto& [k, v] : options.metadata) metadata->Append(k, v);
    schema = schema->WithMetadata(metadata);
  }
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(path, schema, parquet));
  int64_t rows = 0;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader.ReadNext(&batch));
    if (!batch) break;
    rows += batch->num_rows();
    ARROW_ASSIGN_OR_RAISE(batch, batch->ReplaceSchema(schema));
    ARROW_RETURN_NOT_OK(file->Write(*batch));
  }
  ARROW_RETURN_NOT_OK(file->Close().status());
  return rows;
}

Result<std::shared_ptr<Store>> Store::Open(const fs::path& root, bool create, const StoreOptions& options) {
  if (options.checkpoint_interval < 1) {
    return Status::Invalid("checkpoint_interval must be at least 1, not ", options.checkpoint_interval);
  }
  // Casts, filters and scans need Arrow's compute kernels registered once per process.
  ARROW_RETURN_NOT_OK(InitializeCompute());
  std::error_code ec;
  if (!fs::exists(root / "_tickforge", ec)) {
    if (!create) return Status::IOError(root.string(), ": not a tickforge store (no _tickforge folder)");
    if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
      return Status::IOError(root.string(), ": exists and is not a directory");
    }
    ARROW_RETURN_NOT_OK(EnsureDirectory(root / "_tickforge" / "log"));
  }
  return std::shared_ptr<Store>(new Store(fs::absolute(root), options));
}

Store::~Store() = default;

Store::Store(fs::path root, StoreOptions options)
    : paths_(std::move(root)), options_(options), cache_(std::make_unique<SnapshotCache>()) {
}

Result<Snapshot> Store::ReadSnapshot(std::optional<int64_t> version) const {
  return store::ReadSnapshot(paths_, version);
}

namespace {

/// Wrap a reader that is open already.
LazySource Ready(std::string name, std::shared_ptr<arrow::RecordBatchReader> reader) {
  return LazySource{std::move(name), [reader]() -> Result<std::shared_ptr<arrow::RecordBatchReader>> { return reader; }};
}


/// Replace directories by the data files under them (a data.binance.vision download tree, a
/// folder of DBN files), sorted; checksum, hidden and temporary files are left out.
Result<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (!fs::is_directory(input, ec)) {
      if (!fs::exists(input, ec)) return Status::IOError(input, ": no such file or directory");
      files.push_back(input);
      continue;
    }
    ARROW_ASSIGN_OR_RAISE(auto found, ListFiles(input, {.recursive = true}));
    std::erase_if(found, [](const std::string& path) { return path.ends_with(".CHECKSUM"); });
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) return Status::Invalid("no input files");
  return files;
}

int DefaultThreads(int requested) {
  if (requested > 0) return requested;
  // Arrow's pool size: the core count, or $ARROW_NUM_THREADS / $OMP_NUM_THREADS when set.
  return std::max(1, arrow::GetCpuThreadPoolCapacity());
}

Status CommitAndVisit(Transaction& txn, CommitInfo& info, const WriteOptions& options) {
  if (info.added.empty() && info.removed.empty()) {
    // Nothing new (e.g. a re-ingest of known rows): no version is made for it.
    info.version = txn.base().version;
    return Status::OK();
  }
  ARROW_RETURN_NOT_OK(txn.Commit());
  info.version = txn.version();
  if (options.file_visitor) {
    for (const auto& file : info.added) options.file_visitor(file);
  }
  return Status::OK();
}

}  // namespace

Result<CommitInfo> Store::Write(const std::string& dataset_name, const std::string& type,
                                arrow::RecordBatchReader& reader, const WriteOptions& options) {
  ARROW_RETURN_NOT_OK(options.Validate());
  ARROW_RETURN_NOT_OK(ValidateDatasetName(dataset_name));
  ARROW_ASSIGN_OR_RAISE(auto rules, RulesFor(type));
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "write", options_, cache_.get(), BaseListing::kTouched));
  const bool is_new = !txn->next().datasets.count(dataset_name);
  DatasetEntry& dataset = txn->next().datasets[dataset_name];
  dataset.name = dataset_name;
  if (!is_new && dataset.type != rules.type) {
    return Status::Invalid("dataset '", dataset_name, "' holds ", dataset.type, ", not ", rules.type);
  }
  if (is_new && rules.time_column.empty()) rules.time_column = reader.schema()->field(0)->name();
  ARROW_RETURN_NOT_OK(PrepareDataset(dataset, rules, *reader.schema(), is_new));
  // The caller's reader is borrowed; wrap it without taking ownership.
  std::vector<LazySource> readers;
  readers.push_back(Ready(dataset_name, std::shared_ptr<arrow::RecordBatchReader>(&reader, [](auto*) {})));
  CommitInfo info;
  ARROW_RETURN_NOT_OK(WriteReaders(paths_, *txn, dataset, options, readers, 1, &info));
  ARROW_RETURN_NOT_OK(CommitAndVisit(*txn, info, options));
  return info;
}

Result<CommitInfo> Store::Ingest(const std::vector<std::string>& inputs, const IngestOptions& options) {
  ARROW_RETURN_NOT_OK(options.write.Validate());
  ARROW_ASSIGN_OR_RAISE(auto files, ExpandInputs(inputs));
  // Look at every source first (names, metadata, footers): each tells its dataset and columns
  // before any row is written; rows are read later, a few files at a time.
  std::map<std::string, std::vector<IngestSource>> by_dataset;
  ProgressReporter progress(options.progress);
  std::map<std::string, int64_t> file_bytes;
  if (progress.enabled()) {
    const auto sizes = FileSizes(files);
    for (size_t i = 0; i < files.size(); ++i) file_bytes[files[i]] = sizes[i];
    ARROW_RETURN_NOT_OK(progress.Begin("ingest", static_cast<int64_t>(files.size()), -1,
                                       std::accumulate(sizes.begin(), sizes.end(), int64_t{0})));
  }
  for (const auto& path : files) {
    ARROW_ASSIGN_OR_RAISE(auto sources, OpenIngestSources(path, options, files.size() == 1));
    for (auto& source : sources) by_dataset[source.dataset].push_back(std::move(source));
  }
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "ingest", options_, cache_.get(), BaseListing::kTouched));
  CommitInfo info;
  for (auto& [name, sources] : by_dataset) {
    DataTypeRules rules;
    bool is_new = false;
    ARROW_ASSIGN_OR_RAISE(DatasetEntry * entry, DatasetFor(txn->next(), name, sources.front().type,
                                                           sources.front().time_column, &rules, &is_new));
    DatasetEntry& dataset = *entry;
    // The union of the sources' columns, so one file schema serves them all.
    arrow::FieldVector fields;
    for (const auto& source : sources) AddMissingFields(fields, source.schema->fields());
    ARROW_RETURN_NOT_OK(PrepareDataset(dataset, rules, arrow::Schema(fields), is_new));
    // Constant partition values (exchange, symbol, dataset, timeframe) per source: group the
    // sources by them, one writer per group.
    // (A source's file metadata, such as a depth book's size scale, keeps its own group too.)
    using GroupKey = std::pair<std::map<std::string, std::string>, std::map<std::string, std::string>>;
    std::map<GroupKey, std::vector<LazySource>> groups;
    for (auto& source : sources) {
      auto open = std::move(source.open);
      if (progress.enabled()) {
        open = [open = std::move(open), &progress, bytes = file_bytes[source.path]]()
            -> Result<std::shared_ptr<arrow::RecordBatchReader>> {
          ARROW_ASSIGN_OR_RAISE(auto reader, open());
          return ReportRows(std::move(reader), &progress, bytes);
        };
      }
      groups[{source.constants, source.metadata}].push_back(LazySource{source.path, std::move(open)});
    }
    for (auto& [key, readers] : groups) {
      WriteOptions write = options.write;
      for (const auto& [k, v] : key.first) write.constants[k] = v;
      for (const auto& [k, v] : key.second) write.metadata[k] = v;
      ARROW_RETURN_NOT_OK(write.Validate());
      ARROW_RETURN_NOT_OK(WriteReaders(paths_, *txn, dataset, write, readers, DefaultThreads(options.threads), &info));
    }
  }
  // The last update comes before the commit: a callback that throws here still leaves nothing.
  ARROW_RETURN_NOT_OK(progress.End());
  ARROW_RETURN_NOT_OK(CommitAndVisit(*txn, info, options.write));
  return info;
}

namespace {

int64_t ScanBatchSize(int64_t requested) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("TICKFORGE_SCAN_BATCH_SIZE")) {
    char* end = nullptr;
    long long value = std::strtoll(env, &end, 10);
    if (end != env && *end == '\0' && value > 0) return value;
  }
  return 262'144;
}


Result<std::vector<cp::Expression>> FilterExpressions(const ScanOptions& options, const DatasetEntry& dataset) {
  std::vector<cp::Expression> filters;
  for (const auto& predicate : options.filters) {
    ARROW_ASSIGN_OR_RAISE(auto expression, ToExpression(predicate, *dataset.schema));
    filters.push_back(std::move(expression));
  }
  return filters;
}

}  // namespace

Result<ScanPlan> Store::Plan(const std::string& dataset_name, const ScanOptions& options) const {
  // Only the files the filters may match are read: of a large store's checkpoint, the row
  // groups whose partition statistics may hold them (listing_internal.h).
  const std::set<std::string> only(options.paths.begin(), options.paths.end());
  std::unique_ptr<FilePruner> pruner;
  const auto select = [&](const DatasetEntry& definition) {
    pruner = std::make_unique<FilePruner>(definition, options.filters);
    CheckpointSelection selection;
    // Named paths are each looked for (a path the snapshot does not list is an error).
    if (only.empty()) selection.key_values = pruner->KeyValues();
    const FilePruner* rules = pruner.get();
    selection.keep = [rules, &only](const FileEntry& file) {
      return only.empty() ? !rules->RulesOut(file) : only.count(file.path) > 0;
    };
    return selection;
  };
  ARROW_ASSIGN_OR_RAISE(auto listing, ReadDatasetListing(paths_, options.version, dataset_name, select));
  Snapshot& snapshot = listing.snapshot;
  ARROW_ASSIGN_OR_RAISE(const DatasetEntry* dataset, snapshot.Find(dataset_name));
  for (const auto& column : options.columns) {
    if (dataset->schema->GetFieldIndex(column) < 0) {
      return Status::KeyError("dataset '", dataset_name, "' has no column '", column, "' (columns: ",
                              fmt::format("{}", fmt::join(dataset->schema->field_names(), ", ")), ")");
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto filters, FilterExpressions(options, *dataset));
  if (!only.empty()) {
    std::set<std::string> missing = only;
    for (const auto& file : dataset->files) missing.erase(file.path);
    if (!missing.empty()) {
      return Status::KeyError("dataset '", dataset_name, "' at version ", snapshot.version, " has no file ",
                              *missing.begin());
    }
  }
  ScanPlan plan;
  plan.version = snapshot.version;
  plan.files_total = listing.file_counts[dataset_name];
  const FilePruner final_pruner(*dataset, options.filters);
  for (const auto& file : dataset->files) {
    // Side files a dataset lists with its data (a labeled dataset's thresholds.json) are no rows.
    if (!file.path.ends_with(".parquet")) continue;
    if (final_pruner.RulesOut(file)) continue;
    ARROW_ASSIGN_OR_RAISE(bool may_match, MayMatch(file, *dataset, filters));
    if (!may_match) continue;
    fs::path location = ResolveFile(paths_, file);
    ARROW_RETURN_NOT_OK(CheckNotVacuumed(paths_, snapshot.version, file, location));
    plan.files.push_back(file);
    plan.locations.push_back(std::move(location));
  }
  plan.dataset = std::move(snapshot.datasets.at(dataset_name));
  plan.dataset.files = FileList(plan.files);
  return plan;
}

Result<std::shared_ptr<arrow::RecordBatchReader>> Store::Scan(const std::string& dataset_name,
                                                              const ScanOptions& options,
                                                              ScanStats* stats) const {
  ARROW_ASSIGN_OR_RAISE(auto plan, Plan(dataset_name, options));
  const DatasetEntry* dataset = &plan.dataset;
  ARROW_ASSIGN_OR_RAISE(auto filters, FilterExpressions(options, *dataset));
  auto format = std::make_shared<ds::ParquetFileFormat>();
  auto filesystem = std::make_shared<arrow::fs::LocalFileSystem>();
  std::vector<std::shared_ptr<ds::FileFragment>> fragments;
  for (size_t i = 0; i < plan.files.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto partition, PartitionExpression(plan.files[i], *dataset->schema));
    ARROW_ASSIGN_OR_RAISE(auto fragment,
                          format->MakeFragment(ds::FileSource(plan.locations[i].string(), filesystem), partition));
    fragments.push_back(std::move(fragment));
  }
  if (stats) {
    stats->version = plan.version;
    stats->files_total = plan.files_total;
    stats->files_selected = static_cast<int64_t>(fragments.size());
  }
  ARROW_ASSIGN_OR_RAISE(auto data, ds::FileSystemDataset::Make(dataset->schema, cp::literal(true), format,
                                                               filesystem, std::move(fragments)));
  ARROW_ASSIGN_OR_RAISE(auto builder, data->NewScan());
  ARROW_RETURN_NOT_OK(builder->Project(options.columns.empty() ? dataset->schema->field_names() : options.columns));
  if (!filters.empty()) ARROW_RETURN_NOT_OK(builder->Filter(cp::and_(filters)));
  ARROW_RETURN_NOT_OK(builder->BatchSize(ScanBatchSize(options.batch_size)));
  ARROW_RETURN_NOT_OK(builder->UseThreads(options.use_threads));
  ARROW_ASSIGN_OR_RAISE(auto scanner, builder->Finish());
  return scanner->ToRecordBatchReader();
}

Result<std::optional<int64_t>> Store::LatestTimestamp(const std::string& dataset_name,
                                                      const std::string& symbol) const {
  ARROW_ASSIGN_OR_RAISE(auto snapshot, ReadSnapshot());
  ARROW_ASSIGN_OR_RAISE(const DatasetEntry* dataset, snapshot.Find(dataset_name));
  std::optional<int64_t> latest;
  for (const auto& file : dataset->files) {
    for (const auto& [key, value] : file.partition) {
      if (key == "symbol" && value == symbol) latest = std::max(latest.value_or(file.max_time), file.max_time);
    }
  }
  return latest;
}

Result<CommitInfo> Store::Compact(const std::string& dataset_name, const CompactOptions& options) {
  ARROW_RETURN_NOT_OK(options.write.Validate());
  if (options.target_rows <= 0) return Status::Invalid("target_rows must be positive");
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "compact", options_, cache_.get()));
  ARROW_ASSIGN_OR_RAISE(const DatasetEntry* found, txn->base().Find(dataset_name));
  DatasetEntry& dataset = txn->next().datasets.at(found->name);
  // Small files grouped by partition; partitions with too few of them stay as they are.
  std::map<std::vector<std::pair<std::string, std::string>>, std::vector<FileEntry>> groups;
  for (const auto& file : dataset.files) {
    if (file.rows < options.target_rows) groups[file.partition].push_back(file);
  }
  std::erase_if(groups, [&](const auto& group) { return static_cast<int>(group.second.size()) < options.min_files; });
  CommitInfo info;
  if (groups.empty()) {
    info.version = txn->base().version;
    info.warnings.push_back("nothing to compact");
    return info;
  }
  std::set<std::string> removed_paths;
  for (const auto& [_, files] : groups) {
    for (const auto& file : files) {
      removed_paths.insert(file.path);
      info.removed.push_back(file);
    }
  }
  dataset.files.EraseIf([&](const FileEntry& f) { return removed_paths.count(f.path) > 0; });
  // Rows are copied as they are (they are unique already); files hold no partition columns,
  // so each partition's values come back as constants of its own writer.
  WriteOptions write = options.write;
  write.dedup = false;
  write.max_rows_per_file = options.target_rows;
  write.min_rows_per_group = std::min(write.min_rows_per_group, options.target_rows - 1);
  for (const auto& [partition, files] : groups) {
    WriteOptions group_write = write;
    for (const auto& [k, v] : partition) {
      if (!IsDateKey(k)) group_write.constants[k] = v;
    }
    std::vector<LazySource> readers;
    for (const auto& file : files) {
      const std::string path = ResolveFile(paths_, file).string();
      ARROW_ASSIGN_OR_RAISE(auto reader, ReadParquetBatches(path));
      readers.push_back(Ready(path, std::move(reader)));
    }
    ARROW_RETURN_NOT_OK(WriteReaders(paths_, *txn, dataset, group_write, readers, 1, &info));
  }
  ARROW_RETURN_NOT_OK(CommitAndVisit(*txn, info, write));
  return info;
}

Result<CommitInfo> Store::Migrate(const fs::path& flat_dir, const std::string& dataset_name,
                                  const std::string& type, const WriteOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto files, ListFiles(flat_dir, {.suffixes = {".parquet"}}));
  if (files.empty()) return Status::Invalid(flat_dir.string(), ": no Parquet files to migrate");
  ARROW_RETURN_NOT_OK(options.Validate());
  ARROW_RETURN_NOT_OK(ValidateDatasetName(dataset_name));
  ARROW_ASSIGN_OR_RAISE(auto rules, RulesFor(type));
  std::vector<LazySource> readers;
  arrow::FieldVector fields;
  for (const auto& path : files) {
    ARROW_ASSIGN_OR_RAISE(auto reader, ReadParquetBatches(path));
    AddMissingFields(fields, reader->schema()->fields());
    readers.push_back(Ready(path, std::move(reader)));
  }
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "migrate", options_, cache_.get()));
  const bool is_new = !txn->next().datasets.count(dataset_name);
  DatasetEntry& dataset = txn->next().datasets[dataset_name];
  dataset.name = dataset_name;
  if (is_new && rules.time_column.empty()) rules.time_column = fields.front()->name();
  ARROW_RETURN_NOT_OK(PrepareDataset(dataset, rules, arrow::Schema(fields), is_new));
  CommitInfo info;
  ARROW_RETURN_NOT_OK(WriteReaders(paths_, *txn, dataset, options, readers, DefaultThreads(0), &info));
  ARROW_RETURN_NOT_OK(CommitAndVisit(*txn, info, options));
  return info;
}

Result<CommitInfo> Store::Materialize(const std::string& source, const ScanOptions& projection,
                                      const std::string& target, const WriteOptions& options) {
  ARROW_RETURN_NOT_OK(ValidateDatasetName(target));
  ARROW_ASSIGN_OR_RAISE(auto snapshot, ReadSnapshot(projection.version));
  ARROW_ASSIGN_OR_RAISE(const DatasetEntry* from, snapshot.Find(source));
  if (source == target) return Status::Invalid("materialize: target must differ from the source");
  // The projection keeps the partition keys and the time column, which the target needs.
  ScanOptions scan = projection;
  if (!scan.columns.empty()) {
    auto add = [&](const std::string& name) {
      if (IsDateKey(name)) return;
      if (std::find(scan.columns.begin(), scan.columns.end(), name) == scan.columns.end()) scan.columns.push_back(name);
    };
    add(from->time_column);
    for (const auto& key : from->partition_keys) add(key);
  }
  ARROW_ASSIGN_OR_RAISE(auto reader, Scan(source, scan));
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "materialize", options_, cache_.get()));
  if (txn->next().datasets.count(target)) {
    return Status::Invalid("materialize: dataset '", target, "' exists already");
  }
  DatasetEntry& dataset = txn->next().datasets[target];
  dataset.name = target;
  DataTypeRules rules;
  rules.type = "generic";
  rules.partition_keys = from->partition_keys;
  rules.time_column = from->time_column;
  rules.required = arrow::schema({});
  arrow::FieldVector fields;
  for (const auto& field : reader->schema()->fields()) {
    if (!IsDateKey(field->name())) fields.push_back(field);
  }
  ARROW_RETURN_NOT_OK(PrepareDataset(dataset, rules, arrow::Schema(fields), true));
  std::vector<LazySource> readers;
  readers.push_back(Ready(source, reader));
  WriteOptions write = options;
  write.dedup = false;
  CommitInfo info;
  ARROW_RETURN_NOT_OK(WriteReaders(paths_, *txn, dataset, write, readers, 1, &info));
  ARROW_RETURN_NOT_OK(CommitAndVisit(*txn, info, options));
  return info;
}

}  // namespace tickforge::store
