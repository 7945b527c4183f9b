// Label's first pass: each input's valid rows, read in batches, split by symbol into sorted
// runs (scratch parts) that the series reader merges back into series order (Split).
#include "tickforge/label/split_internal.h"

#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/api.h>
#include <arrow/util/compression.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/label/series_internal.h"
#include "tickforge/label/source.h"
#include "tickforge/util/files.h"

namespace tickforge::label {
namespace internal {
namespace {

// Scratch parts are Arrow IPC files with LZ4 bodies: written and read near memory speed, where
// Parquet's encodings cost more than the whole labeling arithmetic.
constexpr int64_t kInputBatchRows = 1 << 16;
// A symbol's rows of one file that arrive out of key order start more sorted parts (runs);
// past this many, the runs are merged into one, so open files and merge memory stay bounded.
constexpr size_t kMaxRuns = 16;

// One sorted run of a symbol's rows of one file, written as it grows.
struct Run {
  std::filesystem::path path;
  std::shared_ptr<arrow::io::FileOutputStream> file;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer;
  int64_t rows = 0;
  Key first{};
  Key last{};
};

Status OpenRun(Run& run, const std::shared_ptr<arrow::Schema>& schema) {
  ARROW_ASSIGN_OR_RAISE(run.file, arrow::io::FileOutputStream::Open(run.path.string()));
  auto options = arrow::ipc::IpcWriteOptions::Defaults();
  ARROW_ASSIGN_OR_RAISE(options.codec, arrow::util::Codec::Create(arrow::Compression::LZ4_FRAME));
  ARROW_ASSIGN_OR_RAISE(run.writer, arrow::ipc::MakeFileWriter(run.file, schema, options));
  return Status::OK();
}

Status CloseRun(Run& run) {
  if (!run.writer) return Status::OK();
  ARROW_RETURN_NOT_OK(run.writer->Close());
  run.writer.reset();
  ARROW_RETURN_NOT_OK(run.file->Close());
  run.file.reset();
  return Status::OK();
}

// The runs of one symbol in the file being split.
struct SymbolRuns {
  std::vector<Run> runs;
  int next_id = 0;
};

// Splits one input file batch by batch; scratch files it made go when it fails.
class FileSplitter {
 public:
  FileSplitter(const InputFile& input, const LabelConfig& config, Workspace& ws,
               std::map<std::string, int>& symbol_ids, ProgressReporter* progress = nullptr)
      : input_(input), config_(config), ws_(ws), symbol_ids_(symbol_ids), progress_(progress) {}

  ~FileSplitter() {
    if (done_) return;
    std::error_code ec;
    for (auto& [sym, state] : runs_) {
      for (auto& run : state.runs) {
        (void)CloseRun(run);
      }
    }
    for (const auto& path : made_) std::filesystem::remove(path, ec);
  }

  Status Split(const std::vector<std::string>& columns) {
    ARROW_ASSIGN_OR_RAISE(auto reader, OpenInput(input_, columns, kInputBatchRows));
    if (!ws_.schema) ws_.schema = reader->schema();
    if (!ws_.schema->Equals(*reader->schema())) {
      return Status::Invalid(input_.path, ": its columns differ from the first input's");
    }
    ARROW_ASSIGN_OR_RAISE(part_schema_, ws_.schema->AddField(ws_.schema->num_fields(), arrow::field(kRowColumn, arrow::int64())));
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(WithPath(reader->ReadNext(&batch), input_.path));
      if (!batch) break;
      ARROW_RETURN_NOT_OK(AddBatch(batch));
      row_base_ += batch->num_rows();
      if (progress_) ARROW_RETURN_NOT_OK(progress_->Add(batch->num_rows()));
    }
    return Finish();
  }

 private:
  Status AddBatch(const std::shared_ptr<arrow::RecordBatch>& shared) {
    const arrow::RecordBatch& batch = *shared;
    const auto& bid = Column<arrow::Int64Array>(batch, kBestBid);
    const auto& ask = Column<arrow::Int64Array>(batch, kBestAsk);
    const auto& ts = Column<arrow::TimestampArray>(batch, "ts_event");
    const auto& sequence = Column<arrow::UInt32Array>(batch, "sequence");
    const auto& symbol = Column<arrow::StringArray>(batch, "symbol");
    const auto& instrument = Column<arrow::UInt32Array>(batch, "instrument_id");
    std::map<int, std::vector<int64_t>> valid_rows;  // by symbol id, in file order
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      // Instruments the metadata does not map are grouped under their id.
      const uint32_t id = instrument.Value(i);
      const std::string_view view = symbol.IsNull(i) ? std::string_view() : symbol.GetView(i);
      auto cached = by_instrument_.find(id);
      if (cached == by_instrument_.end() || cached->second.first != view) {
        std::string name = symbol.IsNull(i) ? std::to_string(id) : std::string(view);
        auto [it, inserted] = symbol_ids_.try_emplace(name, static_cast<int>(symbol_ids_.size()));
        if (inserted) ws_.symbols[name].symbol = name;
        if (static_cast<size_t>(it->second) >= names_.size()) names_.resize(static_cast<size_t>(it->second) + 1);
        names_[static_cast<size_t>(it->second)] = name;
        cached = by_instrument_.insert_or_assign(id, std::make_pair(std::string(view), it->second)).first;
      }
      const int sym = cached->second.second;
      if (static_cast<size_t>(sym) >= rows_in_.size()) rows_in_.resize(static_cast<size_t>(sym) + 1, 0);
      ++rows_in_[static_cast<size_t>(sym)];
      if (IsValidRow(bid.Value(i), ask.Value(i), config_)) valid_rows[sym].push_back(i);
    }
    for (auto& [sym, rows] : valid_rows) {
      SymbolRuns& state = runs_[sym];
      // Each row joins the first run it extends in order (equal keys too, keeping file order).
      std::vector<std::vector<int64_t>> by_run(state.runs.size());
      for (int64_t i : rows) {
        const Key key{ts.Value(i), sequence.Value(i)};
        size_t r = 0;
        while (r < state.runs.size() && key < state.runs[r].last) ++r;
        if (r == state.runs.size()) {
          Run run;
          run.path = ws_.dir / fmt::format("f{:05d}-s{:05d}-r{:03d}.arrow", input_.index, sym, state.next_id++);
          run.first = key;
          state.runs.push_back(std::move(run));
          by_run.emplace_back();
        }
        state.runs[r].last = key;
        by_run[r].push_back(i);
      }
      for (size_t r = 0; r < by_run.size(); ++r) {
        if (by_run[r].empty()) continue;
        ARROW_RETURN_NOT_OK(Append(state.runs[r], shared, by_run[r]));
      }
      if (state.runs.size() > kMaxRuns) ARROW_RETURN_NOT_OK(Collapse(sym, state));
    }
    return Status::OK();
  }

  // Append rows `indices` of `batch`, with their positions in the input, to `run`.
  Status Append(Run& run, const std::shared_ptr<arrow::RecordBatch>& batch, const std::vector<int64_t>& indices) {
    if (!run.writer) {
      made_.push_back(run.path);
      ARROW_RETURN_NOT_OK(OpenRun(run, part_schema_));
    }
    const auto n = static_cast<int64_t>(indices.size());
    std::vector<int64_t> positions(indices.size());
    for (size_t k = 0; k < indices.size(); ++k) positions[k] = row_base_ + indices[k];
    const auto index_array = std::make_shared<arrow::Int64Array>(n, arrow::Buffer::FromVector(indices));
    ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch, index_array));
    auto rows = taken.record_batch();
    auto columns = rows->columns();
    columns.push_back(std::make_shared<arrow::Int64Array>(n, arrow::Buffer::FromVector(std::move(positions))));
    ARROW_RETURN_NOT_OK(run.writer->WriteRecordBatch(*arrow::RecordBatch::Make(part_schema_, n, std::move(columns))));
    run.rows += n;
    return Status::OK();
  }

  // Merge a symbol's runs into one, streaming, when rows came too far out of order.
  Status Collapse(int sym, SymbolRuns& state) {
    std::vector<Part> parts;
    for (auto& run : state.runs) {
      ARROW_RETURN_NOT_OK(CloseRun(run));
      parts.push_back(Part{input_.index, run.path, run.rows, run.first, run.last});
    }
    Run merged;
    merged.path = ws_.dir / fmt::format("f{:05d}-s{:05d}-r{:03d}.arrow", input_.index, sym, state.next_id++);
    merged.first = parts.front().first;
    for (const auto& part : parts) {
      merged.first = std::min(merged.first, part.first);
      merged.last = std::max(merged.last, part.last);
    }
    made_.push_back(merged.path);
    ARROW_RETURN_NOT_OK(OpenRun(merged, part_schema_));
    std::vector<const Part*> pointers;
    for (const auto& part : parts) pointers.push_back(&part);
    PartMerger merger(std::move(pointers), {});
    while (true) {
      ARROW_ASSIGN_OR_RAISE(auto chunk, merger.Next());
      if (!chunk) break;
      ARROW_RETURN_NOT_OK(merged.writer->WriteRecordBatch(*chunk->rows));
      merged.rows += chunk->rows->num_rows();
    }
    std::error_code ec;
    for (const auto& part : parts) std::filesystem::remove(part.path, ec);
    state.runs.clear();
    state.runs.push_back(std::move(merged));
    return Status::OK();
  }

  Status Finish() {
    int64_t valid = 0;
    for (size_t id = 0; id < rows_in_.size(); ++id) {
      if (rows_in_[id] > 0) ws_.symbols[names_[id]].rows_in += rows_in_[id];  // symbols of this file only
    }
    for (auto& [sym, state] : runs_) {
      SymbolInfo& info = ws_.symbols[names_[static_cast<size_t>(sym)]];
      for (auto& run : state.runs) {
        ARROW_RETURN_NOT_OK(CloseRun(run));
        info.parts.push_back(Part{input_.index, run.path, run.rows, run.first, run.last});
        info.valid += run.rows;
        valid += run.rows;
        info.first_ts = std::min(info.first_ts, run.first.ts_event);
        info.last_ts = std::max(info.last_ts, run.last.ts_event);
      }
    }
    ws_.file_valid[static_cast<size_t>(input_.index)] = valid;
    done_ = true;
    return Status::OK();
  }

  const InputFile& input_;
  const LabelConfig& config_;
  Workspace& ws_;
  std::map<std::string, int>& symbol_ids_;
  ProgressReporter* progress_;
  std::shared_ptr<arrow::Schema> part_schema_;
  // Symbol ids by instrument id, checked against the row's symbol (mappings can change daily).
  std::unordered_map<uint32_t, std::pair<std::string, int>> by_instrument_;
  std::vector<std::string> names_;  // by symbol id
  std::vector<int64_t> rows_in_;    // by symbol id
  std::map<int, SymbolRuns> runs_;  // by symbol id: the parts in order of the first sight
  std::vector<std::filesystem::path> made_;
  int64_t row_base_ = 0;
  bool done_ = false;
};

}  // namespace

bool IsValidRow(int64_t bid, int64_t ask, const LabelConfig& config) {
  if (bid == dbn::kUndefPrice || ask == dbn::kUndefPrice || bid <= 0 || ask <= 0) return false;
  // 2*round(p*1e9) <= bid + ask: the mid compared in fixed point, without a double.
  const __int128 sum = static_cast<__int128>(bid) + ask;
  if (config.min_price && sum < 2 * static_cast<__int128>(std::llround(*config.min_price * 1e9))) return false;
  if (config.max_price && sum > 2 * static_cast<__int128>(std::llround(*config.max_price * 1e9))) return false;
  return true;
}

const std::vector<std::string>& LabelColumns() {
  static const std::vector<std::string> columns = {"ts_event", "sequence", "instrument_id", "symbol", kBestBid,
                                                   kBestAsk};
  return columns;
}

// Return `columns` with the columns labeling needs added (none: every column).
std::vector<std::string> ColumnsToRead(const std::vector<std::string>& columns) {
  std::vector<std::string> read = columns;
  if (!read.empty()) {
    for (const auto& name : LabelColumns()) {
      if (std::find(read.begin(), read.end(), name) == read.end()) read.push_back(name);
    }
  }
  return read;
}

Status SplitFile(const InputFile& file, const LabelConfig& config, Workspace& ws,
                 const std::vector<std::string>& columns) {
  ARROW_RETURN_NOT_OK(InitializeCompute());
  std::error_code ec;
  std::filesystem::create_directories(ws.dir, ec);
  if (ec) return Status::IOError(ws.dir.string(), ": cannot create: ", ec.message());
  if (ws.file_valid.size() <= static_cast<size_t>(file.index)) ws.file_valid.resize(static_cast<size_t>(file.index) + 1, 0);
  std::map<std::string, int> symbol_ids;
  return FileSplitter(file, config, ws, symbol_ids).Split(ColumnsToRead(columns));
}

Result<std::unique_ptr<Workspace>> Split(const std::vector<InputFile>& files, const LabelConfig& config,
                                         const std::filesystem::path& dir, const BuildOptions& options,
                                         const std::vector<std::string>& columns) {
  const std::vector<std::string> read = ColumnsToRead(columns);
  ARROW_RETURN_NOT_OK(InitializeCompute());
  auto ws = std::make_unique<Workspace>();
  ws->dir = dir;
  ws->keep = config.keep_intermediate;
  ws->files = files;
  // Sizes (uint32 in the labeled dataset) are read at one scale for all inputs: a depth book's
  // fixed-point sizes come down to it. A read of the label columns alone needs none.
  const bool reads_sizes = read.empty() || std::any_of(read.begin(), read.end(), [](const std::string& name) {
                             return name == "size" || name.find("_sz_") != std::string::npos;
                           });
  if (reads_sizes) {
    ARROW_ASSIGN_OR_RAISE(ws->size_scale, CommonSizeScale(files));
    for (auto& file : ws->files) file.size_scale = ws->size_scale;
  }
  ws->file_valid.assign(files.size(), 0);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir.string(), ": cannot create: ", ec.message());
  std::map<std::string, int> symbol_ids;
  ProgressReporter progress(options.progress);
  std::vector<int64_t> file_bytes(files.size(), 0);
  if (progress.enabled()) {
    for (size_t i = 0; i < files.size(); ++i) {
      std::error_code size_ec;
      if (files[i].parquet.empty()) file_bytes[i] = static_cast<int64_t>(std::filesystem::file_size(files[i].path, size_ec));
      for (const auto& part : files[i].parquet) file_bytes[i] += part.bytes;
      if (size_ec) file_bytes[i] = 0;
    }
    int64_t bytes_total = 0;
    for (auto b : file_bytes) bytes_total += b;
    ARROW_RETURN_NOT_OK(progress.Begin("split", static_cast<int64_t>(files.size()), -1, bytes_total));
  }
  for (size_t f = 0; f < files.size(); ++f) {
    const auto& file = ws->files[f];  // with the run's size scale
    // A failed file must leave no parts behind: split into a copy and keep it only on success.
    auto before = ws->symbols;
    auto ids_before = symbol_ids;
    Status status = FileSplitter(file, config, *ws, symbol_ids, progress.enabled() ? &progress : nullptr).Split(read);
    if (status.ok()) status = progress.Add(0, file_bytes[f], 1);
    if (status.ok()) continue;
    // A stop asked for by the progress callback is no bad file.
    if (!options.skip_bad_files || !progress.status().ok()) return status;
    for (const auto& [name, info] : ws->symbols) {
      for (const auto& part : info.parts) {
        if (part.file == file.index) std::filesystem::remove(part.path, ec);
      }
    }
    ws->symbols = std::move(before);
    symbol_ids = std::move(ids_before);
    ws->file_valid[static_cast<size_t>(file.index)] = 0;
    ws->bad_files.push_back(BadFile{file.path, status.message()});
    ARROW_RETURN_NOT_OK(progress.Add(0, file_bytes[f], 1));
  }
  ARROW_RETURN_NOT_OK(progress.End());
  if (!ws->schema) return Status::Invalid("no readable MBP-10 input among ", files.size(), " files");
  if (!ws->bad_files.empty()) {
    // Skipped files take no place in the order: the result is that of the good files alone.
    std::set<std::string> bad;
    for (const auto& b : ws->bad_files) bad.insert(b.path);
    std::vector<int> renumber(files.size(), -1);
    std::vector<InputFile> good;
    std::vector<int64_t> good_valid;
    const std::vector<InputFile> all = ws->files;
    for (const auto& file : all) {
      if (bad.count(file.path)) continue;
      renumber[static_cast<size_t>(file.index)] = static_cast<int>(good.size());
      good_valid.push_back(ws->file_valid[static_cast<size_t>(file.index)]);
      good.push_back(file);
      good.back().index = renumber[static_cast<size_t>(file.index)];
    }
    for (auto& [name, info] : ws->symbols) {
      for (auto& part : info.parts) part.file = renumber[static_cast<size_t>(part.file)];
    }
    ws->files = std::move(good);
    ws->file_valid = std::move(good_valid);
  }
  return ws;
}

}  // namespace internal

}  // namespace tickforge::label
