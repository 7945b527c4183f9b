#include "tickforge/store/store.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/dataset/api.h>
#include <arrow/filesystem/localfs.h>
#include <arrow/io/file.h>
#include <arrow/util/thread_pool.h>
#include <fcntl.h>
#include <parquet/arrow/reader.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <list>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/metadata.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/store/ingest.h"
#include "tickforge/store/options.h"
#include "tickforge/util/io.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/time.h"
#include "tickforge/util/files.h"

namespace tickforge::store {

namespace fs = std::filesystem;
namespace cp = arrow::compute;
namespace ds = arrow::dataset;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Data type rules
// ---------------------------------------------------------------------------------------------

namespace {

const std::vector<std::string> kBinanceKeys = {"exchange", "symbol", "year", "month", "day"};
const std::vector<std::string> kKlineKeys = {"exchange", "symbol", "timeframe", "year", "month", "day"};
const std::vector<std::string> kDbnKeys = {"dataset", "symbol", "year", "month", "day"};

std::shared_ptr<arrow::DataType> PartitionType(const std::string& key) {
  if (key == "year") return arrow::int16();
  if (key == "month" || key == "day") return arrow::int8();
  return arrow::utf8();
}

bool IsDateKey(const std::string& key) { return key == "year" || key == "month" || key == "day"; }

std::shared_ptr<arrow::Schema> WithPartitionFields(arrow::FieldVector fields,
                                                   const std::vector<std::string>& keys) {
  for (const auto& key : keys) fields.push_back(arrow::field(key, PartitionType(key), false));
  return arrow::schema(std::move(fields));
}

}  // namespace

Result<DataTypeRules> RulesFor(const std::string& type) {
  using arrow::field;
  DataTypeRules rules;
  rules.type = type;
  if (type == "klines") {
    rules.partition_keys = kKlineKeys;
    rules.natural_key = {"timestamp"};
    rules.time_column = "timestamp";
    rules.required = WithPartitionFields(
        {field("timestamp", arrow::int64(), false), field("open", arrow::float64()),
         field("high", arrow::float64()), field("low", arrow::float64()),
         field("close", arrow::float64()), field("volume", arrow::float64())},
        kKlineKeys);
  } else if (type == "aggtrades") {
    rules.partition_keys = kBinanceKeys;
    rules.natural_key = {"trade_id"};
    rules.time_column = "timestamp";
    rules.required = WithPartitionFields(
        {field("timestamp", arrow::int64(), false), field("trade_id", arrow::int64(), false),
         field("trade_price", arrow::float64()), field("trade_quantity", arrow::float64()),
         field("trade_is_buyer_maker", arrow::boolean())},
        kBinanceKeys);
  } else if (type == "funding" || type == "futures") {
    rules.type = "funding";
    rules.partition_keys = kBinanceKeys;
    rules.natural_key = {"timestamp"};
    rules.time_column = "timestamp";
    rules.required = WithPartitionFields(
        {field("timestamp", arrow::int64(), false), field("funding_rate", arrow::float64())},
        kBinanceKeys);
  } else if (type == "generic" || type == "unified" || type == "labeled") {
    rules.partition_keys = {"symbol", "year", "month", "day"};
    rules.time_column = "timestamp";
    rules.required = WithPartitionFields({}, {"symbol"});
  } else {
    // A DBN schema's dataset: mbp10, mbp1, mbo, trades, tbbo, ohlcv, definition, ...
    bool known = false;
    for (int id = 0; id < 64 && !known; ++id) {
      std::string name(dbn::SchemaName(static_cast<dbn::Schema>(id)));
      if (name.empty() || name.find('?') != std::string::npos) continue;
      name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
      if (name.rfind("ohlcv", 0) == 0) name = "ohlcv";
      known = name == type;
    }
    if (!known) {
      return Status::Invalid("unknown data type '", type,
                             "' (klines, aggtrades, funding, generic, or a DBN schema such as mbp10, "
                             "mbo, trades, ohlcv)");
    }
    rules.partition_keys = kDbnKeys;
    rules.required = WithPartitionFields({}, {"dataset", "symbol"});
    // The time column is the DBN index column (ts_recv, or ts_event for bars); set on ingest.
  }
  return rules;
}

Status ValidatePartitionValue(const std::string& key, const std::string& value) {
  auto bad = [&](const char* why) {
    return Status::Invalid("invalid value for partition key '", key, "': '", value, "' (", why, ")");
  };
  if (value.empty()) return bad("empty");
  if (value == "." || value.find("..") != std::string::npos) return bad("'..' could leave the dataset folder");
  if (IsHiddenName(value)) return bad("a leading '.' or '_' hides the file from readers");
  for (unsigned char c : value) {
    if (c == '/' || c == '\\') return bad("path separator");
    if (c == '%' || c == '=') return bad("'%' and '=' are read back differently by Hive readers");
    if (c < 0x20 || c == 0x7f) return bad("control character");
  }
  return Status::OK();
}

Status WriteOptions::Validate() const {
  ARROW_RETURN_NOT_OK(ParquetCompression(compression).status());
  if (max_rows_per_file <= 0 || min_rows_per_group <= 0 || max_rows_per_group <= 0) {
    return Status::Invalid("max_rows_per_file, min_rows_per_group and max_rows_per_group must be positive");
  }
  if (min_rows_per_group > max_rows_per_group) {
    return Status::Invalid("min_rows_per_group (", min_rows_per_group, ") exceeds max_rows_per_group (",
                           max_rows_per_group, ")");
  }
  if (min_rows_per_group >= max_rows_per_file) {
    return Status::Invalid("min_rows_per_group (", min_rows_per_group,
                           ") must be smaller than max_rows_per_file (", max_rows_per_file, ")");
  }
  for (const auto& [key, value] : constants) ARROW_RETURN_NOT_OK(ValidatePartitionValue(key, value));
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Predicates
// ---------------------------------------------------------------------------------------------

namespace {

Value ParseValue(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  char* end = nullptr;
  errno = 0;
  long long integer = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && end == text.c_str() + text.size() && errno == 0) return static_cast<int64_t>(integer);
  double number = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) return number;
  return text;
}

std::string ValueText(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) return v;
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else return fmt::format("{}", v);
      },
      value);
}

std::string Trim(std::string text) {
  const auto begin = text.find_first_not_of(" \t");
  const auto end = text.find_last_not_of(" \t");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

}  // namespace

Result<Predicate> ParsePredicate(const std::string& text) {
  Predicate predicate;
  const auto in_pos = text.find(" in ");
  if (in_pos != std::string::npos) {
    predicate.column = Trim(text.substr(0, in_pos));
    predicate.op = "in";
    std::string rest = text.substr(in_pos + 4);
    size_t start = 0;
    while (start <= rest.size()) {
      const auto comma = rest.find(',', start);
      const std::string item = Trim(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (!item.empty()) predicate.values.push_back(ParseValue(item));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    static const char* kOps[] = {"==", "!=", "<=", ">=", "=", "<", ">"};
    size_t pos = std::string::npos;
    for (const char* op : kOps) {
      pos = text.find(op);
      if (pos != std::string::npos) {
        predicate.op = op;
        break;
      }
    }
    if (pos == std::string::npos) {
      return Status::Invalid("cannot parse filter '", text, "' (COLUMN OP VALUE with OP one of == = != < <= > >=, or COLUMN in A,B)");
    }
    predicate.column = Trim(text.substr(0, pos));
    predicate.values.push_back(ParseValue(Trim(text.substr(pos + predicate.op.size()))));
  }
  if (predicate.column.empty() || predicate.values.empty()) {
    return Status::Invalid("cannot parse filter '", text, "': a column and a value are needed");
  }
  return predicate;
}

namespace {

Status CheckOp(const Predicate& p) {
  static const std::vector<std::string> kOps = {"==", "=", "!=", "<", "<=", ">", ">=", "in"};
  if (std::find(kOps.begin(), kOps.end(), p.op) == kOps.end()) {
    return Status::Invalid("filter on '", p.column, "': unknown operator '", p.op, "'");
  }
  if (p.values.empty() || (p.op != "in" && p.values.size() != 1)) {
    return Status::Invalid("filter on '", p.column, "': operator '", p.op, "' takes ",
                           p.op == "in" ? "one or more values" : "one value");
  }
  return Status::OK();
}

/// Return the literal of `value` in the column's type, with a clear error when it does not fit.
Result<arrow::Datum> Literal(const Value& value, const std::shared_ptr<arrow::DataType>& type,
                             const std::string& column) {
  std::shared_ptr<arrow::Scalar> scalar = std::visit(
      [](const auto& v) -> std::shared_ptr<arrow::Scalar> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) return arrow::MakeScalar(v);
        else if constexpr (std::is_same_v<T, bool>) return arrow::MakeScalar(v);
        else if constexpr (std::is_same_v<T, int64_t>) return arrow::MakeScalar(v);
        else return arrow::MakeScalar(v);
      },
      value);
  if (scalar->type->Equals(*type)) return arrow::Datum(scalar);
  auto cast = scalar->CastTo(type);
  if (!cast.ok()) {
    return Status::Invalid("filter on '", column, "': value '", ValueText(value), "' is not a ",
                           type->ToString());
  }
  return arrow::Datum(*cast);
}

Result<cp::Expression> ToExpression(const Predicate& p, const arrow::Schema& schema) {
  ARROW_RETURN_NOT_OK(CheckOp(p));
  auto field = schema.GetFieldByName(p.column);
  if (!field) {
    return Status::KeyError("filter on unknown column '", p.column, "' (columns: ",
                            fmt::format("{}", fmt::join(schema.field_names(), ", ")), ")");
  }
  const cp::Expression ref = cp::field_ref(p.column);
  if (p.op == "in") {
    std::vector<cp::Expression> terms;
    for (const auto& value : p.values) {
      ARROW_ASSIGN_OR_RAISE(auto literal, Literal(value, field->type(), p.column));
      terms.push_back(cp::equal(ref, cp::literal(literal)));
    }
    return cp::or_(terms);
  }
  ARROW_ASSIGN_OR_RAISE(auto literal, Literal(p.values[0], field->type(), p.column));
  const cp::Expression rhs = cp::literal(literal);
  if (p.op == "==" || p.op == "=") return cp::equal(ref, rhs);
  if (p.op == "!=") return cp::not_equal(ref, rhs);
  if (p.op == "<") return cp::less(ref, rhs);
  if (p.op == "<=") return cp::less_equal(ref, rhs);
  if (p.op == ">") return cp::greater(ref, rhs);
  return cp::greater_equal(ref, rhs);
}

/// The partition values of a file as an expression Arrow can simplify filters against.
Result<cp::Expression> PartitionExpression(const FileEntry& file, const arrow::Schema& schema) {
  std::vector<cp::Expression> terms;
  for (const auto& [key, value] : file.partition) {
    auto field = schema.GetFieldByName(key);
    if (!field) return Status::Invalid("partition key '", key, "' is not in the dataset schema");
    ARROW_ASSIGN_OR_RAISE(auto literal, Literal(ParseValue(value), field->type(), key));
    if (field->type()->id() == arrow::Type::STRING) literal = arrow::Datum(arrow::MakeScalar(value));
    terms.push_back(cp::equal(cp::field_ref(key), cp::literal(literal)));
  }
  return terms.empty() ? cp::literal(true) : cp::and_(terms);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Row identity: a 128-bit hash of a row's natural key
// ---------------------------------------------------------------------------------------------

namespace {

struct Key128 {
  uint64_t a;
  uint64_t b;
  bool operator==(const Key128&) const = default;
};
struct Key128Hash {
  size_t operator()(const Key128& k) const { return k.a; }
};

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline void Absorb(Key128& key, uint64_t value) {
  key.a = Mix(key.a ^ value);
  key.b = Mix(key.b + value * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
}

uint64_t HashBytes(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL ^ bytes.size();
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

/// Fold column `array` into the row keys.
Status AbsorbColumn(const arrow::Array& array, std::vector<Key128>& keys) {
  const int64_t n = array.length();
  constexpr uint64_t kNull = 0x6e756c6c6e756c6cULL;
  auto each = [&](auto&& get) {
    for (int64_t i = 0; i < n; ++i) Absorb(keys[i], array.IsNull(i) ? kNull : get(i));
  };
  switch (array.type_id()) {
    case arrow::Type::INT8: { auto& a = static_cast<const arrow::Int8Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::INT16: { auto& a = static_cast<const arrow::Int16Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::INT32: { auto& a = static_cast<const arrow::Int32Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::INT64: { auto& a = static_cast<const arrow::Int64Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::UINT8: { auto& a = static_cast<const arrow::UInt8Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::UINT16: { auto& a = static_cast<const arrow::UInt16Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::UINT32: { auto& a = static_cast<const arrow::UInt32Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::UINT64: { auto& a = static_cast<const arrow::UInt64Array&>(array); each([&](int64_t i) { return a.Value(i); }); break; }
    case arrow::Type::TIMESTAMP: { auto& a = static_cast<const arrow::TimestampArray&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::BOOL: { auto& a = static_cast<const arrow::BooleanArray&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)) + 2; }); break; }
    case arrow::Type::DOUBLE: {
      auto& a = static_cast<const arrow::DoubleArray&>(array);
      each([&](int64_t i) { double v = a.Value(i) == 0.0 ? 0.0 : a.Value(i); uint64_t bits; std::memcpy(&bits, &v, 8); return bits; });
      break;
    }
    case arrow::Type::FLOAT: {
      auto& a = static_cast<const arrow::FloatArray&>(array);
      each([&](int64_t i) { float v = a.Value(i) == 0.0f ? 0.0f : a.Value(i); uint32_t bits; std::memcpy(&bits, &v, 4); return uint64_t(bits); });
      break;
    }
    case arrow::Type::STRING: { auto& a = static_cast<const arrow::StringArray&>(array); each([&](int64_t i) { return HashBytes(a.GetView(i)); }); break; }
    case arrow::Type::LARGE_STRING: { auto& a = static_cast<const arrow::LargeStringArray&>(array); each([&](int64_t i) { return HashBytes(a.GetView(i)); }); break; }
    default:
      for (int64_t i = 0; i < n; ++i) {
        ARROW_ASSIGN_OR_RAISE(auto scalar, array.GetScalar(i));
        Absorb(keys[i], array.IsNull(i) ? kNull : HashBytes(scalar->ToString()));
      }
  }
  return Status::OK();
}

/// Return the natural-key hash of every row (all columns when `key_columns` is empty).
Result<std::vector<Key128>> RowKeys(const arrow::RecordBatch& batch,
                                    const std::vector<std::string>& key_columns) {
  std::vector<Key128> keys(batch.num_rows(), Key128{0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL});
  if (key_columns.empty()) {
    for (const auto& column : batch.columns()) ARROW_RETURN_NOT_OK(AbsorbColumn(*column, keys));
  } else {
    for (const auto& name : key_columns) {
      auto column = batch.GetColumnByName(name);
      if (!column) return Status::Invalid("natural key column '", name, "' is missing");
      ARROW_RETURN_NOT_OK(AbsorbColumn(*column, keys));
    }
  }
  return keys;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Transactions: the writer lock, staging, commit and recovery
// ---------------------------------------------------------------------------------------------

namespace {

Status EnsureDirectory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError(dir.string(), ": ", ec.message());
  return Status::OK();
}

Status MoveFile(const fs::path& from, const fs::path& to) {
  ARROW_RETURN_NOT_OK(EnsureDirectory(to.parent_path()));
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status::IOError("cannot move ", from.string(), " to ", to.string(), ": ", std::strerror(errno));
  }
  return Status::OK();
}

/// Flush every written file of the store's filesystem to disk with one call.
Status SyncStore(const fs::path& root) {
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(root.string(), ": ", std::strerror(errno));
  const int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError(root.string(), ": syncfs: ", std::strerror(errno));
  return Status::OK();
}

/// One commit in the making. Holding it holds the store's writer lock.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> Begin(const StorePaths& paths, std::string operation) {
    ARROW_RETURN_NOT_OK(EnsureDirectory(paths.meta));
    const int fd = ::open(paths.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IOError(paths.lock.string(), ": ", std::strerror(errno));
    if (::flock(fd, LOCK_EX) != 0) {
      ::close(fd);
      return Status::IOError(paths.lock.string(), ": cannot lock: ", std::strerror(errno));
    }
    std::unique_ptr<Transaction> txn(new Transaction(paths, fd, std::move(operation)));
    ARROW_RETURN_NOT_OK(txn->Recover());
    ARROW_ASSIGN_OR_RAISE(txn->base_, ReadSnapshot(paths));
    txn->next_ = txn->base_;
    txn->next_.version = txn->base_.version + 1;
    txn->staging_ = paths.Staging(txn->next_.version);
    return txn;
  }

  ~Transaction() {
    if (!committed_) {
      std::error_code ec;
      fs::remove_all(staging_, ec);
    }
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
  }

  const Snapshot& base() const { return base_; }
  /// Number the commit's files: unique across all its writers, since staging is one flat folder.
  int64_t NextFileNumber() { return next_file_.fetch_add(1); }
  Snapshot& next() { return next_; }
  int64_t version() const { return next_.version; }
  const fs::path& staging() const { return staging_; }

  /// Commit: the log entry is the commit point; then staged files move into place and the
  /// files this commit dropped move to the retired folder (older snapshots still read them).
  Status Commit() {
    next_.operation = operation_;
    next_.committed_at = UtcNow();
    std::error_code ec;
    // Every file the snapshot adds must be staged: never commit a listing of missing data.
    std::set<std::string> names;
    for (const auto& [name, dataset] : next_.datasets) {
      for (const auto& file : dataset.files) {
        if (file.version != next_.version) continue;
        if (!names.insert(paths_.Staged(file).string()).second || !fs::exists(paths_.Staged(file), ec)) {
          return Status::UnknownError("commit ", next_.version, ": staged file for ", file.path,
                                      " is missing or named twice; nothing was committed");
        }
      }
    }
    if (fs::exists(staging_, ec)) ARROW_RETURN_NOT_OK(SyncStore(paths_.root));
    ARROW_RETURN_NOT_OK(WriteSnapshot(paths_, next_));
    committed_ = true;
    ARROW_RETURN_NOT_OK(FinishMoves(base_, next_));
    return WriteMetadataJson();
  }

 private:
  Transaction(const StorePaths& paths, int fd, std::string operation)
      : paths_(paths), lock_fd_(fd), operation_(std::move(operation)) {}

  /// Move the files of `after` still in staging into place and retire what `before` had and
  /// `after` dropped. Running it twice is harmless, which is what recovery relies on.
  Status FinishMoves(const Snapshot& before, const Snapshot& after) {
    std::error_code ec;
    for (const auto& [name, dataset] : after.datasets) {
      for (const auto& file : dataset.files) {
        if (file.version != after.version) continue;
        // Plain rename first: the folder exists (made while writing) and this runs per file.
        const fs::path staged = paths_.Staged(file);
        const fs::path target = paths_.root / file.path;
        if (::rename(staged.c_str(), target.c_str()) != 0 && fs::exists(staged, ec)) {
          ARROW_RETURN_NOT_OK(MoveFile(staged, target));
        }
      }
    }
    for (const auto& [name, dataset] : before.datasets) {
      auto kept = after.datasets.find(name);
      for (const auto& file : dataset.files) {
        bool still_listed = false;
        if (kept != after.datasets.end()) {
          for (const auto& other : kept->second.files) {
            if (other.path == file.path) {
              still_listed = true;
              break;
            }
          }
        }
        const fs::path in_place = paths_.root / file.path;
        if (!still_listed && fs::exists(in_place, ec)) {
          ARROW_RETURN_NOT_OK(MoveFile(in_place, paths_.retired / file.path));
        }
      }
    }
    fs::remove_all(paths_.Staging(after.version), ec);
    return Status::OK();
  }

  /// Finish or undo what a writer killed mid-commit left: roll the newest commit forward,
  /// drop staging folders of commits that never happened.
  Status Recover() {
    std::error_code ec;
    const fs::path staging_root = paths_.meta / "staging";
    if (!fs::exists(staging_root, ec)) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(int64_t latest, LatestVersion(paths_));
    for (const auto& entry : fs::directory_iterator(staging_root, ec)) {
      int64_t version = -1;
      try {
        version = std::stoll(entry.path().filename().string());
      } catch (const std::exception&) {
      }
      if (version > 0 && version == latest) {
        ARROW_ASSIGN_OR_RAISE(auto after, ReadSnapshot(paths_, latest));
        ARROW_ASSIGN_OR_RAISE(auto before, ReadSnapshot(paths_, latest - 1));
        ARROW_RETURN_NOT_OK(FinishMoves(before, after));
      }
      fs::remove_all(entry.path(), ec);
    }
    return Status::OK();
  }

  /// metadata.json (the seed's): what each dataset holds, for people and other tools.
  Status WriteMetadataJson() {
    json root = SummaryJson(next_);
    root["format"] = "tickforge.store";
    for (auto& [name, dataset] : root["datasets"].items()) {
      dataset["path"] = name;
      dataset["partitioning"] = "hive";
    }
    ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(paths_.root / "metadata.json"));
    ARROW_RETURN_NOT_OK(file->stream()->Write(root.dump(2) + "\n"));
    ARROW_RETURN_NOT_OK(file->Commit());
    const fs::path config = paths_.root / "_config.json";
    if (!fs::exists(config)) {
      json partitioning = {{"klines", kKlineKeys}, {"aggtrades", kBinanceKeys},
                         {"funding", kBinanceKeys}, {"dbn", kDbnKeys}};
    json defaults = {{"format", "tickforge.store"},
                       {"partitioning", partitioning},
                       {"compression", "zstd"},
                       {"timestamp_unit", "ms (Binance types), ns (DBN types)"},
                       {"max_rows_per_file", 5'000'000},
                       {"incremental_updates", "use latest_timestamp(dataset, symbol) to resume"}};
      ARROW_ASSIGN_OR_RAISE(auto out, AtomicFile::Create(config));
      ARROW_RETURN_NOT_OK(out->stream()->Write(defaults.dump(2) + "\n"));
      ARROW_RETURN_NOT_OK(out->Commit());
    }
    return Status::OK();
  }

  const StorePaths& paths_;
  int lock_fd_;
  std::string operation_;
  Snapshot base_;
  Snapshot next_;
  fs::path staging_;
  std::atomic<int64_t> next_file_{0};
  bool committed_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Partitioned writing with deduplication
// ---------------------------------------------------------------------------------------------

namespace {

/// Days since the epoch of a time value (int64 milliseconds, or an Arrow timestamp).
Result<std::function<int64_t(int64_t)>> DayOf(const arrow::DataType& type, const std::string& column) {
  int64_t per_day = 0;
  if (type.id() == arrow::Type::INT64) {
    per_day = 86'400'000LL;  // Binance times are milliseconds
  } else if (type.id() == arrow::Type::TIMESTAMP) {
    switch (static_cast<const arrow::TimestampType&>(type).unit()) {
      case arrow::TimeUnit::SECOND: per_day = 86'400LL; break;
      case arrow::TimeUnit::MILLI: per_day = 86'400'000LL; break;
      case arrow::TimeUnit::MICRO: per_day = 86'400'000'000LL; break;
      case arrow::TimeUnit::NANO: per_day = 86'400'000'000'000LL; break;
    }
  } else {
    return Status::TypeError("time column '", column, "' is ", type.ToString(),
                             "; int64 milliseconds or a timestamp is needed");
  }
  return std::function<int64_t(int64_t)>([per_day](int64_t t) {
    int64_t d = t / per_day;
    return (t % per_day < 0) ? d - 1 : d;
  });
}

Result<std::shared_ptr<arrow::Array>> ConformColumn(const std::shared_ptr<arrow::Array>& column,
                                                    const std::shared_ptr<arrow::Field>& field) {
  if (column->type()->Equals(*field->type())) return column;
  cp::CastOptions options = cp::CastOptions::Safe(field->type());
  auto cast = cp::Cast(*column, options);
  if (cast.ok()) return cast->make_array();
  // Name the first value that does not convert, so the user can find it in the source.
  for (int64_t i = 0; i < column->length(); ++i) {
    auto one = cp::Cast(*column->Slice(i, 1), options);
    if (!one.ok()) {
      ARROW_ASSIGN_OR_RAISE(auto scalar, column->GetScalar(i));
      return Status::TypeError("column '", field->name(), "': row ", i, " value '", scalar->ToString(),
                               "' does not convert from ", column->type()->ToString(), " to ",
                               field->type()->ToString());
    }
  }
  return cast.status();
}

/// The state of one partition while a commit writes to it.
struct Partition {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> values;
  std::string dir;  // dataset/key=value/...
  struct Counts {
    int64_t existing = 0;
    int64_t seen = 0;
  };
  bool keys_loaded = false;
  std::unordered_map<Key128, Counts, Key128Hash> keys;
  std::unique_ptr<ParquetFile> writer;
  FileEntry open_file;
  std::vector<FileEntry> closed;
  uint64_t last_use = 0;
};

class PartitionedWriter {
 public:
  PartitionedWriter(const StorePaths& paths, Transaction& txn, DatasetEntry& dataset,
                    const WriteOptions& options, bool writer_threads)
      : paths_(paths), txn_(txn), dataset_(dataset), options_(options) {
    parquet_.compression = *ParquetCompression(options.compression);
    parquet_.row_group_rows = options.max_rows_per_group;
    parquet_.use_threads = writer_threads;
    parquet_.atomic = false;  // staging is private to the transaction until the commit
    for (const auto& field : dataset.schema->fields()) {
      if (std::find(dataset.partition_keys.begin(), dataset.partition_keys.end(), field->name()) ==
          dataset.partition_keys.end()) {
        file_fields_.push_back(field);
      }
    }
    file_schema_ = arrow::schema(file_fields_);
    if (!options.metadata.empty()) {
      auto metadata = std::make_shared<arrow::KeyValueMetadata>();
      for (const auto& [k, v] : options.metadata) metadata->Append(k, v);
      file_schema_ = file_schema_->WithMetadata(metadata);
    }
  }

  /// Conform a batch to the dataset, split it by partition, drop known rows, write the rest.
  Status Append(const std::shared_ptr<arrow::RecordBatch>& input, const std::string& origin) {
    if (input->num_rows() == 0) return Status::OK();
    rows_in_ += input->num_rows();
    // Columns in the dataset's file order, converted with checked casts.
    arrow::ArrayVector columns;
    for (const auto& field : file_fields_) {
      auto column = input->GetColumnByName(field->name());
      if (!column) {
        ARROW_ASSIGN_OR_RAISE(column, arrow::MakeArrayOfNull(field->type(), input->num_rows()));
      } else {
        auto conformed = ConformColumn(column, field);
        if (!conformed.ok()) return WithPath(conformed.status(), origin);
        column = *conformed;
      }
      if (!field->nullable() && column->null_count() > 0) {
        return WithPath(Status::Invalid("column '", field->name(), "' has nulls"), origin);
      }
      columns.push_back(std::move(column));
    }
    auto batch = arrow::RecordBatch::Make(file_schema_, input->num_rows(), std::move(columns));

    // Partition of every row: key columns (or constants) plus the day of the time column.
    auto time_column = batch->GetColumnByName(dataset_.time_column);
    ARROW_ASSIGN_OR_RAISE(auto day_of, DayOf(*time_column->type(), dataset_.time_column));
    ARROW_ASSIGN_OR_RAISE(auto time_values, time_column->View(arrow::int64()));
    const auto& times = static_cast<const arrow::Int64Array&>(*time_values);
    std::vector<std::shared_ptr<arrow::StringArray>> key_columns;
    std::vector<std::string> constants;
    for (const auto& key : dataset_.partition_keys) {
      if (IsDateKey(key)) continue;
      auto it = options_.constants.find(key);
      if (it != options_.constants.end()) {
        constants.push_back(it->second);
        key_columns.push_back(nullptr);
        continue;
      }
      auto column = input->GetColumnByName(key);
      if (!column) {
        return WithPath(Status::Invalid("no value for partition key '", key, "' (no column and no constant)"), origin);
      }
      ARROW_ASSIGN_OR_RAISE(auto text, cp::Cast(*column, arrow::utf8()));
      if (text->null_count() > 0) {
        return WithPath(Status::Invalid("partition key column '", key, "' has nulls"), origin);
      }
      key_columns.push_back(std::static_pointer_cast<arrow::StringArray>(text));
      constants.emplace_back();
    }
    // Rows come in long runs of one partition (time-sorted, one symbol per file), so a
    // partition is looked up only where the run changes.
    // Row indices per partition, gathered in the same pass.
    std::vector<std::vector<int64_t>> rows_of;
    std::vector<Partition*> touched;
    int64_t run_day = 0;
    int current = -1;
    for (int64_t i = 0; i < batch->num_rows(); ++i) {
      if (times.IsNull(i)) return WithPath(Status::Invalid("row ", i, ": time column '", dataset_.time_column, "' is null"), origin);
      const int64_t day = day_of(times.Value(i));
      bool same = current >= 0 && day == run_day;
      for (size_t k = 0; same && k < key_columns.size(); ++k) {
        same = !key_columns[k] || key_columns[k]->GetView(i) == key_columns[k]->GetView(i - 1);
      }
      if (!same) {
        std::vector<std::string> values;
        for (size_t k = 0; k < key_columns.size(); ++k) {
          values.push_back(key_columns[k] ? std::string(key_columns[k]->GetView(i)) : constants[k]);
        }
        ARROW_ASSIGN_OR_RAISE(Partition * partition, Find(values, day));
        auto pos = std::find(touched.begin(), touched.end(), partition);
        current = static_cast<int>(pos - touched.begin());
        if (pos == touched.end()) {
          touched.push_back(partition);
          rows_of.emplace_back();
        }
        run_day = day;
      }
      rows_of[current].push_back(i);
    }
    for (size_t p = 0; p < touched.size(); ++p) {
      std::shared_ptr<arrow::RecordBatch> slice;
      if (touched.size() == 1) {
        slice = batch;
      } else {
        const auto& rows = rows_of[p];
        auto indices = std::make_shared<arrow::Int64Array>(static_cast<int64_t>(rows.size()),
                                                           arrow::Buffer::Wrap(rows));
        ARROW_ASSIGN_OR_RAISE(auto taken, cp::Take(batch, indices));
        slice = taken.record_batch();
      }
      auto status = WriteSlice(*touched[p], slice);
      if (!status.ok()) return WithPath(status, origin);
    }
    return Status::OK();
  }

  /// Close every file and return the entries of the files written.
  Result<std::vector<FileEntry>> Finish() {
    std::vector<FileEntry> files;
    for (auto& [_, partition] : partitions_) {
      ARROW_RETURN_NOT_OK(CloseFile(*partition));
      for (auto& file : partition->closed) files.push_back(std::move(file));
    }
    std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    return files;
  }

  int64_t rows_in() const { return rows_in_; }
  int64_t rows_duplicate() const { return rows_duplicate_; }

 private:
  static constexpr size_t kMaxOpenFiles = 128;

  Result<Partition*> Find(const std::vector<std::string>& values, int64_t day) {
    const uint32_t ymd = YmdFromDays(day);
    std::string id = fmt::format("{}", fmt::join(values, "\x1f")) + "\x1f" + std::to_string(ymd);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = partitions_.find(id);
    if (it != partitions_.end()) return it->second.get();
    auto partition = std::make_unique<Partition>();
    size_t k = 0;
    partition->dir = dataset_.name;
    for (const auto& key : dataset_.partition_keys) {
      std::string value;
      if (key == "year") value = std::to_string(ymd / 10000);
      else if (key == "month") value = std::to_string(ymd / 100 % 100);
      else if (key == "day") value = std::to_string(ymd % 100);
      else value = values[k++];
      ARROW_RETURN_NOT_OK(ValidatePartitionValue(key, value));
      partition->values.emplace_back(key, value);
      partition->dir += "/" + key + "=" + value;
    }
    auto* raw = partition.get();
    partitions_.emplace(std::move(id), std::move(partition));
    return raw;
  }

  /// Load the keys the partition already holds: committed files, and files this commit wrote
  /// before the partition's state was dropped to bound memory.
  Status LoadKeys(Partition& partition) {
    std::vector<fs::path> sources;
    for (const auto& file : txn_.base().datasets.count(dataset_.name)
                                ? txn_.base().datasets.at(dataset_.name).files
                                : std::vector<FileEntry>{}) {
      if (file.partition == partition.values) sources.push_back(ResolveFile(paths_, file));
    }
    for (const auto& file : partition.closed) sources.push_back(paths_.Staged(file));
    for (const auto& path : sources) {
      ARROW_ASSIGN_OR_RAISE(auto input, arrow::io::ReadableFile::Open(path.string()));
      ARROW_ASSIGN_OR_RAISE(auto reader, parquet::arrow::OpenFile(input, arrow::default_memory_pool()));
      std::shared_ptr<arrow::Schema> schema;
      ARROW_RETURN_NOT_OK(reader->GetSchema(&schema));
      std::vector<int> indices;
      const auto names = dataset_.natural_key.empty() ? schema->field_names() : dataset_.natural_key;
      for (const auto& name : names) {
        const int index = schema->GetFieldIndex(name);
        if (index < 0) return Status::Invalid(path.string(), ": natural key column '", name, "' is missing");
        indices.push_back(index);
      }
      std::shared_ptr<arrow::Table> table;
      ARROW_RETURN_NOT_OK(reader->ReadTable(indices, &table));
      ARROW_ASSIGN_OR_RAISE(auto combined, table->CombineChunksToBatch());
      ARROW_ASSIGN_OR_RAISE(auto keys, RowKeys(*combined, names));
      for (const auto& key : keys) ++partition.keys[key].existing;
    }
    partition.keys_loaded = true;
    return Status::OK();
  }

  Status WriteSlice(Partition& partition, std::shared_ptr<arrow::RecordBatch> slice) {
    std::unique_lock<std::mutex> lock(partition.mutex);
    partition.last_use = ++use_clock_;
    if (options_.dedup) {
      if (!partition.keys_loaded) ARROW_RETURN_NOT_OK(LoadKeys(partition));
      ARROW_ASSIGN_OR_RAISE(auto keys, RowKeys(*slice, dataset_.natural_key));
      const bool multiset = dataset_.natural_key.empty();
      arrow::BooleanBuilder keep;
      ARROW_RETURN_NOT_OK(keep.Reserve(slice->num_rows()));
      int64_t dropped = 0;
      for (const auto& key : keys) {
        auto& counts = partition.keys[key];
        // A set keeps a key once; a multiset keeps the k-th copy of a row only when the
        // store holds fewer than k+1 copies.
        const bool kept = multiset ? counts.seen >= counts.existing : counts.seen + counts.existing == 0;
        ++counts.seen;
        keep.UnsafeAppend(kept);
        dropped += !kept;
      }
      if (dropped > 0) {
        rows_duplicate_ += dropped;
        ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
        ARROW_ASSIGN_OR_RAISE(auto filtered, cp::Filter(slice, mask));
        slice = filtered.record_batch();
      }
    }
    int64_t offset = 0;
    while (offset < slice->num_rows()) {
      if (!partition.writer) ARROW_RETURN_NOT_OK(OpenFile(partition));
      const int64_t room = options_.max_rows_per_file - partition.open_file.rows;
      const int64_t n = std::min(room, slice->num_rows() - offset);
      auto part = slice->Slice(offset, n);
      ARROW_RETURN_NOT_OK(partition.writer->Write(*part));
      auto time_column = part->GetColumnByName(dataset_.time_column);
      ARROW_ASSIGN_OR_RAISE(auto time_values, time_column->View(arrow::int64()));
      const auto& times = static_cast<const arrow::Int64Array&>(*time_values);
      int64_t lo = times.Value(0), hi = times.Value(0);
      for (int64_t i = 1; i < times.length(); ++i) {
        lo = std::min(lo, times.Value(i));
        hi = std::max(hi, times.Value(i));
      }
      if (partition.open_file.rows == 0) {
        partition.open_file.min_time = lo;
        partition.open_file.max_time = hi;
      } else {
        partition.open_file.min_time = std::min(partition.open_file.min_time, lo);
        partition.open_file.max_time = std::max(partition.open_file.max_time, hi);
      }
      partition.open_file.rows += n;
      offset += n;
      if (partition.open_file.rows >= options_.max_rows_per_file) ARROW_RETURN_NOT_OK(CloseFile(partition));
    }
    lock.unlock();
    return EvictIdle(&partition);
  }

  Status OpenFile(Partition& partition) {
    const int64_t seq = txn_.NextFileNumber();
    partition.open_file = FileEntry{};
    partition.open_file.path = fmt::format("{}/part-{:06d}-{:05d}.parquet", partition.dir, txn_.version(), seq);
    partition.open_file.partition = partition.values;
    partition.open_file.version = txn_.version();
    // The partition's folder is made now, while writers run in parallel, so the commit only
    // renames; an empty folder is invisible to every reader.
    ARROW_RETURN_NOT_OK(EnsureDirectory(paths_.root / partition.dir));
    ARROW_ASSIGN_OR_RAISE(partition.writer,
                          ParquetFile::Create(paths_.Staged(partition.open_file), file_schema_, parquet_));
    open_files_.fetch_add(1);
    return Status::OK();
  }

  Status CloseFile(Partition& partition) {
    if (!partition.writer) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(partition.open_file.bytes, partition.writer->Close());
    partition.writer.reset();
    open_files_.fetch_sub(1);
    if (partition.open_file.rows > 0) partition.closed.push_back(partition.open_file);
    return Status::OK();
  }

  /// Bound open files and key sets: close the least recently used partitions beyond the limit.
  /// Their keys are reloaded from the written files if rows for them come again.
  Status EvictIdle(Partition* keep) {
    if (open_files_.load() <= kMaxOpenFiles) return Status::OK();
    std::vector<Partition*> candidates;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [_, partition] : partitions_) {
        if (partition.get() != keep && partition->writer) candidates.push_back(partition.get());
      }
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const Partition* a, const Partition* b) { return a->last_use < b->last_use; });
    for (Partition* partition : candidates) {
      if (open_files_.load() <= kMaxOpenFiles / 2) break;
      std::unique_lock<std::mutex> lock(partition->mutex, std::try_to_lock);
      if (!lock.owns_lock() || !partition->writer) continue;
      ARROW_RETURN_NOT_OK(CloseFile(*partition));
      partition->keys.clear();
      partition->keys_loaded = false;
    }
    return Status::OK();
  }

  const StorePaths& paths_;
  Transaction& txn_;
  DatasetEntry& dataset_;
  const WriteOptions& options_;
  ParquetWriteOptions parquet_;
  arrow::FieldVector file_fields_;
  std::shared_ptr<arrow::Schema> file_schema_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Partition>> partitions_;
  std::atomic<size_t> open_files_{0};
  std::atomic<uint64_t> use_clock_{0};
  std::atomic<int64_t> rows_in_{0};
  std::atomic<int64_t> rows_duplicate_{0};
};

/// Append to `fields` those of `more` whose names it lacks (first type seen wins).
void AddMissingFields(arrow::FieldVector& fields, const arrow::FieldVector& more) {
  for (const auto& field : more) {
    bool present = false;
    for (const auto& have : fields) present = present || have->name() == field->name();
    if (!present) fields.push_back(field);
  }
}

/// Make `dataset` (new or existing) able to hold the columns of `input`: a new dataset takes
/// the rules' required columns first, then the input's others; an existing one gains the
/// input's new columns (older files read them as null).
Status PrepareDataset(DatasetEntry& dataset, const DataTypeRules& rules, const arrow::Schema& input,
                      bool is_new) {
  arrow::FieldVector fields;
  auto is_key = [&](const std::string& name) {
    return std::find(rules.partition_keys.begin(), rules.partition_keys.end(), name) != rules.partition_keys.end();
  };
  if (is_new) {
    dataset.type = rules.type;
    dataset.partition_keys = rules.partition_keys;
    dataset.natural_key = rules.natural_key;
    dataset.time_column = rules.time_column;
    for (const auto& field : rules.required->fields()) {
      if (!is_key(field->name())) fields.push_back(field);
    }
  } else {
    for (const auto& field : dataset.schema->fields()) {
      if (!is_key(field->name())) fields.push_back(field);
    }
  }
  arrow::FieldVector added;
  for (const auto& field : input.fields()) {
    if (!is_key(field->name())) added.push_back(is_new ? field : field->WithNullable(true));
  }
  AddMissingFields(fields, added);
  // Required columns must be in the input (or already in the dataset for older files).
  for (const auto& field : rules.required->fields()) {
    if (is_key(field->name())) continue;
    if (input.GetFieldIndex(field->name()) < 0) {
      return Status::Invalid("dataset '", dataset.name, "' (", rules.type, ") needs column '", field->name(),
                             "' (", field->type()->ToString(), "); the input has: ",
                             fmt::format("{}", fmt::join(input.field_names(), ", ")));
    }
  }
  if (dataset.time_column.empty()) return Status::Invalid("dataset '", dataset.name, "' has no time column");
  dataset.schema = WithPartitionFields(fields, dataset.partition_keys);
  return Status::OK();
}

void AddFiles(DatasetEntry& dataset, const std::vector<FileEntry>& files) {
  dataset.files.insert(dataset.files.end(), files.begin(), files.end());
  std::sort(dataset.files.begin(), dataset.files.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
}

Status ValidateDatasetName(const std::string& name) {
  ARROW_RETURN_NOT_OK(ValidatePartitionValue("dataset name", name));
  return Status::OK();
}

}  // namespace

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

// ---------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------

Result<std::shared_ptr<Store>> Store::Open(const fs::path& root, bool create) {
  // Casts, filters and scans need Arrow's compute kernels registered once per process.
  static const Status compute = cp::Initialize();
  ARROW_RETURN_NOT_OK(compute);
  std::error_code ec;
  if (!fs::exists(root / "_tickforge", ec)) {
    if (!create) return Status::IOError(root.string(), ": not a tickforge store (no _tickforge folder)");
    if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
      return Status::IOError(root.string(), ": exists and is not a directory");
    }
    ARROW_RETURN_NOT_OK(EnsureDirectory(root / "_tickforge" / "log"));
  }
  return std::shared_ptr<Store>(new Store(fs::absolute(root)));
}

Result<Snapshot> Store::ReadSnapshot(std::optional<int64_t> version) const {
  return store::ReadSnapshot(paths_, version);
}

namespace {

/// Wrap a reader that is open already.
LazySource Ready(std::string name, std::shared_ptr<arrow::RecordBatchReader> reader) {
  return LazySource{std::move(name), [reader]() -> Result<std::shared_ptr<arrow::RecordBatchReader>> { return reader; }};
}

/// Write every batch of the sources (several read at once) into `dataset`.
Status WriteReaders(const StorePaths& paths, Transaction& txn, DatasetEntry& dataset,
                    const WriteOptions& options, std::vector<LazySource>& readers, int threads,
                    CommitInfo* info) {
  PartitionedWriter writer(paths, txn, dataset, options, /*writer_threads=*/readers.size() == 1);
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  Status first_error;
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < readers.size(); i = next.fetch_add(1)) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error.ok()) return;
      }
      const std::string& origin = readers[i].name;
      auto opened = readers[i].open();
      Status status = WithPath(opened.status(), origin);
      std::shared_ptr<arrow::RecordBatchReader> reader = opened.ok() ? *opened : nullptr;
      while (status.ok()) {
        std::shared_ptr<arrow::RecordBatch> batch;
        status = WithPath(reader->ReadNext(&batch), origin);
        if (!status.ok() || !batch) break;
        status = writer.Append(batch, origin);
      }
      reader.reset();  // release the source's buffers now
      readers[i].open = nullptr;
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.ok()) first_error = status;
      }
    }
  };
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(readers.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  ARROW_RETURN_NOT_OK(first_error);
  ARROW_ASSIGN_OR_RAISE(auto files, writer.Finish());
  AddFiles(dataset, files);
  info->rows_in += writer.rows_in();
  info->rows_duplicate += writer.rows_duplicate();
  for (const auto& file : files) info->rows_written += file.rows;
  info->added.insert(info->added.end(), files.begin(), files.end());
  return Status::OK();
}

/// Stream a Parquet file's batches; the reader keeps the file open.
Result<std::shared_ptr<arrow::RecordBatchReader>> OpenParquetBatches(const std::string& path) {
  auto input = arrow::io::ReadableFile::Open(path);
  if (!input.ok()) return WithPath(input.status(), path);
  auto opened = parquet::arrow::OpenFile(*input, arrow::default_memory_pool());
  if (!opened.ok()) return WithPath(opened.status(), path);
  std::shared_ptr<parquet::arrow::FileReader> file = std::move(*opened);
  auto batches = file->GetRecordBatchReader();
  if (!batches.ok()) return WithPath(batches.status(), path);
  std::shared_ptr<arrow::RecordBatchReader> reader = std::move(*batches);
  // Share ownership of the file reader with the batch reader that borrows it.
  return std::shared_ptr<arrow::RecordBatchReader>(reader.get(), [reader, file](auto*) {});
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
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "write"));
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
  for (const auto& path : files) {
    ARROW_ASSIGN_OR_RAISE(auto source, OpenIngestSource(path, options, files.size() == 1));
    by_dataset[source.dataset].push_back(std::move(source));
  }
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "ingest"));
  CommitInfo info;
  for (auto& [name, sources] : by_dataset) {
    ARROW_ASSIGN_OR_RAISE(auto rules, RulesFor(sources.front().type));
    if (rules.time_column.empty()) rules.time_column = sources.front().time_column;
    const bool is_new = !txn->next().datasets.count(name);
    DatasetEntry& dataset = txn->next().datasets[name];
    dataset.name = name;
    if (!is_new && dataset.type != rules.type) {
      return Status::Invalid("dataset '", name, "' holds ", dataset.type, ", not ", rules.type);
    }
    // The union of the sources' columns, so one file schema serves them all.
    arrow::FieldVector fields;
    for (const auto& source : sources) AddMissingFields(fields, source.schema->fields());
    ARROW_RETURN_NOT_OK(PrepareDataset(dataset, rules, arrow::Schema(fields), is_new));
    // Constant partition values (exchange, symbol, dataset, timeframe) per source: group the
    // sources by them, one writer per group.
    std::map<std::map<std::string, std::string>, std::vector<LazySource>> groups;
    for (auto& source : sources) groups[source.constants].push_back(LazySource{source.path, std::move(source.open)});
    for (auto& [constants, readers] : groups) {
      WriteOptions write = options.write;
      for (const auto& [k, v] : constants) write.constants[k] = v;
      ARROW_RETURN_NOT_OK(write.Validate());
      ARROW_RETURN_NOT_OK(WriteReaders(paths_, *txn, dataset, write, readers, DefaultThreads(options.threads), &info));
    }
  }
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

/// Whether a file's partition values and time range can hold rows that pass `filters`.
Result<bool> MayMatch(const FileEntry& file, const DatasetEntry& dataset, const std::vector<cp::Expression>& filters) {
  ARROW_ASSIGN_OR_RAISE(auto partition, PartitionExpression(file, *dataset.schema));
  std::vector<cp::Expression> guarantees = {partition};
  // The manifest's time range is a guarantee too (for int64 time columns).
  const auto time_field = dataset.schema->GetFieldByName(dataset.time_column);
  if (time_field && time_field->type()->id() == arrow::Type::INT64) {
    guarantees.push_back(cp::greater_equal(cp::field_ref(dataset.time_column), cp::literal(file.min_time)));
    guarantees.push_back(cp::less_equal(cp::field_ref(dataset.time_column), cp::literal(file.max_time)));
  }
  const cp::Expression guarantee = cp::and_(guarantees);
  for (size_t i = 0; i < filters.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto bound, filters[i].Bind(*dataset.schema));
    ARROW_ASSIGN_OR_RAISE(auto simplified, cp::SimplifyWithGuarantee(bound, guarantee));
    if (!simplified.IsSatisfiable()) return false;
  }
  return true;
}

}  // namespace

Result<std::shared_ptr<arrow::RecordBatchReader>> Store::Scan(const std::string& dataset_name,
                                                              const ScanOptions& options,
                                                              ScanStats* stats) const {
  ARROW_ASSIGN_OR_RAISE(auto snapshot, ReadSnapshot(options.version));
  ARROW_ASSIGN_OR_RAISE(const DatasetEntry* dataset, snapshot.Find(dataset_name));
  std::vector<cp::Expression> filters;
  for (const auto& predicate : options.filters) {
    ARROW_ASSIGN_OR_RAISE(auto expression, ToExpression(predicate, *dataset->schema));
    filters.push_back(std::move(expression));
  }
  for (const auto& column : options.columns) {
    if (dataset->schema->GetFieldIndex(column) < 0) {
      return Status::KeyError("dataset '", dataset_name, "' has no column '", column, "' (columns: ",
                              fmt::format("{}", fmt::join(dataset->schema->field_names(), ", ")), ")");
    }
  }
  auto format = std::make_shared<ds::ParquetFileFormat>();
  auto filesystem = std::make_shared<arrow::fs::LocalFileSystem>();
  std::vector<std::shared_ptr<ds::FileFragment>> fragments;
  for (const auto& file : dataset->files) {
    ARROW_ASSIGN_OR_RAISE(bool may_match, MayMatch(file, *dataset, filters));
    if (!may_match) continue;
    ARROW_ASSIGN_OR_RAISE(auto partition, PartitionExpression(file, *dataset->schema));
    const fs::path path = ResolveFile(paths_, file);
    ARROW_ASSIGN_OR_RAISE(auto fragment,
                          format->MakeFragment(ds::FileSource(path.string(), filesystem), partition));
    fragments.push_back(std::move(fragment));
  }
  if (stats) {
    stats->version = snapshot.version;
    stats->files_total = static_cast<int64_t>(dataset->files.size());
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
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "compact"));
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
  std::erase_if(dataset.files, [&](const FileEntry& f) { return removed_paths.count(f.path) > 0; });
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
      ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquetBatches(path));
      readers.push_back(Ready(path, std::move(reader)));
    }
    ARROW_RETURN_NOT_OK(WriteReaders(paths_, *txn, dataset, group_write, readers, 1, &info));
  }
  ARROW_RETURN_NOT_OK(CommitAndVisit(*txn, info, write));
  return info;
}

Result<CommitInfo> Store::Migrate(const fs::path& flat_dir, const std::string& dataset_name,
                                  const std::string& type, const WriteOptions& options) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(flat_dir, ec)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file() && entry.path().extension() == ".parquet" && name[0] != '.' && name[0] != '_') {
      files.push_back(entry.path().string());
    }
  }
  if (ec) return Status::IOError(flat_dir.string(), ": ", ec.message());
  if (files.empty()) return Status::Invalid(flat_dir.string(), ": no Parquet files to migrate");
  std::sort(files.begin(), files.end());
  ARROW_RETURN_NOT_OK(options.Validate());
  ARROW_RETURN_NOT_OK(ValidateDatasetName(dataset_name));
  ARROW_ASSIGN_OR_RAISE(auto rules, RulesFor(type));
  std::vector<LazySource> readers;
  arrow::FieldVector fields;
  for (const auto& path : files) {
    ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquetBatches(path));
    AddMissingFields(fields, reader->schema()->fields());
    readers.push_back(Ready(path, std::move(reader)));
  }
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "migrate"));
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
  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths_, "materialize"));
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

namespace {

std::string CacheKey(const std::string& dataset, const ScanOptions& projection, int64_t version) {
  std::string text = dataset + "\x1f" + std::to_string(version);
  for (const auto& column : projection.columns) text += "\x1f" "c:" + column;
  for (const auto& p : projection.filters) {
    text += "\x1f" "f:" + p.column + " " + p.op;
    for (const auto& value : p.values) text += " " + std::to_string(value.index()) + ValueText(value);
  }
  Key128 key{0x9e3779b97f4a7c15ULL, 0xd1b54a32d192ed03ULL};
  Absorb(key, HashBytes(text));
  return fmt::format("{:016x}{:016x}", key.a, key.b);
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<CachedProjection> Store::Cached(const std::string& dataset, const ScanOptions& projection,
                                       double ttl_seconds) {
  ARROW_ASSIGN_OR_RAISE(auto snapshot, ReadSnapshot(projection.version));
  ARROW_RETURN_NOT_OK(snapshot.Find(dataset).status());
  CachedProjection out;
  out.key = CacheKey(dataset, projection, snapshot.version);
  const fs::path dir = paths_.cache / out.key;
  out.path = dir / "data.parquet";
  std::error_code ec;
  if (fs::exists(dir / "meta.json", ec) && fs::exists(out.path, ec)) {
    std::ifstream in(dir / "meta.json");
    json meta = json::parse(in, nullptr, false);
    // The caller's TTL decides; the one stored serves ClearCache(expired_only).
    if (!meta.is_discarded() && NowSeconds() - meta.value("created_at", 0.0) < ttl_seconds) {
      out.hit = true;
      out.rows = meta.value("rows", int64_t{0});
      return out;
    }
  }
  ScanOptions scan = projection;
  scan.version = snapshot.version;
  ARROW_ASSIGN_OR_RAISE(auto reader, Scan(dataset, scan));
  ARROW_ASSIGN_OR_RAISE(out.rows, WriteFlatParquet(*reader, out.path));
  json meta = {{"dataset", dataset},
               {"version", snapshot.version},
               {"columns", projection.columns},
               {"created_at", NowSeconds()},
               {"ttl_seconds", ttl_seconds},
               {"rows", out.rows}};
  ARROW_ASSIGN_OR_RAISE(auto meta_file, AtomicFile::Create(dir / "meta.json"));
  ARROW_RETURN_NOT_OK(meta_file->stream()->Write(meta.dump(1)));
  ARROW_RETURN_NOT_OK(meta_file->Commit());
  return out;
}

Result<int64_t> Store::ClearCache(bool expired_only) {
  std::error_code ec;
  if (!fs::exists(paths_.cache, ec)) return 0;
  int64_t removed = 0;
  for (const auto& entry : fs::directory_iterator(paths_.cache, ec)) {
    if (expired_only) {
      std::ifstream in(entry.path() / "meta.json");
      json meta = json::parse(in, nullptr, false);
      if (!meta.is_discarded() && NowSeconds() - meta.value("created_at", 0.0) < meta.value("ttl_seconds", 0.0)) {
        continue;
      }
    }
    fs::remove_all(entry.path(), ec);
    ++removed;
  }
  return removed;
}

}  // namespace tickforge::store
