// The panel's faces: the builder that collects per-symbol inputs and opens the reader for the
// chosen row order, and the reader that counts what it emitted. Planning, reading and merging
// live in plan.cc, source.cc, source_stream.cc, symbol_order.cc and time_order.cc.
#include "tickforge/panel/panel.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <algorithm>
#include <set>

#include "tickforge/panel/cast_internal.h"
#include "tickforge/panel/parallel_internal.h"
#include "tickforge/panel/plan_internal.h"
#include "tickforge/panel/source_internal.h"
#include "tickforge/panel/symbol_order_internal.h"
#include "tickforge/panel/time_order_internal.h"
#include "tickforge/util/files.h"
#include "tickforge/util/prefetch.h"

namespace tickforge::panel {
namespace {

// Merged batches (batch_rows each) made ahead of the consumer.
constexpr size_t kPrefetchBatches = 2;

// Reads another reader on a background thread, a few batches ahead.
class PrefetchReader : public arrow::RecordBatchReader {
 public:
  explicit PrefetchReader(std::shared_ptr<arrow::RecordBatchReader> reader)
      : schema_(reader->schema()), prefetcher_(std::move(reader), kPrefetchBatches) {}
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    ARROW_ASSIGN_OR_RAISE(*batch, prefetcher_.Next());
    return Status::OK();
  }

 private:
  std::shared_ptr<arrow::Schema> schema_;
  BatchPrefetcher prefetcher_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// PanelReader

class PanelReader::Impl {
 public:
  std::shared_ptr<const Plan> plan;
  std::shared_ptr<TimeOrderReader> time_reader;  // when order is time, for its spill count
  std::shared_ptr<arrow::RecordBatchReader> reader;
  int64_t rows_out = 0;
};

PanelReader::PanelReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PanelReader::~PanelReader() = default;

std::shared_ptr<arrow::Schema> PanelReader::schema() const { return impl_->plan->schema; }

Status PanelReader::ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) {
  if (!impl_->reader) {
    *batch = nullptr;
    return Status::OK();
  }
  Status status = impl_->reader->ReadNext(batch);
  if (!status.ok() || *batch == nullptr) impl_->reader.reset();  // joins threads, removes spill files
  ARROW_RETURN_NOT_OK(status);
  if (*batch) impl_->rows_out += (*batch)->num_rows();
  return Status::OK();
}

PanelReport PanelReader::report() const {
  PanelReport report = impl_->plan->report;
  report.rows_out = impl_->rows_out;
  if (impl_->time_reader) report.spilled_bytes = impl_->time_reader->spilled_bytes();
  return report;
}

// ---------------------------------------------------------------------------------------------
// PanelBuilder

PanelBuilder::PanelBuilder(PanelOptions options) : options_(std::move(options)) {}
PanelBuilder::~PanelBuilder() = default;

Status PanelBuilder::AddParquet(const std::string& symbol, std::vector<std::string> paths) {
  if (symbol.empty()) return Status::Invalid("empty symbol name for ", paths.empty() ? "?" : paths.front());
  if (paths.empty()) return Status::Invalid("symbol '", symbol, "': no files");
  if (sources_.count(symbol)) return Status::Invalid("symbol '", symbol, "' was added twice");
  auto source = std::make_shared<Source>();
  source->symbol = symbol;
  source->paths = std::move(paths);
  sources_[symbol] = std::move(source);
  plan_.reset();
  return Status::OK();
}

Status PanelBuilder::AddDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::IOError(dir.string(), ": not a directory");
  const std::string prefix = options_.symbol_column + "=";
  std::map<std::string, std::vector<std::string>> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (IsHiddenName(name)) continue;
    if (entry.is_regular_file() && name.ends_with(".parquet")) {
      const std::string symbol = name.substr(0, name.size() - std::string(".parquet").size());
      if (found.count(symbol)) return Status::Invalid(dir.string(), ": symbol '", symbol, "' appears twice");
      found[symbol].push_back(entry.path().string());
    } else if (entry.is_directory() && name.starts_with(prefix)) {
      const std::string symbol = name.substr(prefix.size());
      if (found.count(symbol)) return Status::Invalid(dir.string(), ": symbol '", symbol, "' appears twice");
      ARROW_ASSIGN_OR_RAISE(auto files, ListFiles(entry.path(), {.recursive = true, .suffixes = {".parquet"}}));
      if (files.empty()) return Status::Invalid(entry.path().string(), ": no Parquet files for symbol '", symbol, "'");
      found[symbol] = std::move(files);
    }
  }
  if (ec) return Status::IOError(dir.string(), ": ", ec.message());
  if (found.empty()) {
    return Status::Invalid(dir.string(), ": no per-symbol Parquet files (NAME.parquet or ", prefix, "NAME/)");
  }
  for (auto& [symbol, files] : found) ARROW_RETURN_NOT_OK(AddParquet(symbol, std::move(files)));
  return Status::OK();
}

Status PanelBuilder::AddTable(const std::string& symbol, const std::shared_ptr<arrow::Table>& table) {
  if (symbol.empty()) return Status::Invalid("empty symbol name");
  if (sources_.count(symbol)) return Status::Invalid("symbol '", symbol, "' was added twice");
  ARROW_RETURN_NOT_OK(InitializeCompute());
  auto source = std::make_shared<Source>();
  source->symbol = symbol;
  source->in_memory = true;
  std::shared_ptr<arrow::Table> kept = table;
  if (!options_.columns.empty()) {
    // What a plan might read: the asked columns, the target and any time column candidate.
    std::set<std::string> wanted(options_.columns.begin(), options_.columns.end());
    wanted.insert(options_.symbol_column);
    if (!options_.target_column.empty()) wanted.insert(options_.target_column);
    if (!options_.time_column.empty()) wanted.insert(options_.time_column);
    wanted.insert("ts");
    wanted.insert("timestamp");
    std::vector<int> indices;
    for (int i = 0; i < table->num_columns(); ++i) {
      const auto& field = table->schema()->field(i);
      if (wanted.count(field->name()) || field->type()->id() == arrow::Type::TIMESTAMP) indices.push_back(i);
    }
    ARROW_ASSIGN_OR_RAISE(kept, table->SelectColumns(indices));
  }
  source->schema = kept->schema()->WithMetadata(nullptr);
  if (options_.use_float32) {
    // Cast now so the caller's float64 copy can go: the panel then holds half its size.
    const std::string time = options_.time_column.empty() ? "ts" : options_.time_column;
    std::vector<std::shared_ptr<arrow::ChunkedArray>> columns;
    std::vector<std::shared_ptr<arrow::Field>> fields;
    bool changed = false;
    for (int i = 0; i < kept->num_columns(); ++i) {
      auto field = kept->schema()->field(i);
      auto column = kept->column(i);
      const bool metadata = IsMetadataColumn(options_, time, field->name()) ||
                            (options_.time_column.empty() && field->name() == "timestamp");
      if (field->type()->id() == arrow::Type::DOUBLE && !metadata) {
        ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(column, arrow::compute::CastOptions::Unsafe(arrow::float32())));
        column = cast.chunked_array();
        field = field->WithType(arrow::float32());
        changed = true;
      }
      columns.push_back(std::move(column));
      fields.push_back(std::move(field));
    }
    if (changed) kept = arrow::Table::Make(arrow::schema(fields), std::move(columns), kept->num_rows());
  }
  for (int i = 0; i < kept->num_columns(); ++i) {
    if (kept->column(i)->null_count() == 0) source->null_free.insert(kept->schema()->field(i)->name());
  }
  source->table = std::move(kept);
  sources_[symbol] = std::move(source);
  plan_.reset();
  return Status::OK();
}

Result<std::shared_ptr<PanelBuilder::Plan>> PanelBuilder::MakePlan() { return BuildPlan(options_, sources_); }

Result<std::shared_ptr<PanelReader>> PanelBuilder::Open() { return OpenWith(options_.spill_dir); }

Result<std::shared_ptr<PanelReader>> PanelBuilder::OpenWith(const std::filesystem::path& spill_dir) {
  const bool any_in_memory =
      std::any_of(sources_.begin(), sources_.end(), [](const auto& entry) { return entry.second->in_memory; });
  if (opened_ && options_.release_inputs && any_in_memory) {
    return Status::Invalid("the panel was already read once and its inputs were released "
                           "(release_after_convert); build it again to read it again");
  }
  if (!plan_) {
    ARROW_ASSIGN_OR_RAISE(plan_, MakePlan());
  }
  opened_ = true;
  auto impl = std::make_unique<PanelReader::Impl>();
  impl->plan = plan_;
  // Decoding Parquet overlaps with the consumer. In-memory inputs have nothing to decode, and
  // they may hold Python-owned buffers, which are best released on the consumer's thread.
  const bool files_only = std::none_of(plan_->sources.begin(), plan_->sources.end(),
                                       [](const auto& source) { return source->in_memory; });
  const bool threads = files_only && !plan_->sources.empty();
  std::shared_ptr<arrow::RecordBatchReader> reader;
  if (options_.order == Order::kSymbol) {
    if (threads) {
      reader = MakeReadAheadReader(plan_, Workers(), kReadAheadSymbolBytes);
    } else {
      reader = MakeSymbolOrderReader(plan_, true);
    }
  } else {
    impl->time_reader = MakeTimeOrderReader(plan_, true, spill_dir);
    reader = impl->time_reader;
    if (threads) reader = std::make_shared<PrefetchReader>(std::move(reader));
  }
  impl->reader = std::move(reader);
  return std::make_shared<PanelReader>(std::move(impl));
}

Result<PanelReport> PanelBuilder::Describe() {
  if (!plan_) {
    ARROW_ASSIGN_OR_RAISE(plan_, MakePlan());
  }
  return plan_->report;
}

Result<std::shared_ptr<arrow::Schema>> PanelBuilder::Schema() {
  if (!plan_) {
    ARROW_ASSIGN_OR_RAISE(plan_, MakePlan());
  }
  return plan_->schema;
}

Result<std::shared_ptr<arrow::Table>> PanelBuilder::Collect() {
  ARROW_ASSIGN_OR_RAISE(auto reader, Open());
  return arrow::Table::FromRecordBatchReader(reader.get());
}

Result<PanelReport> PanelBuilder::WriteParquet(const std::filesystem::path& path, const ParquetWriteOptions& write,
                                               const ProgressFn& progress_fn) {
  ProgressReporter progress(progress_fn);
  ARROW_RETURN_NOT_OK(progress.Begin("build"));
  std::filesystem::path spill_dir = options_.spill_dir;
  if (spill_dir.empty()) spill_dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenWith(spill_dir));
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(path, reader->schema(), write));
  // Whole row groups go to the writer at once: it then writes each column straight to the file
  // instead of buffering the row group's pages in memory and copying them out at its end, which
  // measured a third less CPU. The pending rows are references to the batches, not copies.
  std::shared_ptr<arrow::Table> pending;
  ARROW_ASSIGN_OR_RAISE(pending, arrow::Table::MakeEmpty(reader->schema()));
  const int64_t group = write.row_group_rows;
  // The panel is read on a thread of its own while row groups are written here: decoding the
  // inputs and encoding the output overlap (the writer's threads only split a group's columns).
  // One row group ahead: enough to cover a group's write, whatever the batches' size.
  BatchPrefetcher prefetch(reader, 64, {}, group);
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto batch, prefetch.Next());
    if (batch) {
      ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(reader->schema(), {batch}));
      ARROW_ASSIGN_OR_RAISE(pending, arrow::ConcatenateTables({pending, table}));
    }
    const int64_t full = batch ? pending->num_rows() / group * group : pending->num_rows();
    if (full > 0) {
      ARROW_RETURN_NOT_OK(file->WriteTable(*pending->Slice(0, full)));
      pending = pending->Slice(full);
      ARROW_RETURN_NOT_OK(progress.Add(full));
    }
    if (!batch) break;
  }
  ARROW_RETURN_NOT_OK(progress.End());
  ARROW_RETURN_NOT_OK(file->Close().status());
  return reader->report();
}

}  // namespace tickforge::panel
