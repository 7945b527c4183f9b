// `label update`: compare the source snapshot a labeled dataset recorded with the newest one,
// split only the changed days, and per touched symbol splice its old file's unchanged rows
// around the rows computed again (BuildSymbol over the changed rows and the context their
// windows read), so the file equals what a full build gives.
#include "tickforge/label/update.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/api.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/statistics.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "tickforge/dataset/dataset.h"
#include "tickforge/label/build_internal.h"
#include "tickforge/label/commit.h"
#include "tickforge/label/commit_internal.h"
#include "tickforge/label/source.h"
#include "tickforge/label/split_internal.h"
#include "tickforge/store/manifest.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/util/io.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/version.h"

namespace tickforge::label {
namespace {

namespace fs = std::filesystem;
using internal::Key;
using internal::ReadJsonFile;
using internal::ScratchGuard;
using internal::WriteText;
using internal::MidColumn;
using internal::Part;
using internal::SymbolInfo;
using internal::Workspace;
using Clock = std::chrono::steady_clock;

// Old rows are copied one dataset row group at a time, so memory stays bounded by it.
constexpr int64_t kCopyRows = dataset::kRowGroupRows;

// A day's files (path and commit): equal lists mean the day's rows did not change.
std::vector<std::pair<std::string, int64_t>> Signature(const InputFile& input) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& part : input.parquet) out.emplace_back(part.path, part.version);
  return out;
}

// The days that differ between two listings of one selection, each side numbered from 0 in
// data order (the file index Split records).
struct Change {
  std::vector<InputFile> new_days;  // added or replaced, as the new snapshot has them
  std::vector<InputFile> old_days;  // replaced or removed, as the old snapshot had them
  std::vector<std::string> added, replaced, removed;
};

Change Compare(const std::vector<InputFile>& before, const std::vector<InputFile>& after) {
  Change change;
  std::map<std::string, const InputFile*> old_by_name, new_by_name;
  for (const auto& f : before) old_by_name[f.name] = &f;
  for (const auto& f : after) new_by_name[f.name] = &f;
  for (const auto& f : after) {
    const auto it = old_by_name.find(f.name);
    if (it == old_by_name.end()) {
      change.added.push_back(f.name);
      change.new_days.push_back(f);
    } else if (Signature(*it->second) != Signature(f)) {
      change.replaced.push_back(f.name);
      change.new_days.push_back(f);
      change.old_days.push_back(*it->second);
    }
  }
  for (const auto& f : before) {
    if (!new_by_name.count(f.name)) {
      change.removed.push_back(f.name);
      change.old_days.push_back(f);
    }
  }
  for (auto* days : {&change.new_days, &change.old_days}) {
    std::stable_sort(days->begin(), days->end(), [](const InputFile& a, const InputFile& b) { return a.index < b.index; });
    for (size_t i = 0; i < days->size(); ++i) (*days)[i].index = static_cast<int>(i);
  }
  return change;
}

// Return the entry of `dataset` whose file name is `name`, or null.
const store::FileEntry* FindFile(const store::DatasetEntry& dataset, const std::string& name) {
  for (const auto& file : dataset.files) {
    if (fs::path(file.path).filename().string() == name) return &file;
  }
  return nullptr;
}

// The raw int64 values of a timestamp or int64 column.
const int64_t* Int64Values(const arrow::Array& array) { return array.data()->GetValues<int64_t>(1); }

// Which rows count as fit rows, as the full build decides it: the row's input file is one of
// thresholds.json's fit files (global mode), or the row is among the symbol's first fit_rows.
class FitRows {
 public:
  FitRows(const nlohmann::ordered_json& thresholds, const std::vector<InputFile>& inputs, bool per_symbol)
      : per_symbol_(per_symbol), thresholds_(thresholds) {
    std::set<std::string> fit_names;
    for (const auto& f : thresholds.at("fit_files")) fit_names.insert(f.at("name").get<std::string>());
    for (const auto& input : inputs) {
      starts_.push_back(static_cast<int64_t>(input.start));
      fit_.push_back(fit_names.count(input.name) > 0);
    }
  }
  // Return the predicate for `symbol`'s rows: (row index, ts_recv) -> fit row.
  [[nodiscard]] int64_t FitRowsOf(const std::string& symbol) const {
    if (thresholds_.contains("fit_rows") && thresholds_["fit_rows"].contains(symbol)) {
      return thresholds_["fit_rows"][symbol].get<int64_t>();
    }
    return 0;
  }
  [[nodiscard]] bool InFit(int64_t fit_rows, int64_t t, int64_t ts_recv) const {
    if (per_symbol_) return t < fit_rows;
    // A store day's input covers [start, end] of its time column (ts_recv): the last day that
    // starts at or before the row is the row's.
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), ts_recv);
    if (it == starts_.begin()) return !fit_.empty() && fit_.front();
    return fit_[static_cast<size_t>(it - starts_.begin() - 1)];
  }

 private:
  bool per_symbol_;
  const nlohmann::ordered_json& thresholds_;
  std::vector<int64_t> starts_;
  std::vector<bool> fit_;
};

// Writes a symbol's new dataset file batch by batch and gathers its report entry.
class Writer {
 public:
  Writer(std::unique_ptr<ParquetFile> out, std::shared_ptr<arrow::Schema> schema, const FitRows& fit,
         const std::string& symbol, int nbins, const std::vector<MidColumn>& mid)
      : out_(std::move(out)), schema_(std::move(schema)), fit_(fit), fit_rows_(fit.FitRowsOf(symbol)), mid_(mid) {
    classes_fit_.assign(static_cast<size_t>(nbins), 0);
    classes_rest_.assign(static_cast<size_t>(nbins), 0);
    mid_fit_.assign(mid.size(), std::vector<int64_t>(3, 0));
    mid_rest_.assign(mid.size(), std::vector<int64_t>(3, 0));
  }

  // Append `batch` (the dataset's columns, in any order) as the next rows.
  Status Write(const arrow::RecordBatch& batch) {
    arrow::ArrayVector columns;
    for (const auto& field : schema_->fields()) {
      auto column = batch.GetColumnByName(field->name());
      if (!column || !column->type()->Equals(*field->type())) {
        return Status::Invalid("internal: column ", field->name(), " missing or of another type while splicing");
      }
      columns.push_back(std::move(column));
    }
    const auto out = arrow::RecordBatch::Make(schema_, batch.num_rows(), std::move(columns));
    Count(*out);
    return out_->Write(*out);
  }

  // Count `batch` (at least CountedColumns()) as the next rows, which the file holds already
  // (copied row groups).
  void Count(const arrow::RecordBatch& batch) {
    const int64_t n = batch.num_rows();
    const int64_t* ts_event = Int64Values(*batch.GetColumnByName(std::string(dataset::kTsEventColumn)));
    const int64_t* ts_recv = Int64Values(*batch.GetColumnByName("ts_recv"));
    const auto& label = static_cast<const arrow::UInt8Array&>(*batch.GetColumnByName(std::string(dataset::kLabelColumn)));
    std::vector<const arrow::UInt8Array*> mids;
    for (const auto& m : mid_) {
      mids.push_back(static_cast<const arrow::UInt8Array*>(batch.GetColumnByName(m.spec.Column()).get()));
    }
    for (int64_t i = 0; i < n; ++i) {
      first_ts_ = std::min(first_ts_, ts_event[i]);
      last_ts_ = std::max(last_ts_, ts_event[i]);
      const bool in_fit = fit_.InFit(fit_rows_, rows_ + i, ts_recv[i]);
      if (label.IsValid(i)) {
        ++labeled_;
        ++(in_fit ? classes_fit_ : classes_rest_)[label.Value(i)];
      }
      for (size_t c = 0; c < mids.size(); ++c) {
        if (mids[c]->IsValid(i)) ++(in_fit ? mid_fit_[c] : mid_rest_[c])[mids[c]->Value(i)];
      }
    }
    rows_ += n;
  }

  // The columns Count() reads.
  [[nodiscard]] std::vector<std::string> CountedColumns() const {
    std::vector<std::string> names{std::string(dataset::kTsEventColumn), "ts_recv", std::string(dataset::kLabelColumn)};
    for (const auto& m : mid_) names.push_back(m.spec.Column());
    return names;
  }

  // Finish the file; return the report entry a full build writes for the symbol.
  Result<nlohmann::ordered_json> Close(int64_t rows_in, const std::string& output) {
    ARROW_ASSIGN_OR_RAISE(const int64_t bytes, out_->Close());
    nlohmann::ordered_json entry = {{"rows_in", rows_in}, {"valid", rows_}};
    if (rows_ > 0) {
      entry["first_ts_event"] = first_ts_;
      entry["last_ts_event"] = last_ts_;
    }
    entry["labeled"] = labeled_;
    entry["classes_fit"] = classes_fit_;
    entry["classes_rest"] = classes_rest_;
    if (!mid_.empty()) {
      auto fit = nlohmann::ordered_json::object(), rest = nlohmann::ordered_json::object();
      for (size_t c = 0; c < mid_.size(); ++c) {
        fit[mid_[c].spec.Column()] = mid_fit_[c];
        rest[mid_[c].spec.Column()] = mid_rest_[c];
      }
      entry["midprice_classes_fit"] = fit;
      entry["midprice_classes_rest"] = rest;
    }
    entry["output"] = output;
    entry["output_bytes"] = bytes;
    return entry;
  }

  [[nodiscard]] int64_t rows() const { return rows_; }

 private:
  std::unique_ptr<ParquetFile> out_;
  std::shared_ptr<arrow::Schema> schema_;
  const FitRows& fit_;
  int64_t fit_rows_;
  const std::vector<MidColumn>& mid_;
  int64_t rows_ = 0, labeled_ = 0;
  int64_t first_ts_ = std::numeric_limits<int64_t>::max(), last_ts_ = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> classes_fit_, classes_rest_;
  std::vector<std::vector<int64_t>> mid_fit_, mid_rest_;
};

// Pass rows [begin, end) of the Parquet file `path` (open as `reader`) to `sink`, one row
// group at a time.
template <typename Sink>
Status ForRows(parquet::arrow::FileReader& reader, const std::string& path, int64_t begin, int64_t end,
               const std::vector<std::string>& columns, Sink&& sink) {
  for (int64_t from = begin; from < end;) {
    const int64_t to = std::min(end, (from / kCopyRows + 1) * kCopyRows);
    ARROW_ASSIGN_OR_RAISE(auto table, ReadRowRange(reader, path, from, to, columns));
    arrow::TableBatchReader batches(*table);
    std::shared_ptr<arrow::RecordBatch> batch;
    while (true) {
      ARROW_RETURN_NOT_OK(batches.ReadNext(&batch));
      if (!batch) break;
      ARROW_RETURN_NOT_OK(sink(*batch));
    }
    from = to;
  }
  return Status::OK();
}

// Where a symbol's changed rows sit in its old file: rows [a, a + removed) are the old
// changed rows, and no other old row has a key inside the changed rows' key range. Row groups
// whose ts_event statistics lie wholly outside the range are counted without being read.
Result<std::optional<int64_t>> Locate(parquet::arrow::FileReader& reader, const std::string& path, int64_t rows,
                                      Key lo, Key hi, int64_t removed) {
  const auto metadata = reader.parquet_reader()->metadata();
  const int ts_column = metadata->schema()->ColumnIndex(std::string(dataset::kTsEventColumn));
  int64_t below = 0, inside = 0, start = 0;
  Key previous{std::numeric_limits<int64_t>::min(), 0};
  bool sorted = true;
  for (int g = 0; g < metadata->num_row_groups() && start < rows; ++g) {
    const int64_t n = metadata->RowGroup(g)->num_rows();
    std::shared_ptr<parquet::Statistics> stats;
    if (ts_column >= 0) stats = metadata->RowGroup(g)->ColumnChunk(ts_column)->statistics();
    const auto typed = std::dynamic_pointer_cast<parquet::Int64Statistics>(stats);
    if (typed && typed->HasMinMax() && (typed->max() < lo.ts_event || typed->min() > hi.ts_event)) {
      below += typed->max() < lo.ts_event ? n : 0;
      start += n;
      continue;
    }
    ARROW_RETURN_NOT_OK(ForRows(reader, path, start, std::min(rows, start + n),
                                {std::string(dataset::kTsEventColumn), std::string(dataset::kSequenceColumn)},
                                [&](const arrow::RecordBatch& batch) -> Status {
                                  const int64_t* ts = Int64Values(*batch.column(0));
                                  const auto& seq = static_cast<const arrow::UInt32Array&>(*batch.column(1));
                                  for (int64_t i = 0; i < batch.num_rows(); ++i) {
                                    const Key key{ts[i], seq.Value(i)};
                                    sorted = sorted && previous <= key;
                                    previous = key;
                                    below += key < lo;
                                    inside += lo <= key && key <= hi;
                                  }
                                  return Status::OK();
                                }));
    start += n;
  }
  if (!sorted || inside != removed) return std::optional<int64_t>();
  return std::optional<int64_t>(below);
}

// Write rows [begin, end) of the old file (all base columns) as a scratch series part.
Result<Part> OldRowsPart(parquet::arrow::FileReader& reader, const std::string& path, int64_t begin, int64_t end,
                         const std::shared_ptr<arrow::Schema>& base, const fs::path& part_path, int file) {
  ARROW_ASSIGN_OR_RAISE(auto stream, arrow::io::FileOutputStream::Open(part_path.string()));
  ARROW_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeFileWriter(stream, base));
  Part part{file, part_path, end - begin, {}, {}};
  bool first = true;
  ARROW_RETURN_NOT_OK(ForRows(reader, path, begin, end, base->field_names(), [&](const arrow::RecordBatch& batch) -> Status {
    arrow::ArrayVector columns;
    for (const auto& field : base->fields()) columns.push_back(batch.GetColumnByName(field->name()));
    const auto rows = arrow::RecordBatch::Make(base, batch.num_rows(), std::move(columns));
    const int64_t* ts = Int64Values(*rows->GetColumnByName(std::string(dataset::kTsEventColumn)));
    const auto& seq = static_cast<const arrow::UInt32Array&>(*rows->GetColumnByName(std::string(dataset::kSequenceColumn)));
    if (rows->num_rows() > 0) {
      if (first) part.first = Key{ts[0], seq.Value(0)};
      first = false;
      part.last = Key{ts[rows->num_rows() - 1], seq.Value(rows->num_rows() - 1)};
    }
    return writer->WriteRecordBatch(*rows);
  }));
  ARROW_RETURN_NOT_OK(writer->Close());
  ARROW_RETURN_NOT_OK(stream->Close());
  return part;
}

// Rows a label reads around its own: `behind` before it, `ahead` after it (each one more than
// the widest window, so the row whose window ends just outside is recomputed too).
struct Reach {
  int64_t behind = 0;
  int64_t ahead = 0;
  int64_t downsample = 1;
};

Reach ReachOf(const LabelConfig& config) {
  Reach reach{config.lookback_rows + 1, config.lookforward_offset + config.lookforward_input + 1, 1};
  for (const auto& spec : config.MidLabels()) {
    reach.downsample = spec.downsample;
    reach.behind = std::max(reach.behind, spec.RowsBehind() + spec.downsample + 1);
    reach.ahead = std::max(reach.ahead, spec.RowsAhead() + spec.downsample + 1);
  }
  return reach;
}

// What one symbol's splice copied and computed.
struct Spliced {
  nlohmann::ordered_json entry;
  int64_t copied = 0;
  int64_t computed = 0;
  int64_t copied_as_bytes = 0;  // of `copied`: in whole row groups, neither decoded nor encoded
};

// Everything the per-symbol splice reads.
struct SpliceInputs {
  const std::string& symbol;
  const std::string& old_path;
  const SymbolInfo* added;    // the symbol in the changed days of the new snapshot (or null)
  const SymbolInfo* removed;  // ... of the old snapshot (or null)
  int64_t rows_in = 0;        // of the new snapshot
  const LabelConfig& config;
  const nlohmann::ordered_json& thresholds;
  const std::shared_ptr<arrow::Schema>& base;
  const FitRows& fit;
  fs::path scratch;
  fs::path output;
};

// Splice one symbol: nullopt when its changed rows cannot be spliced (the caller rebuilds).
Result<std::optional<Spliced>> SpliceSymbol(const SpliceInputs& in) {
  // Decoding the copied rows is most of an update's work: spread it over the CPU pool.
  ParquetReadOptions read_options;
  read_options.use_threads = true;
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(in.old_path, read_options));
  const int64_t old_rows = reader->parquet_reader()->metadata()->num_rows();
  const int64_t nb = in.removed ? in.removed->valid : 0;
  const int64_t nn = in.added ? in.added->valid : 0;
  // The key range of the changed rows, old and new.
  std::optional<Key> lo, hi;
  for (const auto* info : {in.added, in.removed}) {
    if (!info) continue;
    for (const auto& part : info->parts) {
      if (part.rows == 0) continue;
      lo = lo ? std::min(*lo, part.first) : part.first;
      hi = hi ? std::max(*hi, part.last) : part.last;
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto boundaries, internal::BoundariesFrom(in.thresholds, in.symbol));
  ARROW_ASSIGN_OR_RAISE(auto mid, internal::MidColumnsFrom(in.thresholds, in.config, in.symbol));
  std::shared_ptr<arrow::Schema> old_schema;
  ARROW_RETURN_NOT_OK(WithPath(reader->GetSchema(&old_schema), in.old_path));

  // Rows [a, a + nb) of the old file give way to the nn new rows.
  int64_t a = old_rows;
  if (lo) {
    ARROW_ASSIGN_OR_RAISE(auto at, Locate(*reader, in.old_path, old_rows, *lo, *hi, nb));
    if (!at) return std::optional<Spliced>();
    a = *at;
  }
  const int64_t n = old_rows - nb + nn;
  const Reach reach = ReachOf(in.config);
  const int64_t rs = std::max<int64_t>(0, a - reach.ahead);
  // Downsampled mid-price labels are every n-th row from the first: a count that changes
  // moves every later label.
  const int64_t re = (reach.downsample > 1 && nb != nn) ? n : std::min(n, a + nn + reach.behind);
  int64_t ctx_start = std::max<int64_t>(0, rs - reach.behind);
  ctx_start -= ctx_start % reach.downsample;
  const int64_t ctx_end = std::min(n, re + reach.ahead);

  // The context series: old rows before the change, the new rows, old rows after it.
  SymbolInfo ctx;
  ctx.symbol = in.symbol;
  const int kAfter = std::numeric_limits<int>::max() - 1;
  if (ctx_start < a) {
    ARROW_ASSIGN_OR_RAISE(auto part, OldRowsPart(*reader, in.old_path, ctx_start, a, in.base, in.scratch / "before.arrow", 0));
    ctx.parts.push_back(part);
  }
  if (in.added) {
    for (auto part : in.added->parts) {
      part.file += 1;
      ctx.parts.push_back(part);
    }
  }
  if (ctx_end > a + nn) {
    ARROW_ASSIGN_OR_RAISE(auto part, OldRowsPart(*reader, in.old_path, a + nb, ctx_end - nn + nb, in.base,
                                                 in.scratch / "after.arrow", kAfter));
    ctx.parts.push_back(part);
  }
  for (const auto& part : ctx.parts) ctx.valid += part.rows;
  const fs::path ctx_path = in.scratch / "context.parquet";
  // The counts BuildSymbol keeps cover the context rows too; the writer below counts the file's.
  ARROW_RETURN_NOT_OK(internal::BuildSymbol(ctx, boundaries, in.config, [](int32_t, int64_t) { return false; },
                                            in.base, ctx_path, mid)
                          .status());
  ARROW_ASSIGN_OR_RAISE(auto ctx_reader, OpenParquet(ctx_path.string()));
  std::shared_ptr<arrow::Schema> schema;
  ARROW_RETURN_NOT_OK(WithPath(ctx_reader->GetSchema(&schema), ctx_path.string()));
  // A file an older build wrote with other columns or metadata is built again whole.
  if (!schema->Equals(*old_schema, /*check_metadata=*/true)) return std::optional<Spliced>();

  // The old file's whole row groups before the first recomputed row are copied as bytes (no
  // decode, no encode): an appended day costs its own rows, not the dataset's. Only the
  // columns the report counts are read from them.
  const auto metadata = reader->parquet_reader()->metadata();
  ParquetCopiedRowGroups copied{in.old_path, metadata, 0};
  int64_t copied_rows = 0;
  while (copied.count < metadata->num_row_groups() &&
         copied_rows + metadata->RowGroup(copied.count)->num_rows() <= rs) {
    copied_rows += metadata->RowGroup(copied.count++)->num_rows();
  }
  ARROW_ASSIGN_OR_RAISE(auto file, dataset::CreateFile(in.output, schema, copied));
  Writer writer(std::move(file), schema, in.fit, in.symbol, in.config.nbins, mid);
  const auto names = schema->field_names();
  const auto write = [&](const arrow::RecordBatch& batch) { return writer.Write(batch); };
  ARROW_RETURN_NOT_OK(ForRows(*reader, in.old_path, 0, copied_rows, writer.CountedColumns(),
                              [&](const arrow::RecordBatch& batch) {
                                writer.Count(batch);
                                return Status::OK();
                              }));
  ARROW_RETURN_NOT_OK(ForRows(*reader, in.old_path, copied_rows, rs, names, write));
  ARROW_RETURN_NOT_OK(ForRows(*ctx_reader, ctx_path.string(), rs - ctx_start, re - ctx_start, names, write));
  ARROW_RETURN_NOT_OK(ForRows(*reader, in.old_path, re - nn + nb, old_rows, names, write));
  if (writer.rows() != n) return Status::Invalid("internal: spliced ", writer.rows(), " rows of ", in.symbol, ", expected ", n);
  Spliced out;
  ARROW_ASSIGN_OR_RAISE(out.entry, writer.Close(in.rows_in, in.output.filename().string()));
  out.computed = re - rs;
  out.copied = n - out.computed;
  out.copied_as_bytes = copied_rows;
  std::error_code ec;
  for (const char* name : {"before.arrow", "after.arrow", "context.parquet"}) fs::remove(in.scratch / name, ec);
  return std::optional<Spliced>(std::move(out));
}

// The report entry of a symbol below min_symbol_samples, as a full build writes it.
nlohmann::ordered_json SkippedEntry(int64_t rows_in, int64_t valid, int64_t first_ts, int64_t last_ts,
                                    const std::string& why) {
  nlohmann::ordered_json entry = {{"rows_in", rows_in}, {"valid", valid}};
  if (valid > 0) {
    entry["first_ts_event"] = first_ts;
    entry["last_ts_event"] = last_ts;
  }
  entry["skipped"] = why;
  return entry;
}

std::string SkipReason(int64_t valid, const LabelConfig& config) {
  return fmt::format("{} valid rows, fewer than min_symbol_samples {}", valid, config.min_symbol_samples);
}

// Everything the update knows before it writes.
struct State {
  std::string root, name, dataset;
  store::StorePaths paths{fs::path()};
  int64_t labeled_version = 0;
  store::DatasetEntry entry;
  nlohmann::ordered_json lineage, thresholds, old_report;
  LabelConfig given;   // the config the lineage recorded
  LabelConfig config;  // ... with thresholds.json's keys
  StoreInputs before, after;
};

// Label the whole new snapshot again with the recorded thresholds, in one commit.
Result<UpdateResult> Rebuild(const State& state, UpdateResult result, const std::string& reason,
                             const BuildOptions& build_options) {
  result.method = "rebuild";
  result.reason = reason;
  nlohmann::ordered_json extra = {{"previous_version", state.labeled_version},
                                  {"update",
                                   {{"method", result.method},
                                    {"reason", reason},
                                    {"previous_source_version", result.previous_source_version},
                                    {"added", result.added},
                                    {"replaced", result.replaced},
                                    {"removed", result.removed}}}};
  ARROW_ASSIGN_OR_RAISE(auto committed, LabelIntoStore(state.after.files, &state.thresholds, state.given,
                                                       {state.root, state.name}, state.after.lineage, build_options,
                                                       extra));
  result.version = committed.version;
  result.lineage = std::move(committed.lineage);
  result.report = std::move(committed.report);
  return result;
}

Result<State> Load(const std::string& root, const std::string& name) {
  State state;
  state.root = root;
  state.name = name;
  ARROW_ASSIGN_OR_RAISE(state.dataset, LabeledDatasetName(name));
  state.paths = store::StorePaths(fs::absolute(root));
  std::error_code ec;
  if (!fs::is_directory(state.paths.meta, ec)) return Status::IOError(root, ": not a tickforge store (no _tickforge folder)");
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store::ReadSnapshot(state.paths, std::nullopt));
  auto found = snapshot.Find(state.dataset);
  if (!found.ok()) return WithPath(found.status(), root);
  state.entry = **found;
  ARROW_ASSIGN_OR_RAISE(state.lineage, ReadLineage(root, state.dataset));
  state.labeled_version = state.lineage.at("version").get<int64_t>();
  const auto& source = state.lineage.at("source");
  if (!source.contains("store")) {
    return Status::Invalid(root, ": ", state.dataset, " was labeled from raw files, not a store snapshot; label update ",
                           "extends datasets built with --store (label build them again instead)");
  }
  for (const char* file_name : {"thresholds.json", "build_report.json"}) {
    const store::FileEntry* file = FindFile(state.entry, file_name);
    if (!file) return Status::Invalid(root, ": ", state.dataset, " lists no ", file_name);
    ARROW_ASSIGN_OR_RAISE(auto doc, ReadJsonFile(store::ResolveFile(state.paths, *file)));
    (std::string(file_name) == "thresholds.json" ? state.thresholds : state.old_report) = std::move(doc);
  }
  // The recorded config holds every key; none of them was set against the thresholds.
  ARROW_RETURN_NOT_OK(ApplyJson(state.lineage.at("config"), &state.given, "lineage config"));
  state.given.explicit_keys.clear();
  state.given.keep_intermediate = false;
  ARROW_ASSIGN_OR_RAISE(state.config, internal::ConfigForThresholds(state.thresholds, state.given));
  ARROW_RETURN_NOT_OK(state.config.Validate());

  StoreSelection selection;
  selection.root = source.at("store").get<std::string>();
  selection.dataset = source.at("dataset").get<std::string>();
  selection.symbols = source.value("selected_symbols", std::vector<std::string>{});
  selection.start = source.value("start", std::string());
  selection.end = source.value("end", std::string());
  ARROW_ASSIGN_OR_RAISE(state.after, ListStoreInputs(selection));
  selection.version = source.at("version").get<int64_t>();
  ARROW_ASSIGN_OR_RAISE(state.before, ListStoreInputs(selection));
  return state;
}

// Commit the update: untouched symbols keep their files, the rewritten ones and the JSON files
// in `outputs` are staged under labeled/<name>/v<version>/; return the version.
Result<int64_t> CommitUpdate(const State& state, const fs::path& outputs, const nlohmann::ordered_json& symbols,
                             const std::set<std::string>& rewritten, const nlohmann::ordered_json& lineage) {
  ARROW_ASSIGN_OR_RAISE(auto txn, store::Transaction::Begin(state.paths, "label update"));
  const auto base = txn->base().Find(state.dataset);
  int64_t wrote = 0;
  if (base.ok()) {
    for (const auto& file : (*base)->files) wrote = std::max(wrote, file.version);
  }
  if (!base.ok() || wrote != state.labeled_version) {
    return Status::Invalid(state.root, ": ", state.dataset, " changed while it was being updated (version ", wrote,
                           " now, ", state.labeled_version, " before); run label update again");
  }
  const int64_t version = txn->version();
  const std::string folder = fmt::format("{}/v{:06d}", state.dataset, version);
  store::DatasetEntry entry = **base;
  entry.files.clear();
  std::set<std::string> replaced_names = {"thresholds.json", "build_report.json"};
  for (const auto& symbol : rewritten) replaced_names.insert(symbols.at(symbol).at("output").get<std::string>());
  for (const auto& file : (*base)->files) {
    const std::string file_name = fs::path(file.path).filename().string();
    if (replaced_names.count(file_name)) continue;
    // A symbol the update dropped from the report keeps no file.
    if (const auto symbol = dataset::SymbolOfFileName(file_name); symbol && !(symbols.contains(*symbol) &&
                                                                             symbols.at(*symbol).contains("output"))) {
      continue;
    }
    entry.files.push_back(file);
  }
  ARROW_RETURN_NOT_OK(store::EnsureDirectory(txn->staging()));
  const auto stage = [&](const std::string& file_name, int64_t rows, int64_t min_time, int64_t max_time) -> Status {
    store::FileEntry file;
    file.path = folder + "/" + file_name;
    file.rows = rows;
    std::error_code ec;
    file.bytes = static_cast<int64_t>(fs::file_size(outputs / file_name, ec));
    if (ec) return Status::IOError((outputs / file_name).string(), ": ", ec.message());
    file.min_time = min_time;
    file.max_time = max_time;
    file.version = version;
    const fs::path from = outputs / file_name;
    if (::rename(from.c_str(), state.paths.Staged(file).c_str()) != 0) {
      return Status::IOError("cannot move ", from.string(), " to ", state.paths.Staged(file).string(), ": ",
                             std::strerror(errno));
    }
    entry.files.push_back(std::move(file));
    return Status::OK();
  };
  for (const auto& symbol : rewritten) {
    const auto& e = symbols.at(symbol);
    ARROW_RETURN_NOT_OK(stage(e.at("output").get<std::string>(), e.at("valid").get<int64_t>(),
                              e.value("first_ts_event", int64_t{0}), e.value("last_ts_event", int64_t{0})));
  }
  ARROW_RETURN_NOT_OK(stage("thresholds.json", 0, 0, 0));
  ARROW_RETURN_NOT_OK(stage("build_report.json", 0, 0, 0));
  txn->next().datasets[state.dataset] = std::move(entry);
  txn->next().details["lineage"] = lineage.dump();
  ARROW_RETURN_NOT_OK(txn->Commit());
  return version;
}

}  // namespace

Result<UpdateResult> UpdateLabeled(const std::string& root, const std::string& name, const UpdateOptions& options) {
  BuildOptions build_options;
  build_options.progress = options.progress;
  const auto start = Clock::now();
  ARROW_ASSIGN_OR_RAISE(auto state, Load(root, name));
  UpdateResult result;
  result.dataset = state.dataset;
  result.previous_version = state.labeled_version;
  result.previous_source_version = state.before.version;
  result.source_version = state.after.version;
  Change change = Compare(state.before.files, state.after.files);
  result.added = change.added;
  result.replaced = change.replaced;
  result.removed = change.removed;
  if (options.rebuild) return Rebuild(state, std::move(result), "asked for", build_options);
  if (change.new_days.empty() && change.old_days.empty()) {
    result.up_to_date = true;
    result.method = "none";
    result.version = result.previous_version;
    return result;
  }
  if (change.new_days.empty()) return Rebuild(state, std::move(result), "days were removed and none added", build_options);

  ScratchGuard scratch{ScratchDirNear(state.paths.root)};
  // The changed days only: the new ones with every column, the old ones for their counts and keys.
  ARROW_ASSIGN_OR_RAISE(auto added, internal::Split(change.new_days, state.config, scratch.dir / "new", build_options));
  std::unique_ptr<Workspace> removed;
  if (!change.old_days.empty()) {
    ARROW_ASSIGN_OR_RAISE(removed, internal::Split(change.old_days, state.config, scratch.dir / "old", build_options,
                                                   internal::LabelColumns()));
  }
  const FitRows fit(state.thresholds, state.after.files, state.config.mode == Mode::kPerSymbol);
  const auto& old_symbols = state.old_report.at("symbols");
  std::set<std::string> names;
  for (const auto& [symbol, entry] : old_symbols.items()) names.insert(symbol);
  for (const auto& [symbol, info] : added->symbols) names.insert(symbol);
  if (removed) {
    for (const auto& [symbol, info] : removed->symbols) names.insert(symbol);
  }

  // Per symbol: kept as it is, spliced into a new file, or reported skipped.
  std::map<std::string, nlohmann::ordered_json> entries;
  std::set<std::string> rewritten;
  auto update_symbols = nlohmann::ordered_json::object();
  const fs::path outputs = scratch.dir / "out";
  fs::create_directories(outputs);
  for (const auto& symbol : names) {
    const auto find = [&](const Workspace* ws) -> const SymbolInfo* {
      if (!ws) return nullptr;
      const auto it = ws->symbols.find(symbol);
      return it == ws->symbols.end() ? nullptr : &it->second;
    };
    const SymbolInfo* add = find(added.get());
    const SymbolInfo* drop = find(removed.get());
    const nlohmann::ordered_json old = old_symbols.contains(symbol) ? old_symbols.at(symbol) : nlohmann::ordered_json::object();
    if (!add && !drop) {
      entries[symbol] = old;
      continue;
    }
    const int64_t rows_in = old.value("rows_in", int64_t{0}) - (drop ? drop->rows_in : 0) + (add ? add->rows_in : 0);
    const int64_t valid = old.value("valid", int64_t{0}) - (drop ? drop->valid : 0) + (add ? add->valid : 0);
    if (!old.contains("output")) {
      // A symbol without a dataset stays without one while a full build would skip it too;
      // only its time range needs its old rows, known here when nothing was taken away.
      if (drop) return Rebuild(state, std::move(result), fmt::format("{} has no dataset and lost rows", symbol), build_options);
      std::string why;
      auto mid = internal::MidColumnsFrom(state.thresholds, state.config, symbol);
      if (valid < state.config.min_symbol_samples) {
        why = SkipReason(valid, state.config);
      } else if (!internal::BoundariesFrom(state.thresholds, symbol).ok()) {
        why = "no thresholds were fitted for this symbol";
      } else if (!mid.ok() && mid.status().IsKeyError()) {
        why = "no mid-price α was fitted for this symbol";
      } else {
        return Rebuild(state, std::move(result), fmt::format("{} now has {} valid rows, enough for a dataset", symbol, valid), build_options);
      }
      const int64_t first = std::min(old.value("first_ts_event", std::numeric_limits<int64_t>::max()), add->first_ts);
      const int64_t last = std::max(old.value("last_ts_event", std::numeric_limits<int64_t>::min()), add->last_ts);
      entries[symbol] = SkippedEntry(rows_in, valid, first, last, why);
      continue;
    }
    if (valid < state.config.min_symbol_samples) {
      return Rebuild(state, std::move(result), fmt::format("{} fell below min_symbol_samples", symbol), build_options);
    }
    const store::FileEntry* old_file = FindFile(state.entry, old.at("output").get<std::string>());
    if (!old_file) return Rebuild(state, std::move(result), fmt::format("the snapshot lists no dataset file of {}", symbol), build_options);
    const fs::path symbol_scratch = scratch.dir / fmt::format("s{:05d}", rewritten.size());
    fs::create_directories(symbol_scratch);
    const std::string old_path = store::ResolveFile(state.paths, *old_file).string();
    ARROW_ASSIGN_OR_RAISE(auto spliced,
                          SpliceSymbol({symbol, old_path, add, drop, rows_in, state.config, state.thresholds,
                                        added->schema, fit, symbol_scratch, outputs / old.at("output").get<std::string>()}));
    if (!spliced) {
      return Rebuild(state, std::move(result), fmt::format("rows of {} from other days interleave with the changed ones", symbol), build_options);
    }
    entries[symbol] = spliced->entry;
    update_symbols[symbol] = {{"copied", spliced->copied},
                              {"computed", spliced->computed},
                              {"copied_as_bytes", spliced->copied_as_bytes}};
    rewritten.insert(symbol);
  }

  // The report a full build writes, with what the update did beside it.
  nlohmann::ordered_json report;
  auto symbols = nlohmann::ordered_json::object();
  int64_t rows_in = 0, valid = 0, labeled = 0, datasets = 0;
  for (const auto& [symbol, entry] : entries) {
    symbols[symbol] = entry;
    rows_in += entry.value("rows_in", int64_t{0});
    valid += entry.value("valid", int64_t{0});
    labeled += entry.value("labeled", int64_t{0});
    datasets += entry.contains("output") ? 1 : 0;
  }
  std::set<std::string> fit_names;
  for (const auto& f : state.thresholds.at("fit_files")) fit_names.insert(f.at("name").get<std::string>());
  report["mode"] = std::string(ModeName(state.config.mode));
  report["nbins"] = state.config.nbins;
  report["files"] = nlohmann::ordered_json::array();
  for (const auto& f : state.after.files) {
    report["files"].push_back({{"name", f.name}, {"start", f.start}, {"fit", fit_names.count(f.name) > 0}});
  }
  report["bad_files"] = nlohmann::ordered_json::array();
  report["fit_files"] = std::vector<std::string>(fit_names.begin(), fit_names.end());
  report["symbols"] = symbols;
  report["totals"] = {{"rows_in", rows_in}, {"valid", valid}, {"labeled", labeled}, {"datasets", datasets}};
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t rows_read = 0;
  for (const auto& [symbol, info] : added->symbols) rows_read += info.rows_in;
  report["seconds"] = seconds;
  report["rows_per_second"] = seconds > 0 ? static_cast<double>(rows_read) / seconds : 0.0;
  report["config"] = state.config.ToJson();
  report["update"] = {{"previous_version", state.labeled_version},
                      {"previous_source_version", state.before.version},
                      {"source_version", state.after.version},
                      {"added", change.added},
                      {"replaced", change.replaced},
                      {"removed", change.removed},
                      {"symbols", update_symbols}};
  ARROW_RETURN_NOT_OK(WriteText(outputs / "thresholds.json", state.thresholds.dump(2) + "\n"));
  ARROW_RETURN_NOT_OK(WriteText(outputs / "build_report.json", report.dump(2) + "\n"));

  result.method = "incremental";
  result.lineage = {{"source", state.after.lineage},
                    {"config", state.lineage.at("config")},
                    {"config_sha256", state.lineage.at("config_sha256")},
                    {"thresholds_sha256", state.lineage.at("thresholds_sha256")},
                    {"tickforge_version", std::string(kVersion)},
                    {"created_at", store::UtcNow()},
                    {"previous_version", state.labeled_version},
                    {"update",
                     {{"method", result.method},
                      {"previous_source_version", state.before.version},
                      {"added", change.added},
                      {"replaced", change.replaced},
                      {"removed", change.removed}}}};

  ARROW_ASSIGN_OR_RAISE(result.version, CommitUpdate(state, outputs, symbols, rewritten, result.lineage));
  result.report = std::move(report);
  return result;
}

nlohmann::ordered_json UpdateJson(const UpdateResult& result) {
  return {{"up_to_date", result.up_to_date},
          {"method", result.method},
          {"reason", result.reason},
          {"dataset", result.dataset},
          {"version", result.version},
          {"previous_version", result.previous_version},
          {"source_version", result.source_version},
          {"previous_source_version", result.previous_source_version},
          {"added", result.added},
          {"replaced", result.replaced},
          {"removed", result.removed},
          {"lineage", result.lineage},
          {"report", result.report}};
}

std::string SummarizeUpdate(const UpdateResult& result) {
  const auto days = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
    return out;
  };
  if (result.up_to_date) {
    return fmt::format("{} is up to date: version {} labels source version {} and nothing in its selection changed "
                       "since (source version {})\n",
                       result.dataset, result.previous_version, result.previous_source_version, result.source_version);
  }
  std::string out = fmt::format("{}: version {} -> {}, source version {} -> {} ({})\n", result.dataset,
                                result.previous_version, result.version, result.previous_source_version,
                                result.source_version,
                                result.method == "rebuild" ? "every row labeled again: " + result.reason
                                                           : std::string("incremental"));
  if (!result.added.empty()) out += fmt::format("  days added: {}\n", days(result.added));
  if (!result.replaced.empty()) out += fmt::format("  days replaced: {}\n", days(result.replaced));
  if (!result.removed.empty()) out += fmt::format("  days removed: {}\n", days(result.removed));
  if (result.report.contains("update")) {
    for (const auto& [symbol, counts] : result.report.at("update").at("symbols").items()) {
      out += fmt::format("  {:<10} {:>10} rows copied, {:>8} computed\n", symbol, counts.at("copied").get<int64_t>(),
                         counts.at("computed").get<int64_t>());
    }
  }
  return out;
}

}  // namespace tickforge::label
