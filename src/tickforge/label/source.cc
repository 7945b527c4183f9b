// Label's inputs: raw DBN files, plain MBP-10 Parquet files and store snapshots listed in the
// order of their data, and read through one batch reader in the DBN MBP-10 columns.
#include "tickforge/label/source.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/statistics.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/store/manifest.h"
#include "tickforge/store/store.h"
#include "tickforge/util/files.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/time.h"

namespace tickforge::label {
namespace {

dbn::ArrowOptions LabelArrowOptions() {
  dbn::ArrowOptions options;
  options.price_type = dbn::PriceType::kFixed;
  options.schema = dbn::Schema::kMbp10;
  return options;
}

// Return the fields of `columns` (all when empty) in Mbp10Schema()'s order.
Result<std::shared_ptr<arrow::Schema>> Projected(const std::vector<std::string>& columns) {
  const auto& full = Mbp10Schema();
  if (columns.empty()) return full;
  for (const auto& name : columns) {
    if (!full->GetFieldByName(name)) return Status::Invalid("labeling has no input column '", name, "'");
  }
  arrow::FieldVector fields;
  for (const auto& field : full->fields()) {
    if (std::find(columns.begin(), columns.end(), field->name()) != columns.end()) fields.push_back(field);
  }
  return arrow::schema(std::move(fields));
}

// A DBN file's MBP-10 rows, keeping only the projected columns as each batch is decoded.
class DbnInput : public arrow::RecordBatchReader {
 public:
  DbnInput(std::shared_ptr<arrow::RecordBatchReader> reader, std::shared_ptr<arrow::Schema> schema)
      : reader_(std::move(reader)), schema_(std::move(schema)) {}
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    ARROW_RETURN_NOT_OK(reader_->ReadNext(out));
    if (!*out) return arrow::Status::OK();
    arrow::ArrayVector columns;
    for (const auto& field : schema_->fields()) columns.push_back((*out)->GetColumnByName(field->name()));
    *out = arrow::RecordBatch::Make(schema_, (*out)->num_rows(), std::move(columns));
    return arrow::Status::OK();
  }

 private:
  std::shared_ptr<arrow::RecordBatchReader> reader_;
  std::shared_ptr<arrow::Schema> schema_;
};

// Return whether `name` is a size column of the MBP-10 rows (the event's or a level's).
bool IsSizeColumn(const std::string& name) { return name == "size" || name.find("_sz_") != std::string::npos; }

// Return the size scale a Parquet file's schema metadata records (a depth book's
// "tickforge.size_scale"); 0 when it records none (DBN's integer sizes).
Result<int> SizeScaleOf(const arrow::Schema& schema, const std::string& path) {
  if (!schema.metadata()) return 0;
  const auto found = schema.metadata()->Get("tickforge.size_scale");
  if (!found.ok()) return 0;
  int scale = -1;
  const auto& text = *found;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), scale);
  if (ec != std::errc() || end != text.data() + text.size() || scale < 0 || scale > 18) {
    return Status::Invalid(path, ": tickforge.size_scale '", text, "' is no scale (0 to 18)");
  }
  return scale;
}

// MBP-10 Parquet files read one after the other, row group by row group, each batch given the
// projected columns in MBP-10 order: columns the file lacks come from its constants (a store
// file's partition values), types are cast where the file stored another.
class ParquetInput : public arrow::RecordBatchReader {
 public:
  ParquetInput(InputFile input, std::shared_ptr<arrow::Schema> schema, int64_t batch_rows)
      : input_(std::move(input)), schema_(std::move(schema)), batch_rows_(batch_rows) {}
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    while (true) {
      if (!reader_) {
        if (next_part_ == input_.parquet.size()) {
          *out = nullptr;
          return arrow::Status::OK();
        }
        ARROW_RETURN_NOT_OK(OpenPart(input_.parquet[next_part_++]));
      }
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(WithPath(reader_->ReadNext(&batch), path_));
      if (!batch) {
        reader_.reset();
        file_.reset();
        continue;
      }
      if (batch->num_rows() == 0) continue;
      return Conform(*batch, out);
    }
  }

 private:
  Status OpenPart(const ParquetPart& part) {
    if (input_.store_root.empty()) {
      path_ = part.path;
    } else {
      store::FileEntry entry;
      entry.path = part.path;
      entry.version = part.version;
      path_ = store::ResolveFile(store::StorePaths(input_.store_root), entry).string();
    }
    constants_ = &part.constants;
    ParquetReadOptions options;
    options.batch_rows = batch_rows_;
    // Pages are read as they are decoded: memory is bounded by the batch, not the row group.
    options.buffer_bytes = 1 << 20;
    ARROW_ASSIGN_OR_RAISE(file_, OpenParquet(path_, options));
    std::shared_ptr<arrow::Schema> file_schema;
    ARROW_RETURN_NOT_OK(WithPath(file_->GetSchema(&file_schema), path_));
    ARROW_ASSIGN_OR_RAISE(file_scale_, SizeScaleOf(*file_schema, path_));
    rows_read_ = 0;
    std::vector<int> indices;
    for (const auto& field : schema_->fields()) {
      const int i = file_schema->GetFieldIndex(field->name());
      if (i >= 0) {
        indices.push_back(i);
      } else if (!constants_->count(field->name())) {
        return Status::Invalid(path_, ": no column '", field->name(), "' (an MBP-10 file holds the columns DBN ",
                               "MBP-10 records convert to)");
      }
    }
    std::vector<int> groups(static_cast<size_t>(file_->num_row_groups()));
    for (size_t g = 0; g < groups.size(); ++g) groups[g] = static_cast<int>(g);
    auto batches = file_->GetRecordBatchReader(groups, indices);
    if (!batches.ok()) return WithPath(batches.status(), path_);
    reader_ = std::move(*batches);
    return Status::OK();
  }

  Status Conform(const arrow::RecordBatch& batch, std::shared_ptr<arrow::RecordBatch>* out) {
    arrow::ArrayVector columns;
    for (const auto& field : schema_->fields()) {
      auto column = batch.GetColumnByName(field->name());
      if (!column) {
        ARROW_ASSIGN_OR_RAISE(auto scalar, arrow::Scalar::Parse(field->type(), constants_->at(field->name())));
        ARROW_ASSIGN_OR_RAISE(column, arrow::MakeArrayFromScalar(*scalar, batch.num_rows()));
      } else if (column->type()->id() == arrow::Type::UINT64 && field->type()->id() == arrow::Type::UINT32) {
        ARROW_ASSIGN_OR_RAISE(column, Narrow(static_cast<const arrow::UInt64Array&>(*column), field->name()));
      } else if (file_scale_ != input_.size_scale && IsSizeColumn(field->name())) {
        // Sizes of another scale stored narrow (a dataset whose first file had uint32 sizes).
        ARROW_ASSIGN_OR_RAISE(auto wide, arrow::compute::Cast(*column, arrow::uint64()));
        ARROW_ASSIGN_OR_RAISE(column, Narrow(static_cast<const arrow::UInt64Array&>(*wide), field->name()));
      } else if (!column->type()->Equals(*field->type())) {
        ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(*column, field->type()));
        column = cast;
      }
      columns.push_back(std::move(column));
    }
    *out = arrow::RecordBatch::Make(schema_, batch.num_rows(), std::move(columns));
    rows_read_ += batch.num_rows();
    return Status::OK();
  }

  // A depth book's wide column as uint32: the sequence keeps its low 32 bits (as DBN's records
  // do); a size is divided by 10^(file scale - input scale), and must divide exactly.
  Result<std::shared_ptr<arrow::Array>> Narrow(const arrow::UInt64Array& wide, const std::string& name) const {
    const int64_t n = wide.length();
    ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::AllocateBuffer(n * static_cast<int64_t>(sizeof(uint32_t))));
    auto* out = reinterpret_cast<uint32_t*>(buffer->mutable_data());
    const uint64_t* in = wide.raw_values();
    if (name == "sequence") {
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<uint32_t>(in[i]);
    } else {
      const int drop = file_scale_ - input_.size_scale;
      if (drop < 0) return Status::Invalid(path_, ": size scale ", file_scale_, " is coarser than the run's ", input_.size_scale);
      uint64_t divisor = 1;
      for (int d = 0; d < drop; ++d) divisor *= 10;
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t q = in[i] / divisor;
        if (q * divisor != in[i] || q > std::numeric_limits<uint32_t>::max()) {
          return Status::Invalid(path_, ": row ", rows_read_ + i, " column '", name, "' size ", in[i], " at scale ",
                                 file_scale_, " is no whole uint32 at scale ", input_.size_scale,
                                 " (the finest scale every input's sizes fit in uint32 at); label it alone or rebuild ",
                                 "its book with a smaller --size-scale");
        }
        out[i] = static_cast<uint32_t>(q);
      }
    }
    if (wide.null_count() > 0) return Status::Invalid(path_, ": column '", name, "' has nulls");
    return std::make_shared<arrow::UInt32Array>(n, std::shared_ptr<arrow::Buffer>(std::move(buffer)));
  }

  InputFile input_;
  std::shared_ptr<arrow::Schema> schema_;
  int64_t batch_rows_;
  size_t next_part_ = 0;
  std::string path_;
  int file_scale_ = 0;  // the part's tickforge.size_scale (0: integer sizes)
  int64_t rows_read_ = 0;  // of the part, for errors
  const std::map<std::string, std::string>* constants_ = nullptr;
  std::unique_ptr<parquet::arrow::FileReader> file_;
  std::unique_ptr<arrow::RecordBatchReader> reader_;
};

// Return the smallest and largest value of `path`'s time column (ts_recv, else ts_event) from
// its row group statistics; zeros when it records none.
std::pair<uint64_t, uint64_t> ParquetTimeRange(const std::string& path) {
  auto reader = OpenParquet(path);
  if (!reader.ok()) return {0, 0};  // reported again when the file is read
  const auto metadata = (*reader)->parquet_reader()->metadata();
  const auto schema = metadata->schema();
  int column = schema->ColumnIndex("ts_recv");
  if (column < 0) column = schema->ColumnIndex("ts_event");
  if (column < 0) return {0, 0};
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (int g = 0; g < metadata->num_row_groups(); ++g) {
    auto stats = metadata->RowGroup(g)->ColumnChunk(column)->statistics();
    auto typed = std::dynamic_pointer_cast<parquet::Int64Statistics>(stats);
    if (!typed || !typed->HasMinMax()) return {0, 0};
    lo = std::min(lo, typed->min());
    hi = std::max(hi, typed->max());
  }
  if (lo > hi) return {0, 0};
  return {static_cast<uint64_t>(lo), static_cast<uint64_t>(hi)};
}

bool EndsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsDbnName(const std::string& path) { return EndsWith(path, ".dbn") || EndsWith(path, ".dbn.zst"); }

void Order(std::vector<InputFile>& files) {
  std::sort(files.begin(), files.end(),
            [](const InputFile& a, const InputFile& b) { return std::tie(a.start, a.name) < std::tie(b.start, b.name); });
  for (size_t i = 0; i < files.size(); ++i) files[i].index = static_cast<int>(i);
}

std::string Joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

// Read partition value `key` as a whole number; false when absent or not a number.
bool Number(const std::map<std::string, std::string>& values, const std::string& key, int* out) {
  const auto it = values.find(key);
  if (it == values.end()) return false;
  const auto& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

const std::shared_ptr<arrow::Schema>& Mbp10Schema() {
  static const std::shared_ptr<arrow::Schema> schema =
      dbn::ArrowSchemaOf(*dbn::LayoutOf(dbn::RTypeOf(dbn::Schema::kMbp10)), LabelArrowOptions(), false);
  return schema;
}

Result<int> CommonSizeScale(const std::vector<InputFile>& files) {
  // Every input's (scale, largest size); the run's scale is the finest all of them fit at.
  std::vector<std::tuple<std::string, int, uint64_t>> scales;
  int scale = std::numeric_limits<int>::max();
  for (const auto& input : files) {
    if (input.parquet.empty()) {
      scale = 0;  // a DBN file: integer sizes
      continue;
    }
    for (const auto& part : input.parquet) {
      std::string path = part.path;
      if (!input.store_root.empty()) {
        store::FileEntry entry;
        entry.path = part.path;
        entry.version = part.version;
        path = store::ResolveFile(store::StorePaths(input.store_root), entry).string();
      }
      ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path));
      std::shared_ptr<arrow::Schema> schema;
      ARROW_RETURN_NOT_OK(WithPath(reader->GetSchema(&schema), path));
      ARROW_ASSIGN_OR_RAISE(const int file_scale, SizeScaleOf(*schema, path));
      scale = std::min(scale, file_scale);
      if (file_scale == 0) continue;
      // The largest uint64 size, from the row group statistics (none recorded: the file's scale
      // stays, and a size too large for it is an error when read).
      const auto metadata = reader->parquet_reader()->metadata();
      uint64_t largest = 0;
      for (int c = 0; c < metadata->num_columns(); ++c) {
        const std::string name = metadata->schema()->Column(c)->name();
        if (!IsSizeColumn(name)) continue;
        for (int g = 0; g < metadata->num_row_groups(); ++g) {
          const auto stats = metadata->RowGroup(g)->ColumnChunk(c)->statistics();
          if (!stats || !stats->HasMinMax()) continue;
          if (auto wide = std::dynamic_pointer_cast<parquet::Int64Statistics>(stats)) {
            largest = std::max(largest, static_cast<uint64_t>(wide->max()));
          } else if (auto narrow = std::dynamic_pointer_cast<parquet::Int32Statistics>(stats)) {
            largest = std::max<uint64_t>(largest, static_cast<uint32_t>(narrow->max()));
          }
        }
      }
      scales.emplace_back(path, file_scale, largest);
    }
  }
  if (scale == std::numeric_limits<int>::max()) return 0;
  for (const auto& [path, file_scale, largest] : scales) {
    uint64_t at = largest;
    for (int s = file_scale; s > scale; --s) at /= 10;
    while (at > std::numeric_limits<uint32_t>::max()) {
      if (scale == 0) {
        return Status::Invalid(path, ": its largest size, ", largest, " at scale ", file_scale,
                               ", exceeds uint32 even in whole units");
      }
      --scale;
      at /= 10;
    }
  }
  return scale;
}

Result<std::shared_ptr<arrow::RecordBatchReader>> OpenInput(const InputFile& input,
                                                           const std::vector<std::string>& columns,
                                                           int64_t batch_rows) {
  ARROW_ASSIGN_OR_RAISE(auto schema, Projected(columns));
  if (!input.parquet.empty()) return std::make_shared<ParquetInput>(input, schema, batch_rows);
  ARROW_ASSIGN_OR_RAISE(auto decoder, dbn::Decoder::Open(input.path));
  const auto& file_schema = decoder->metadata().schema;
  if (file_schema && *file_schema != dbn::Schema::kMbp10) {
    return Status::Invalid(input.path, ": labeling needs MBP-10 data, this file holds ",
                           dbn::SchemaName(*file_schema));
  }
  auto options = LabelArrowOptions();
  options.batch_size = batch_rows;
  // A file that names no schema (a live capture) is read by its first record's type, and one
  // that mixes several types is an error listing them, rather than losing the others.
  if (!file_schema) options.schema.reset();
  ARROW_ASSIGN_OR_RAISE(auto reader, dbn::OpenDbnReader(std::move(decoder), options));
  if (!reader->schema()->Equals(*Mbp10Schema())) {
    if (!file_schema) {
      // Reading on lists every record type of a mixed file.
      std::shared_ptr<arrow::RecordBatch> batch;
      ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
      return Status::Invalid(input.path, ": labeling needs MBP-10 records; the file names no schema and its first ",
                             "records are of another type");
    }
    return Status::Invalid(input.path, ": the MBP-10 records convert to columns labeling does not know: ",
                           reader->schema()->ToString());
  }
  return std::make_shared<DbnInput>(std::move(reader), schema);
}

Result<std::vector<InputFile>> ListInputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> paths;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec)) {
      ARROW_ASSIGN_OR_RAISE(auto found, ListFiles(input, {.suffixes = {".dbn", ".dbn.zst"}}));
      // A folder's Parquet files are inputs only where it holds no DBN files: a labeled
      // folder beside raw files must not be read as more rows.
      if (found.empty()) {
        ARROW_ASSIGN_OR_RAISE(found, ListFiles(input, {.suffixes = {".parquet"}}));
      }
      paths.insert(paths.end(), found.begin(), found.end());
    } else if (std::filesystem::is_regular_file(input, ec)) {
      paths.push_back(input);
    } else {
      return Status::IOError(input, ": no such file or directory");
    }
  }
  if (paths.empty()) return Status::Invalid("no DBN or MBP-10 Parquet files among the inputs");
  std::vector<InputFile> files;
  for (const auto& path : paths) {
    InputFile file{path, std::filesystem::path(path).filename().string(), 0, 0, 0, {}, {}};
    if (!IsDbnName(path) && EndsWith(path, ".parquet")) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(path, ec);
      file.parquet.push_back(ParquetPart{path, 0, ec ? 0 : static_cast<int64_t>(size), {}});
      std::tie(file.start, file.end) = ParquetTimeRange(path);
    } else if (auto decoder = dbn::Decoder::Open(path); decoder.ok()) {
      // Unreadable headers are found again (and reported) when the file is split.
      file.start = (*decoder)->metadata().start;
      file.end = (*decoder)->metadata().end;
    }
    files.push_back(std::move(file));
  }
  Order(files);
  return files;
}

Result<StoreInputs> ListStoreInputs(const StoreSelection& selection) {
  std::error_code ec;
  if (!std::filesystem::is_directory(selection.root, ec)) {
    return Status::IOError(selection.root, ": no such store (not a directory)");
  }
  ARROW_ASSIGN_OR_RAISE(auto store, store::Store::Open(selection.root, /*create=*/false));
  ARROW_ASSIGN_OR_RAISE(const int64_t latest, store::LatestVersion(store->paths()));
  if (selection.version && (*selection.version < 1 || *selection.version > latest)) {
    return Status::KeyError(selection.root, ": the store has no version ", *selection.version,
                            latest > 0 ? fmt::format(" (versions 1 to {})", latest) : std::string(" (no commits yet)"));
  }
  // One snapshot, read once: files later commits add or retire do not change what is labeled.
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store->ReadSnapshot(selection.version));
  auto found = snapshot.Find(selection.dataset);
  if (!found.ok()) return WithPath(found.status(), selection.root);
  const store::DatasetEntry* dataset = *found;
  std::optional<int64_t> first_day, end_day;
  if (!selection.start.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto ymd, ParseIsoDate(selection.start));
    first_day = DaysFromYmd(ymd);
  }
  if (!selection.end.empty()) {
    ARROW_ASSIGN_OR_RAISE(auto ymd, ParseIsoDate(selection.end));
    end_day = DaysFromYmd(ymd);
  }
  const std::set<std::string> wanted(selection.symbols.begin(), selection.symbols.end());
  std::set<std::string> symbols_present, symbols_kept;
  std::map<std::string, InputFile> by_day;
  for (const auto& file : dataset->files) {
    std::map<std::string, std::string> values(file.partition.begin(), file.partition.end());
    const std::string symbol = values.count("symbol") ? values["symbol"] : std::string();
    symbols_present.insert(symbol);
    if (!wanted.empty() && !wanted.count(symbol)) continue;
    int year = 0, month = 0, mday = 0;
    if (Number(values, "year", &year) && Number(values, "month", &month) && Number(values, "day", &mday)) {
      const int64_t day = DaysFromYmd(static_cast<uint32_t>(year * 10000 + month * 100 + mday));
      if ((first_day && day < *first_day) || (end_day && day >= *end_day)) continue;
    }
    symbols_kept.insert(symbol);
    // A day's files of all symbols make one input, as one daily DBN file holds them.
    std::string key = selection.dataset;
    for (const auto& [k, v] : file.partition) {
      if (k != "symbol") key += "/" + k + "=" + v;
    }
    auto& input = by_day[key];
    if (input.parquet.empty()) {
      input.path = (std::filesystem::path(selection.root) / key).string();
      input.name = key;
      input.store_root = store->paths().root.string();
      input.start = std::numeric_limits<uint64_t>::max();
    }
    ParquetPart part{file.path, file.version, file.bytes, {}};
    for (const auto& [k, v] : file.partition) part.constants[k] = v;
    input.parquet.push_back(std::move(part));
    input.start = std::min(input.start, static_cast<uint64_t>(file.min_time));
    input.end = std::max(input.end, static_cast<uint64_t>(file.max_time));
  }
  for (const auto& symbol : wanted) {
    if (!symbols_present.count(symbol)) {
      return Status::KeyError(selection.root, ": dataset '", selection.dataset, "' at version ", snapshot.version,
                              " has no symbol '", symbol, "' (symbols: ", Joined(symbols_present), ")");
    }
  }
  if (by_day.empty()) {
    return Status::Invalid(selection.root, ": dataset '", selection.dataset, "' at version ", snapshot.version,
                           " has no files in the selection (symbols: ", Joined(symbols_present), ")");
  }
  StoreInputs out;
  out.version = snapshot.version;
  for (auto& [key, input] : by_day) {
    // A symbol's rows of one day, in the order the store's commits wrote them.
    std::sort(input.parquet.begin(), input.parquet.end(), [](const ParquetPart& a, const ParquetPart& b) {
      return std::tie(a.version, a.path) < std::tie(b.version, b.path);
    });
    out.files.push_back(std::move(input));
  }
  Order(out.files);
  out.lineage = {{"store", store->paths().root.string()},
                 {"dataset", selection.dataset},
                 {"version", snapshot.version},
                 {"symbols", std::vector<std::string>(symbols_kept.begin(), symbols_kept.end())}};
  // What was asked for, so `label update` selects the same symbols of later snapshots.
  if (!selection.symbols.empty()) out.lineage["selected_symbols"] = selection.symbols;
  if (!selection.start.empty()) out.lineage["start"] = selection.start;
  if (!selection.end.empty()) out.lineage["end"] = selection.end;
  return out;
}

}  // namespace tickforge::label
