#include "tickforge/dbn/metadata.h"

#include <charconv>
#include <chrono>
#include <cstring>

namespace tickforge::dbn {
namespace {

constexpr size_t kDatasetCstrLen = 16;
constexpr size_t kReservedLenV1 = 47;
constexpr size_t kReservedLen = 53;

// Bounds-checked little-endian reader over the metadata body.
class Reader {
 public:
  Reader(std::span<const uint8_t> body, std::string_view path, uint64_t base)
      : body_(body), path_(path), base_(base) {}

  template <typename T>
  Result<T> Read(std::string_view what) {
    ARROW_RETURN_NOT_OK(Need(sizeof(T), what));
    T value;
    std::memcpy(&value, body_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  Result<std::string> ReadCstr(size_t len, std::string_view what) {
    ARROW_RETURN_NOT_OK(Need(len, what));
    const char* p = reinterpret_cast<const char*>(body_.data() + pos_);
    pos_ += len;
    return std::string(p, strnlen(p, len));
  }

  Status Skip(size_t n, std::string_view what) {
    ARROW_RETURN_NOT_OK(Need(n, what));
    pos_ += n;
    return Status::OK();
  }

  Status Need(size_t n, std::string_view what) const {
    if (pos_ + n > body_.size()) {
      return InputError(path_, base_ + pos_,
                        "metadata ends inside {} (needs {} bytes, {} left of a {}-byte block)",
                        what, n, body_.size() - pos_, body_.size());
    }
    return Status::OK();
  }

  uint64_t offset() const { return base_ + pos_; }

 private:
  std::span<const uint8_t> body_;
  std::string_view path_;
  uint64_t base_;
  size_t pos_ = 0;
};

Result<std::vector<std::string>> ReadSymbolList(Reader& r, size_t cstr_len, std::string_view what) {
  ARROW_ASSIGN_OR_RAISE(uint32_t count, r.Read<uint32_t>(what));
  ARROW_RETURN_NOT_OK(r.Need(static_cast<uint64_t>(count) * cstr_len, what));
  std::vector<std::string> out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ARROW_ASSIGN_OR_RAISE(auto s, r.ReadCstr(cstr_len, what));
    out.push_back(std::move(s));
  }
  return out;
}

void Put(std::vector<uint8_t>& out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}
template <typename T>
void Put(std::vector<uint8_t>& out, T value) {
  Put(out, &value, sizeof(T));
}
Status PutCstr(std::vector<uint8_t>& out, const std::string& s, size_t len) {
  if (s.size() >= len) {
    return Status::Invalid("symbol '", s, "' does not fit in ", len - 1, " characters");
  }
  Put(out, s.data(), s.size());
  out.insert(out.end(), len - s.size(), 0);
  return Status::OK();
}

Status CheckYmd(uint32_t ymd, std::string_view path, uint64_t offset) {
  const uint32_t month = ymd / 100 % 100, day = ymd % 100;
  if (ymd != 0 && (month < 1 || month > 12 || day < 1 || day > 31)) {
    return InputError(path, offset, "invalid date {} in a symbol mapping", ymd);
  }
  return Status::OK();
}

}  // namespace

Result<Metadata> DecodeMetadata(std::span<const uint8_t> body, uint8_t version,
                                std::string_view path, uint64_t base_offset) {
  Reader r(body, path, base_offset);
  Metadata m;
  m.version = version;
  ARROW_ASSIGN_OR_RAISE(m.dataset, r.ReadCstr(kDatasetCstrLen, "dataset"));
  const uint64_t schema_offset = r.offset();
  ARROW_ASSIGN_OR_RAISE(uint16_t schema, r.Read<uint16_t>("schema"));
  if (schema != kNullSchema) {
    if (schema >= kSchemaCount) return InputError(path, schema_offset, "unknown schema {}", schema);
    m.schema = static_cast<Schema>(schema);
  }
  ARROW_ASSIGN_OR_RAISE(m.start, r.Read<uint64_t>("start"));
  ARROW_ASSIGN_OR_RAISE(m.end, r.Read<uint64_t>("end"));
  ARROW_ASSIGN_OR_RAISE(m.limit, r.Read<uint64_t>("limit"));
  if (version == 1) ARROW_RETURN_NOT_OK(r.Skip(8, "record_count"));
  ARROW_ASSIGN_OR_RAISE(uint8_t stype_in, r.Read<uint8_t>("stype_in"));
  if (stype_in != kNullSType) m.stype_in = stype_in;
  ARROW_ASSIGN_OR_RAISE(m.stype_out, r.Read<uint8_t>("stype_out"));
  ARROW_ASSIGN_OR_RAISE(uint8_t ts_out, r.Read<uint8_t>("ts_out"));
  m.ts_out = ts_out != 0;
  if (version == 1) {
    m.symbol_cstr_len = kSymbolCstrLenV1;
    ARROW_RETURN_NOT_OK(r.Skip(kReservedLenV1, "reserved"));
  } else {
    const uint64_t len_offset = r.offset();
    ARROW_ASSIGN_OR_RAISE(m.symbol_cstr_len, r.Read<uint16_t>("symbol_cstr_len"));
    if (m.symbol_cstr_len == 0) return InputError(path, len_offset, "symbol_cstr_len is 0");
    ARROW_RETURN_NOT_OK(r.Skip(kReservedLen, "reserved"));
  }
  const uint64_t def_offset = r.offset();
  ARROW_ASSIGN_OR_RAISE(uint32_t schema_definition_len, r.Read<uint32_t>("schema_definition_length"));
  if (schema_definition_len != 0) {
    return InputError(path, def_offset, "schema definitions are not supported (length {})",
                      schema_definition_len);
  }
  const size_t len = m.symbol_cstr_len;
  ARROW_ASSIGN_OR_RAISE(m.symbols, ReadSymbolList(r, len, "symbols"));
  ARROW_ASSIGN_OR_RAISE(m.partial, ReadSymbolList(r, len, "partial"));
  ARROW_ASSIGN_OR_RAISE(m.not_found, ReadSymbolList(r, len, "not_found"));
  ARROW_ASSIGN_OR_RAISE(uint32_t mapping_count, r.Read<uint32_t>("mappings"));
  // Each mapping takes at least a symbol and an interval count; reject absurd counts early.
  ARROW_RETURN_NOT_OK(r.Need(static_cast<uint64_t>(mapping_count) * (len + 4), "mappings"));
  m.mappings.reserve(mapping_count);
  for (uint32_t i = 0; i < mapping_count; ++i) {
    SymbolMapping mapping;
    ARROW_ASSIGN_OR_RAISE(mapping.raw_symbol, r.ReadCstr(len, "mapping raw_symbol"));
    ARROW_ASSIGN_OR_RAISE(uint32_t intervals, r.Read<uint32_t>("mapping interval count"));
    ARROW_RETURN_NOT_OK(r.Need(static_cast<uint64_t>(intervals) * (8 + len), "mapping intervals"));
    mapping.intervals.reserve(intervals);
    for (uint32_t j = 0; j < intervals; ++j) {
      MappingInterval interval;
      const uint64_t at = r.offset();
      ARROW_ASSIGN_OR_RAISE(interval.start_date, r.Read<uint32_t>("mapping start_date"));
      ARROW_ASSIGN_OR_RAISE(interval.end_date, r.Read<uint32_t>("mapping end_date"));
      ARROW_RETURN_NOT_OK(CheckYmd(interval.start_date, path, at));
      ARROW_RETURN_NOT_OK(CheckYmd(interval.end_date, path, at + 4));
      ARROW_ASSIGN_OR_RAISE(interval.symbol, r.ReadCstr(len, "mapping symbol"));
      mapping.intervals.push_back(std::move(interval));
    }
    m.mappings.push_back(std::move(mapping));
  }
  return m;
}

Result<std::vector<uint8_t>> EncodeMetadata(const Metadata& m) {
  const size_t len = kSymbolCstrLen;
  std::vector<uint8_t> out;
  out.reserve(kPreludeLen + kMetadataFixedLen + 256);
  Put(out, "DBN", 3);
  Put<uint8_t>(out, kDbnVersion);
  Put<uint32_t>(out, 0);  // length, patched below
  if (m.dataset.size() >= kDatasetCstrLen) return Status::Invalid("dataset name too long: ", m.dataset);
  ARROW_RETURN_NOT_OK(PutCstr(out, m.dataset, kDatasetCstrLen));
  Put<uint16_t>(out, m.schema ? static_cast<uint16_t>(*m.schema) : kNullSchema);
  Put<uint64_t>(out, m.start);
  Put<uint64_t>(out, m.end);
  Put<uint64_t>(out, m.limit);
  Put<uint8_t>(out, m.stype_in.value_or(kNullSType));
  Put<uint8_t>(out, m.stype_out);
  Put<uint8_t>(out, m.ts_out ? 1 : 0);
  Put<uint16_t>(out, static_cast<uint16_t>(len));
  out.insert(out.end(), kReservedLen, 0);
  Put<uint32_t>(out, 0);  // schema_definition_length
  for (const auto* list : {&m.symbols, &m.partial, &m.not_found}) {
    Put<uint32_t>(out, static_cast<uint32_t>(list->size()));
    for (const auto& s : *list) ARROW_RETURN_NOT_OK(PutCstr(out, s, len));
  }
  Put<uint32_t>(out, static_cast<uint32_t>(m.mappings.size()));
  for (const auto& mapping : m.mappings) {
    ARROW_RETURN_NOT_OK(PutCstr(out, mapping.raw_symbol, len));
    Put<uint32_t>(out, static_cast<uint32_t>(mapping.intervals.size()));
    for (const auto& interval : mapping.intervals) {
      Put<uint32_t>(out, interval.start_date);
      Put<uint32_t>(out, interval.end_date);
      ARROW_RETURN_NOT_OK(PutCstr(out, interval.symbol, len));
    }
  }
  // Pad so the first record starts 8-byte aligned, as Databento's encoder does.
  while (out.size() % 8 != 0) out.push_back(0);
  const uint32_t body_len = static_cast<uint32_t>(out.size() - kPreludeLen);
  std::memcpy(out.data() + 4, &body_len, 4);
  return out;
}

}  // namespace tickforge::dbn
