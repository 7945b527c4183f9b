// Label's first pass: the inputs listed in the order of their data (ListInputs), then each
// file's valid rows split by symbol, sorted into series order, into scratch parts (Split).
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
#include "tickforge/util/files.h"

namespace tickforge::label {
namespace internal {
namespace {

// Scratch parts are Arrow IPC files with LZ4 bodies: written and read near memory speed, where
// Parquet's encodings cost more than the whole labeling arithmetic.
constexpr int64_t kPartBatchRows = 1 << 16;

Status WritePart(const std::filesystem::path& path, const arrow::RecordBatch& batch) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::FileOutputStream::Open(path.string()));
  auto options = arrow::ipc::IpcWriteOptions::Defaults();
  ARROW_ASSIGN_OR_RAISE(options.codec, arrow::util::Codec::Create(arrow::Compression::LZ4_FRAME));
  ARROW_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeFileWriter(file, batch.schema(), options));
  for (int64_t offset = 0; offset < batch.num_rows(); offset += kPartBatchRows) {
    ARROW_RETURN_NOT_OK(writer->WriteRecordBatch(*batch.Slice(offset, kPartBatchRows)));
  }
  ARROW_RETURN_NOT_OK(writer->Close());
  return file->Close();
}

// Split one file's valid rows by symbol, each symbol's sorted into the series order, into one
// part per symbol; the file's symbols join `symbol_ids` in the order they first appear.
Status SplitFile(const InputFile& input, const LabelConfig& config, Workspace& ws,
                 std::map<std::string, int>& symbol_ids) {
  dbn::ArrowOptions options;
  options.price_type = dbn::PriceType::kFixed;
  options.schema = dbn::Schema::kMbp10;
  ARROW_ASSIGN_OR_RAISE(auto decoder, dbn::Decoder::Open(input.path));
  const auto& schema = decoder->metadata().schema;
  if (schema && *schema != dbn::Schema::kMbp10) {
    return Status::Invalid(input.path, ": labeling needs MBP-10 data, this file holds ",
                           dbn::SchemaName(*schema));
  }
  ARROW_ASSIGN_OR_RAISE(auto reader, dbn::OpenDbnReader(std::move(decoder), options));
  ARROW_ASSIGN_OR_RAISE(auto table, reader->ToTable());
  ARROW_ASSIGN_OR_RAISE(table, table->CombineChunks());
  ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
  if (!ws.schema) ws.schema = batch->schema();

  const auto& bid = Column<arrow::Int64Array>(*batch, kBestBid);
  const auto& ask = Column<arrow::Int64Array>(*batch, kBestAsk);
  const auto& ts = Column<arrow::TimestampArray>(*batch, "ts_event");
  const auto& sequence = Column<arrow::UInt32Array>(*batch, "sequence");
  const auto& symbol = Column<arrow::StringArray>(*batch, "symbol");
  const auto& instrument = Column<arrow::UInt32Array>(*batch, "instrument_id");

  struct Row {
    int symbol;
    Key key;
    int64_t index;
  };
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(batch->num_rows()));
  // Symbol ids by instrument id, checked against the row's symbol (mappings can change daily).
  std::unordered_map<uint32_t, std::pair<std::string, int>> by_instrument;
  std::vector<int64_t> rows_in;
  for (int64_t i = 0; i < batch->num_rows(); ++i) {
    // Instruments the metadata does not map are grouped under their id.
    const uint32_t id = instrument.Value(i);
    const std::string_view view = symbol.IsNull(i) ? std::string_view() : symbol.GetView(i);
    auto cached = by_instrument.find(id);
    if (cached == by_instrument.end() || cached->second.first != view) {
      std::string name = symbol.IsNull(i) ? std::to_string(id) : std::string(view);
      auto [it, inserted] = symbol_ids.try_emplace(name, static_cast<int>(symbol_ids.size()));
      if (inserted) ws.symbols[name].symbol = name;
      cached = by_instrument.insert_or_assign(id, std::make_pair(std::string(view), it->second)).first;
    }
    const int sym = cached->second.second;
    if (static_cast<size_t>(sym) >= rows_in.size()) rows_in.resize(static_cast<size_t>(sym) + 1, 0);
    ++rows_in[static_cast<size_t>(sym)];
    if (IsValidRow(bid.Value(i), ask.Value(i), config)) {
      rows.push_back(Row{sym, Key{ts.Value(i), sequence.Value(i)}, i});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.symbol, a.key, a.index) < std::tie(b.symbol, b.key, b.index);
  });
  ws.file_valid[static_cast<size_t>(input.index)] = static_cast<int64_t>(rows.size());

  std::vector<std::string> names(symbol_ids.size());
  for (const auto& [name, id] : symbol_ids) names[static_cast<size_t>(id)] = name;
  for (size_t id = 0; id < rows_in.size(); ++id) ws.symbols[names[id]].rows_in += rows_in[id];
  for (size_t begin = 0; begin < rows.size();) {
    size_t end = begin;
    while (end < rows.size() && rows[end].symbol == rows[begin].symbol) ++end;
    arrow::Int64Builder indices;
    ARROW_RETURN_NOT_OK(indices.Reserve(static_cast<int64_t>(end - begin)));
    for (size_t r = begin; r < end; ++r) indices.UnsafeAppend(rows[r].index);
    ARROW_ASSIGN_OR_RAISE(auto index_array, indices.Finish());
    ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch, index_array));
    SymbolInfo& info = ws.symbols[names[static_cast<size_t>(rows[begin].symbol)]];
    const auto path = ws.dir / fmt::format("f{:05d}-s{:05d}.arrow", input.index, rows[begin].symbol);
    ARROW_RETURN_NOT_OK(WritePart(path, *taken.record_batch()));
    const auto n = static_cast<int64_t>(end - begin);
    info.parts.push_back(Part{input.index, path, n, rows[begin].key, rows[end - 1].key});
    info.valid += n;
    info.first_ts = std::min(info.first_ts, rows[begin].key.ts_event);
    info.last_ts = std::max(info.last_ts, rows[end - 1].key.ts_event);
    begin = end;
  }
  return Status::OK();
}

}  // namespace

bool IsValidRow(int64_t bid, int64_t ask, const LabelConfig& config) {
  if (bid == dbn::kUndefPrice || ask == dbn::kUndefPrice || bid <= 0 || ask <= 0) return false;
  // 2*round(p*1e9) <= bid + ask: the mid compared in fixed point, without a double.
  const __int128 sum = static_cast<__int128>(bid) + ask;
  if (config.min_price && sum < 2 * static_cast<__int128>(std::llround(*config.min_price * 1e9))) return false;
  if (config.max_price && sum > 2 * static_cast<__int128>(std::llround(*config.max_price * 1e9))) return false;
  return true;
}

Result<std::unique_ptr<Workspace>> Split(const std::vector<InputFile>& files, const LabelConfig& config,
                                         const std::filesystem::path& dir, const BuildOptions& options) {
  ARROW_RETURN_NOT_OK(InitializeCompute());
  auto ws = std::make_unique<Workspace>();
  ws->dir = dir;
  ws->keep = config.keep_intermediate;
  ws->files = files;
  ws->file_valid.assign(files.size(), 0);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir.string(), ": cannot create: ", ec.message());
  std::map<std::string, int> symbol_ids;
  for (const auto& file : files) {
    // A failed file must leave no parts behind: split into a copy and keep it only on success.
    auto before = ws->symbols;
    auto ids_before = symbol_ids;
    Status status = SplitFile(file, config, *ws, symbol_ids);
    if (status.ok()) continue;
    if (!options.skip_bad_files) return status;
    for (const auto& [name, info] : ws->symbols) {
      for (const auto& part : info.parts) {
        if (part.file == file.index) std::filesystem::remove(part.path, ec);
      }
    }
    ws->symbols = std::move(before);
    symbol_ids = std::move(ids_before);
    ws->file_valid[static_cast<size_t>(file.index)] = 0;
    ws->bad_files.push_back(BadFile{file.path, status.message()});
  }
  if (!ws->schema) return Status::Invalid("no readable MBP-10 input among ", files.size(), " files");
  if (!ws->bad_files.empty()) {
    // Skipped files take no place in the order: the result is that of the good files alone.
    std::set<std::string> bad;
    for (const auto& b : ws->bad_files) bad.insert(b.path);
    std::vector<int> renumber(files.size(), -1);
    std::vector<InputFile> good;
    std::vector<int64_t> good_valid;
    for (const auto& file : files) {
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

Result<std::vector<InputFile>> ListInputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> paths;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec)) {
      ARROW_ASSIGN_OR_RAISE(auto found, ListFiles(input, {.suffixes = {".dbn", ".dbn.zst"}}));
      paths.insert(paths.end(), found.begin(), found.end());
    } else if (std::filesystem::is_regular_file(input, ec)) {
      paths.push_back(input);
    } else {
      return Status::IOError(input, ": no such file or directory");
    }
  }
  if (paths.empty()) return Status::Invalid("no DBN files among the inputs");
  std::vector<InputFile> files;
  for (const auto& path : paths) {
    InputFile file{path, std::filesystem::path(path).filename().string(), 0, 0, 0};
    // Unreadable headers are found again (and reported) when the file is split.
    if (auto decoder = dbn::Decoder::Open(path); decoder.ok()) {
      file.start = (*decoder)->metadata().start;
      file.end = (*decoder)->metadata().end;
    }
    files.push_back(std::move(file));
  }
  std::sort(files.begin(), files.end(),
            [](const InputFile& a, const InputFile& b) { return std::tie(a.start, a.name) < std::tie(b.start, b.name); });
  for (size_t i = 0; i < files.size(); ++i) files[i].index = static_cast<int>(i);
  return files;
}

}  // namespace tickforge::label
