#include "tickforge/label/label.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/compute/initialize.h>
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <arrow/ipc/api.h>
#include <arrow/util/compression.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unistd.h>

#include "tickforge/dataset/dataset.h"
#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/label/movement.h"
#include "tickforge/util/io.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/files.h"

namespace tickforge::label {
namespace {

// The two book columns labeling reads: the mid is (bid_px_00 + ask_px_00) / 2.
const std::string& kBestBid = dbn::BookColumnName(dbn::BookField::kBidPx, 0);
const std::string& kBestAsk = dbn::BookColumnName(dbn::BookField::kAskPx, 0);

using Clock = std::chrono::steady_clock;

// A row's place in a symbol's series (ties after these: file index, then position in file).
struct Key {
  int64_t ts_event;
  uint32_t sequence;
  auto operator<=>(const Key&) const = default;
};

// One symbol's valid rows of one file, sorted, in an intermediate Parquet file.
struct Part {
  int file;
  std::filesystem::path path;
  int64_t rows;
  Key first;
  Key last;
};

struct SymbolInfo {
  std::string symbol;
  int64_t rows_in = 0;
  int64_t valid = 0;
  int64_t first_ts = std::numeric_limits<int64_t>::max();
  int64_t last_ts = std::numeric_limits<int64_t>::min();
  std::vector<Part> parts;  // in file order

  int64_t ValidIn(int files) const {
    int64_t n = 0;
    for (const auto& part : parts) n += part.file < files ? part.rows : 0;
    return n;
  }
};

struct BadFile {
  std::string path;
  std::string error;
};

// The inputs split by symbol: what both fitting and building read.
struct Workspace {
  std::filesystem::path dir;
  bool keep = false;
  std::vector<InputFile> files;
  std::vector<int64_t> file_valid;  // valid rows per file, all symbols
  std::map<std::string, SymbolInfo> symbols;  // sorted by name: the `sym` index of the spec
  std::vector<BadFile> bad_files;
  std::shared_ptr<arrow::Schema> schema;  // of intermediate parts and datasets (before labels)

  ~Workspace() {
    if (!keep && !dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
};

template <typename ArrayType>
const ArrayType& Column(const arrow::RecordBatch& batch, const std::string& name) {
  return static_cast<const ArrayType&>(*batch.GetColumnByName(name));
}

bool IsValidRow(int64_t bid, int64_t ask, const LabelConfig& config) {
  if (bid == dbn::kUndefPrice || ask == dbn::kUndefPrice || bid <= 0 || ask <= 0) return false;
  // 2*round(p*1e9) <= bid + ask: the mid compared in fixed point, without a double.
  const __int128 sum = static_cast<__int128>(bid) + ask;
  if (config.min_price && sum < 2 * static_cast<__int128>(std::llround(*config.min_price * 1e9))) return false;
  if (config.max_price && sum > 2 * static_cast<__int128>(std::llround(*config.max_price * 1e9))) return false;
  return true;
}

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

Result<std::shared_ptr<arrow::Table>> ReadPart(const std::filesystem::path& path,
                                               const std::vector<std::string>& columns) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenIpcFile(path.string(), columns));
  arrow::RecordBatchVector batches;
  for (int i = 0; i < reader->num_record_batches(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto batch, reader->ReadRecordBatch(i));
    batches.push_back(std::move(batch));
  }
  return arrow::Table::FromRecordBatches(reader->schema(), std::move(batches));
}

// ---------------------------------------------------------------------------------------------
// Split: each file's valid rows, by symbol, sorted into the series order.

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

// ---------------------------------------------------------------------------------------------
// A symbol's series, chunk by chunk, in series order.

struct Chunk {
  std::shared_ptr<arrow::RecordBatch> rows;
  std::vector<int32_t> file;  // the input file of each row
};

class SeriesReader {
 public:
  // Reads the parts of files < `max_file`; `columns` empty means all.
  SeriesReader(const SymbolInfo& info, int max_file, std::vector<std::string> columns)
      : columns_(std::move(columns)) {
    if (!columns_.empty()) {
      for (const char* key : {"ts_event", "sequence"}) {
        if (std::find(columns_.begin(), columns_.end(), key) == columns_.end()) columns_.push_back(key);
      }
    }
    // Parts whose rows interleave in time form one group, merged in memory; the others stream.
    for (const auto& part : info.parts) {
      if (part.file >= max_file) continue;
      if (!groups_.empty() && part.first < groups_.back().last) {
        groups_.back().parts.push_back(&part);
        groups_.back().last = std::max(groups_.back().last, part.last);
      } else {
        groups_.push_back(Group{{&part}, part.last});
      }
    }
  }

  // Returns nullopt at the end.
  Result<std::optional<Chunk>> Next() {
    while (true) {
      if (part_) {
        if (next_batch_ < part_->num_record_batches()) {
          ARROW_ASSIGN_OR_RAISE(auto batch, part_->ReadRecordBatch(next_batch_++));
          return std::optional<Chunk>(Chunk{batch, std::vector<int32_t>(static_cast<size_t>(batch->num_rows()), file_)});
        }
        part_.reset();
      }
      if (next_group_ == groups_.size()) return std::optional<Chunk>();
      const Group& group = groups_[next_group_++];
      if (group.parts.size() == 1) {
        ARROW_RETURN_NOT_OK(Open(*group.parts.front()));
        continue;
      }
      return Merge(group);
    }
  }

 private:
  struct Group {
    std::vector<const Part*> parts;
    Key last;
  };

  Status Open(const Part& part) {
    ARROW_ASSIGN_OR_RAISE(part_, OpenIpcFile(part.path.string(), columns_));
    next_batch_ = 0;
    file_ = part.file;
    return Status::OK();
  }

  Result<std::optional<Chunk>> Merge(const Group& group) {
    std::vector<std::shared_ptr<arrow::Table>> tables;
    struct Row {
      Key key;
      int32_t file;
      int64_t index;
    };
    std::vector<Row> rows;
    int64_t offset = 0;
    for (const Part* part : group.parts) {
      ARROW_ASSIGN_OR_RAISE(auto table, ReadPart(part->path, columns_));
      ARROW_ASSIGN_OR_RAISE(table, table->CombineChunks());
      const auto& ts = static_cast<const arrow::TimestampArray&>(*table->GetColumnByName("ts_event")->chunk(0));
      const auto& seq = static_cast<const arrow::UInt32Array&>(*table->GetColumnByName("sequence")->chunk(0));
      for (int64_t i = 0; i < table->num_rows(); ++i) {
        rows.push_back(Row{Key{ts.Value(i), seq.Value(i)}, part->file, offset + i});
      }
      offset += table->num_rows();
      tables.push_back(std::move(table));
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      return std::tie(a.key, a.file, a.index) < std::tie(b.key, b.file, b.index);
    });
    ARROW_ASSIGN_OR_RAISE(auto all, arrow::ConcatenateTables(tables));
    ARROW_ASSIGN_OR_RAISE(auto batch, all->CombineChunksToBatch());
    arrow::Int64Builder indices;
    Chunk chunk;
    for (const auto& row : rows) {
      ARROW_RETURN_NOT_OK(indices.Append(row.index));
      chunk.file.push_back(row.file);
    }
    ARROW_ASSIGN_OR_RAISE(auto index_array, indices.Finish());
    ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch, index_array));
    chunk.rows = taken.record_batch();
    return std::optional<Chunk>(std::move(chunk));
  }

  std::vector<std::string> columns_;
  std::vector<Group> groups_;
  size_t next_group_ = 0;
  std::shared_ptr<arrow::ipc::RecordBatchFileReader> part_;
  int next_batch_ = 0;
  int32_t file_ = 0;
};

// Calls fn(t, movement, file_of_t) for t = L, L+jump, ... <= last, over the series' first
// `limit` rows (of the parts of files < max_file).
template <typename Fn>
Status ForEachFitMovement(const SymbolInfo& info, int max_file, int64_t limit, const LabelConfig& config,
                          Fn&& fn) {
  MovementWindow window(config.lookback_rows, config.lookforward_offset, config.lookforward_input);
  const int64_t last = window.LastDefined(limit);
  if (last < config.lookback_rows) return Status::OK();
  const auto ring_size = std::bit_ceil(static_cast<uint64_t>(config.lookforward_offset + config.lookforward_input + 2));
  std::vector<int32_t> file_of(ring_size);
  int64_t next = config.lookback_rows;
  SeriesReader reader(info, max_file, {kBestBid, kBestAsk});
  while (window.size() < limit && next <= last) {
    ARROW_ASSIGN_OR_RAISE(auto chunk, reader.Next());
    if (!chunk) break;
    const auto& bid = Column<arrow::Int64Array>(*chunk->rows, kBestBid);
    const auto& ask = Column<arrow::Int64Array>(*chunk->rows, kBestAsk);
    for (int64_t i = 0; i < chunk->rows->num_rows() && window.size() < limit; ++i) {
      file_of[static_cast<size_t>(window.size()) & (ring_size - 1)] = chunk->file[static_cast<size_t>(i)];
      window.Push(bid.Value(i) + ask.Value(i));
      while (next <= last && window.Ready(next)) {
        fn(next, window.Movement(next), file_of[static_cast<size_t>(next) & (ring_size - 1)]);
        next += config.jump_size;
      }
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Fit

struct Candidate {
  uint64_t key;
  int sym;
  int64_t t;
  double movement;
};

// Keeps at most `cap` candidates per file: those with the smallest (key, sym, t).
std::vector<double> CapPerFile(std::map<int, std::vector<Candidate>>& by_file, int64_t cap) {
  std::vector<double> pooled;
  for (auto& [file, candidates] : by_file) {
    const auto less = [](const Candidate& a, const Candidate& b) {
      return std::tie(a.key, a.sym, a.t) < std::tie(b.key, b.sym, b.t);
    };
    if (static_cast<int64_t>(candidates.size()) > cap) {
      std::nth_element(candidates.begin(), candidates.begin() + cap, candidates.end(), less);
      candidates.resize(static_cast<size_t>(cap));
    }
    for (const auto& c : candidates) pooled.push_back(c.movement);
  }
  return pooled;
}

nlohmann::ordered_json Stats(const std::vector<double>& values) {
  if (values.empty()) return {{"count", 0}};
  double sum = 0, min = values.front(), max = values.front();
  for (double v : values) {
    sum += v;
    min = std::min(min, v);
    max = std::max(max, v);
  }
  const double mean = sum / static_cast<double>(values.size());
  double sq = 0;
  for (double v : values) sq += (v - mean) * (v - mean);
  return {{"count", values.size()},
          {"mean", mean},
          {"std", std::sqrt(sq / static_cast<double>(values.size()))},
          {"min", min},
          {"max", max}};
}

void WarnTies(const std::vector<double>& b, const std::string& where, nlohmann::ordered_json& warnings) {
  for (size_t k = 1; k < b.size(); ++k) {
    if (b[k] == b[k - 1]) {
      warnings.push_back(fmt::format("{}boundaries {} and {} are equal ({}): class {} can only hold that value",
                                     where, k - 1, k, b[k], k - 1));
    }
  }
}

uint64_t CandidateKey(uint64_t seed, int sym, int64_t t) {
  return SplitMix64(SplitMix64(SplitMix64(seed + 1) ^ static_cast<uint64_t>(sym)) ^ static_cast<uint64_t>(t));
}

Result<nlohmann::ordered_json> FitOn(const Workspace& ws, const LabelConfig& config) {
  const int n = static_cast<int>(ws.files.size());
  const int n_fit = std::max(1, static_cast<int>(std::floor(n * config.fit_fraction)));
  nlohmann::ordered_json doc;
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  std::vector<bool> sampled(static_cast<size_t>(n), config.mode == Mode::kPerSymbol);
  if (config.mode == Mode::kGlobal) {
    const int k = std::max(1, static_cast<int>(std::floor(n_fit * config.file_sample_fraction)));
    std::vector<std::pair<uint64_t, int>> keys;
    for (int f = 0; f < n_fit; ++f) keys.emplace_back(SplitMix64(SplitMix64(config.seed) ^ static_cast<uint64_t>(f)), f);
    std::sort(keys.begin(), keys.end());
    for (int i = 0; i < k; ++i) sampled[static_cast<size_t>(keys[static_cast<size_t>(i)].second)] = true;
  }

  std::vector<double> all_pooled;
  if (config.mode == Mode::kGlobal) {
    std::map<int, std::vector<Candidate>> by_file;
    int sym = 0;
    for (const auto& [name, info] : ws.symbols) {
      ARROW_RETURN_NOT_OK(ForEachFitMovement(info, n_fit, info.ValidIn(n_fit), config,
                                             [&](int64_t t, double m, int32_t file) {
                                               if (!sampled[static_cast<size_t>(file)] ||
                                                   !(std::abs(m) < config.max_abs_movement)) {
                                                 return;
                                               }
                                               by_file[file].push_back({CandidateKey(config.seed, sym, t), sym, t, m});
                                             }));
      ++sym;
    }
    all_pooled = CapPerFile(by_file, config.max_samples_per_file);
    if (all_pooled.empty()) {
      return Status::Invalid("no fit samples: every symbol needs more than lookback_rows + lookforward_offset + "
                             "lookforward_input valid rows in the fit files, and movements below max_abs_movement");
    }
    auto pooled = all_pooled;
    auto boundaries = Quantiles(pooled, config.nbins);
    WarnTies(boundaries, "", warnings);
    doc["boundaries"] = boundaries;
  } else {
    auto per_symbol = nlohmann::ordered_json::object();
    auto fit_rows = nlohmann::ordered_json::object();
    int sym = 0;
    for (const auto& [name, info] : ws.symbols) {
      std::map<int, std::vector<Candidate>> by_file;
      const int64_t half = info.valid / 2;
      ARROW_RETURN_NOT_OK(ForEachFitMovement(info, n, half, config, [&](int64_t t, double m, int32_t file) {
        if (std::abs(m) < config.max_abs_movement) by_file[file].push_back({CandidateKey(config.seed, sym, t), sym, t, m});
      }));
      ++sym;
      auto pooled = CapPerFile(by_file, config.max_samples_per_file);
      fit_rows[name] = half;
      if (pooled.empty()) {
        warnings.push_back(fmt::format("{}: no fit samples in its first {} rows; it gets no dataset", name, half));
        continue;
      }
      all_pooled.insert(all_pooled.end(), pooled.begin(), pooled.end());
      auto boundaries = Quantiles(pooled, config.nbins);
      WarnTies(boundaries, name + ": ", warnings);
      per_symbol[name] = boundaries;
    }
    if (per_symbol.empty()) return Status::Invalid("no symbol has enough rows to fit thresholds on");
    doc["boundaries"] = per_symbol;
    doc["fit_rows"] = fit_rows;
  }
  doc["nbins"] = config.nbins;
  doc["mode"] = std::string(ModeName(config.mode));
  doc["seed"] = config.seed;
  auto fit_files = nlohmann::ordered_json::array();
  const int listed = config.mode == Mode::kGlobal ? n_fit : n;
  for (int f = 0; f < listed; ++f) {
    const auto& file = ws.files[static_cast<size_t>(f)];
    fit_files.push_back({{"name", file.name},
                         {"start", file.start},
                         {"end", file.end},
                         {"rows", ws.file_valid[static_cast<size_t>(f)]},
                         {"sampled", static_cast<bool>(sampled[static_cast<size_t>(f)])}});
  }
  doc["fit_files"] = fit_files;
  doc["files_total"] = n;
  doc["sample_size"] = all_pooled.size();
  doc["movement_stats"] = Stats(all_pooled);
  doc["warnings"] = warnings;
  doc["config"] = config.ToJson();
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Build

struct SymbolResult {
  int64_t labeled = 0;
  std::vector<int64_t> classes_fit;
  std::vector<int64_t> classes_rest;
  int64_t output_bytes = 0;
};

Result<SymbolResult> BuildSymbol(const SymbolInfo& info, const std::vector<double>& boundaries,
                                 const LabelConfig& config, const std::function<bool(int32_t, int64_t)>& in_fit,
                                 const std::shared_ptr<arrow::Schema>& base_schema,
                                 const std::filesystem::path& path) {
  // Readers need the label horizon the dataset was built with (the loader's purged splits) and
  // the features it is meant for (render's default).
  const dataset::LabelMetadata label_meta{.lookback_rows = config.lookback_rows,
                                          .lookforward_input = config.lookforward_input,
                                          .lookforward_offset = config.lookforward_offset,
                                          .nbins = config.nbins,
                                          .mode = std::string(ModeName(config.mode)),
                                          .features = config.features};
  ARROW_ASSIGN_OR_RAISE(auto schema, dataset::MakeSchema(*base_schema, label_meta));
  ARROW_ASSIGN_OR_RAISE(auto out, dataset::CreateFile(path, schema));

  SymbolResult result;
  result.classes_fit.assign(static_cast<size_t>(config.nbins), 0);
  result.classes_rest.assign(static_cast<size_t>(config.nbins), 0);
  MovementSeries series(config.lookback_rows, config.lookforward_offset, config.lookforward_input, info.valid);

  std::deque<Chunk> pending;  // chunks waiting for the movements of their last rows
  int64_t pending_start = 0;  // series index of pending.front()'s first row
  std::deque<double> movements;  // from pending_start on

  const auto emit = [&](const Chunk& chunk) -> Status {
    const int64_t n = chunk.rows->num_rows();
    arrow::DoubleBuilder movement_builder;
    arrow::UInt8Builder label_builder;
    ARROW_RETURN_NOT_OK(movement_builder.Reserve(n));
    ARROW_RETURN_NOT_OK(label_builder.Reserve(n));
    for (int64_t i = 0; i < n; ++i) {
      const double m = movements.front();
      movements.pop_front();
      if (std::isnan(m)) {
        movement_builder.UnsafeAppendNull();
        label_builder.UnsafeAppendNull();
      } else {
        const int label = Digitize(m, boundaries);
        movement_builder.UnsafeAppend(m);
        label_builder.UnsafeAppend(static_cast<uint8_t>(label));
        ++result.labeled;
        auto& counts = in_fit(chunk.file[static_cast<size_t>(i)], pending_start + i) ? result.classes_fit
                                                                                      : result.classes_rest;
        ++counts[static_cast<size_t>(label)];
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto movement_array, movement_builder.Finish());
    ARROW_ASSIGN_OR_RAISE(auto label_array, label_builder.Finish());
    auto columns = chunk.rows->columns();
    columns.push_back(movement_array);
    columns.push_back(label_array);
    ARROW_RETURN_NOT_OK(out->Write(*arrow::RecordBatch::Make(schema, n, std::move(columns))));
    pending_start += n;
    return Status::OK();
  };

  SeriesReader reader(info, std::numeric_limits<int>::max(), {});
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto chunk, reader.Next());
    if (!chunk) break;
    const auto& bid = Column<arrow::Int64Array>(*chunk->rows, kBestBid);
    const auto& ask = Column<arrow::Int64Array>(*chunk->rows, kBestAsk);
    for (int64_t i = 0; i < chunk->rows->num_rows(); ++i) {
      series.Push(bid.Value(i) + ask.Value(i), [&](double m, bool) { movements.push_back(m); });
    }
    pending.push_back(std::move(*chunk));
    while (!pending.empty() && pending_start + pending.front().rows->num_rows() <= series.emitted()) {
      ARROW_RETURN_NOT_OK(emit(pending.front()));
      pending.pop_front();
    }
  }
  if (!pending.empty()) return Status::Invalid("internal: rows left without a movement for ", info.symbol);
  ARROW_ASSIGN_OR_RAISE(result.output_bytes, out->Close());
  return result;
}

Result<std::vector<double>> BoundariesFrom(const nlohmann::ordered_json& thresholds, const std::string& symbol) {
  const auto& b = thresholds.at("boundaries");
  if (b.is_array()) return b.get<std::vector<double>>();
  if (b.contains(symbol)) return b.at(symbol).get<std::vector<double>>();
  return Status::KeyError("no thresholds for ", symbol);
}

Result<nlohmann::ordered_json> BuildOn(const Workspace& ws, const nlohmann::ordered_json& thresholds,
                                       const LabelConfig& config, const std::filesystem::path& out_dir,
                                       Clock::time_point start) {
  std::set<std::string> fit_names;
  for (const auto& f : thresholds.at("fit_files")) fit_names.insert(f.at("name").get<std::string>());
  std::vector<bool> file_in_fit(ws.files.size());
  for (const auto& f : ws.files) file_in_fit[static_cast<size_t>(f.index)] = fit_names.count(f.name) > 0;
  const bool per_symbol = config.mode == Mode::kPerSymbol;

  nlohmann::ordered_json report;
  auto symbols = nlohmann::ordered_json::object();
  int64_t rows_in = 0, valid = 0, labeled = 0, datasets = 0;
  for (const auto& [name, info] : ws.symbols) {
    nlohmann::ordered_json entry = {{"rows_in", info.rows_in}, {"valid", info.valid}};
    if (info.valid > 0) {
      entry["first_ts_event"] = info.first_ts;
      entry["last_ts_event"] = info.last_ts;
    }
    rows_in += info.rows_in;
    valid += info.valid;
    auto boundaries = BoundariesFrom(thresholds, name);
    if (info.valid < config.min_symbol_samples) {
      entry["skipped"] = fmt::format("{} valid rows, fewer than min_symbol_samples {}", info.valid,
                                     config.min_symbol_samples);
    } else if (!boundaries.ok()) {
      entry["skipped"] = "no thresholds were fitted for this symbol";
    } else {
      int64_t fit_rows = 0;
      if (per_symbol && thresholds.contains("fit_rows") && thresholds["fit_rows"].contains(name)) {
        fit_rows = thresholds["fit_rows"][name].get<int64_t>();
      }
      const auto in_fit = [&](int32_t file, int64_t t) {
        return per_symbol ? t < fit_rows : static_cast<bool>(file_in_fit[static_cast<size_t>(file)]);
      };
      const auto file_name = dataset::FileName(config.currency, name);
      ARROW_ASSIGN_OR_RAISE(auto result,
                            BuildSymbol(info, *boundaries, config, in_fit, ws.schema, out_dir / file_name));
      entry["labeled"] = result.labeled;
      entry["classes_fit"] = result.classes_fit;
      entry["classes_rest"] = result.classes_rest;
      entry["output"] = file_name;
      entry["output_bytes"] = result.output_bytes;
      labeled += result.labeled;
      ++datasets;
    }
    symbols[name] = entry;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report["mode"] = std::string(ModeName(config.mode));
  report["nbins"] = config.nbins;
  report["files"] = nlohmann::ordered_json::array();
  for (const auto& f : ws.files) {
    report["files"].push_back({{"name", f.name}, {"start", f.start}, {"fit", static_cast<bool>(file_in_fit[static_cast<size_t>(f.index)])}});
  }
  auto bad = nlohmann::ordered_json::array();
  for (const auto& b : ws.bad_files) bad.push_back({{"path", b.path}, {"error", b.error}});
  report["bad_files"] = bad;
  report["fit_files"] = std::vector<std::string>(fit_names.begin(), fit_names.end());
  report["symbols"] = symbols;
  report["totals"] = {{"rows_in", rows_in}, {"valid", valid}, {"labeled", labeled}, {"datasets", datasets}};
  report["seconds"] = seconds;
  report["rows_per_second"] = seconds > 0 ? static_cast<double>(rows_in) / seconds : 0.0;
  report["config"] = config.ToJson();
  return report;
}

Status WriteJson(const std::filesystem::path& path, const nlohmann::ordered_json& doc) {
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(path));
  const std::string text = doc.dump(2) + "\n";
  ARROW_RETURN_NOT_OK(file->stream()->Write(text.data(), static_cast<int64_t>(text.size())));
  return file->Commit();
}

std::filesystem::path ScratchDir(const std::filesystem::path& near) {
  static int counter = 0;
  return near / fmt::format("_tickforge-label-{}-{}", ::getpid(), counter++);
}

// Thresholds decide how movements and classes are computed; a config that says otherwise is
// an error rather than silently losing to one side.
Result<LabelConfig> ConfigForBuild(const nlohmann::ordered_json& thresholds, const LabelConfig& given) {
  LabelConfig fitted;
  ARROW_RETURN_NOT_OK(ApplyJson(thresholds.at("config"), &fitted, "thresholds.json config"));
  LabelConfig out = given;
  for (const char* key : {"lookback_rows", "lookforward_input", "lookforward_offset", "nbins", "mode",
                          "min_price", "max_price"}) {
    const auto theirs = fitted.ToJson()[key];
    if (given.explicit_keys.count(key) && given.ToJson()[key] != theirs) {
      return Status::Invalid("config sets ", key, " = ", given.ToJson()[key].dump(), " but thresholds.json was fitted with ",
                             theirs.dump(), "; labels must use the fitted value");
    }
  }
  out.lookback_rows = fitted.lookback_rows;
  out.lookforward_input = fitted.lookforward_input;
  out.lookforward_offset = fitted.lookforward_offset;
  out.nbins = fitted.nbins;
  out.mode = fitted.mode;
  out.min_price = fitted.min_price;
  out.max_price = fitted.max_price;
  return out;
}

}  // namespace

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

Result<nlohmann::ordered_json> Fit(const std::vector<std::string>& inputs, const LabelConfig& config,
                                   const std::filesystem::path& thresholds_path, const BuildOptions& options) {
  ARROW_RETURN_NOT_OK(config.Validate());
  ARROW_ASSIGN_OR_RAISE(auto files, ListInputs(inputs));
  // Every file is split, not only the fit files: the seeded draws number symbols over all inputs.
  LabelConfig scratch = config;
  scratch.keep_intermediate = false;
  const auto parent = thresholds_path.has_parent_path() ? thresholds_path.parent_path() : ".";
  ARROW_ASSIGN_OR_RAISE(auto ws, Split(files, scratch, ScratchDir(parent), options));
  ARROW_ASSIGN_OR_RAISE(auto doc, FitOn(*ws, config));
  ARROW_RETURN_NOT_OK(WriteJson(thresholds_path, doc));
  return doc;
}

Result<nlohmann::ordered_json> Build(const std::vector<std::string>& inputs, const nlohmann::ordered_json& thresholds,
                                     const LabelConfig& given, const std::filesystem::path& out_dir,
                                     const BuildOptions& options) {
  const auto start = Clock::now();
  ARROW_ASSIGN_OR_RAISE(auto config, ConfigForBuild(thresholds, given));
  ARROW_RETURN_NOT_OK(config.Validate());
  ARROW_ASSIGN_OR_RAISE(auto files, ListInputs(inputs));
  ARROW_ASSIGN_OR_RAISE(auto ws, Split(files, config, out_dir / "_intermediate", options));
  ARROW_ASSIGN_OR_RAISE(auto report, BuildOn(*ws, thresholds, config, out_dir, start));
  ARROW_RETURN_NOT_OK(WriteJson(out_dir / "build_report.json", report));
  return report;
}

Result<nlohmann::ordered_json> Run(const std::vector<std::string>& inputs, const LabelConfig& config,
                                   const std::filesystem::path& out_dir, const BuildOptions& options) {
  const auto start = Clock::now();
  ARROW_RETURN_NOT_OK(config.Validate());
  ARROW_ASSIGN_OR_RAISE(auto files, ListInputs(inputs));
  ARROW_ASSIGN_OR_RAISE(auto ws, Split(files, config, out_dir / "_intermediate", options));
  ARROW_ASSIGN_OR_RAISE(auto thresholds, FitOn(*ws, config));
  ARROW_RETURN_NOT_OK(WriteJson(out_dir / "thresholds.json", thresholds));
  ARROW_ASSIGN_OR_RAISE(auto report, BuildOn(*ws, thresholds, config, out_dir, start));
  report["thresholds"] = "thresholds.json";
  ARROW_RETURN_NOT_OK(WriteJson(out_dir / "build_report.json", report));
  return report;
}

std::string Summarize(const nlohmann::ordered_json& report) {
  std::string out;
  const auto& totals = report.at("totals");
  out += fmt::format("{} rows in, {} valid, {} labeled; {} datasets in {:.2f} s ({:.0f} rows/s)\n",
                     totals.at("rows_in").get<int64_t>(), totals.at("valid").get<int64_t>(),
                     totals.at("labeled").get<int64_t>(), totals.at("datasets").get<int64_t>(),
                     report.at("seconds").get<double>(), report.at("rows_per_second").get<double>());
  const auto share = [](const std::vector<int64_t>& counts) {
    int64_t total = 0;
    for (auto c : counts) total += c;
    std::string s;
    for (auto c : counts) s += fmt::format("{:>5.1f}", total ? 100.0 * static_cast<double>(c) / static_cast<double>(total) : 0.0);
    return s;
  };
  for (const auto& [name, entry] : report.at("symbols").items()) {
    if (entry.contains("skipped")) {
      out += fmt::format("  {:<10} skipped: {}\n", name, entry.at("skipped").get<std::string>());
      continue;
    }
    out += fmt::format("  {:<10} {:>10} rows  class % fit:  {}\n", name, entry.at("labeled").get<int64_t>(),
                       share(entry.at("classes_fit").get<std::vector<int64_t>>()));
    out += fmt::format("  {:<10} {:>10}       class % rest: {}\n", "", "",
                       share(entry.at("classes_rest").get<std::vector<int64_t>>()));
  }
  for (const auto& bad : report.at("bad_files")) {
    out += fmt::format("  skipped bad file {}: {}\n", bad.at("path").get<std::string>(), bad.at("error").get<std::string>());
  }
  return out;
}

}  // namespace tickforge::label
