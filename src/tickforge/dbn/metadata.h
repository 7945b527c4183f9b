// DBN metadata: the header block after the "DBN" prelude, in versions 1 to 3.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tickforge/dbn/records.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/util/status.h"

namespace tickforge::dbn {

/// One point-in-time mapping: from start_date (inclusive) to end_date (exclusive), both as
/// YYYYMMDD integers, the input symbol maps to `symbol`.
struct MappingInterval {
  uint32_t start_date = 0;
  uint32_t end_date = 0;
  std::string symbol;

  bool operator==(const MappingInterval&) const = default;
};

struct SymbolMapping {
  std::string raw_symbol;
  std::vector<MappingInterval> intervals;

  bool operator==(const SymbolMapping&) const = default;
};

struct Metadata {
  uint8_t version = kDbnVersion;  ///< the DBN version of the input
  std::string dataset;
  std::optional<Schema> schema;   ///< nullopt for mixed-schema data
  uint64_t start = 0;
  uint64_t end = kUndefTimestamp;
  uint64_t limit = 0;
  std::optional<uint8_t> stype_in;
  uint8_t stype_out = 0;
  bool ts_out = false;
  uint16_t symbol_cstr_len = kSymbolCstrLen;
  std::vector<std::string> symbols;
  std::vector<std::string> partial;
  std::vector<std::string> not_found;
  std::vector<SymbolMapping> mappings;

  bool operator==(const Metadata&) const = default;
};

inline constexpr size_t kPreludeLen = 8;          ///< "DBN", version byte, u32 length
inline constexpr size_t kMetadataFixedLen = 100;  ///< fixed fields before the symbol lists

/// Decode the metadata body (the `length` bytes after the prelude) of a DBN `version` stream.
/// `path` and `base_offset` (the body's offset in the stream) go into error messages.
[[nodiscard]] Result<Metadata> DecodeMetadata(std::span<const uint8_t> body, uint8_t version,
                                              std::string_view path, uint64_t base_offset);

/// Encode metadata as DBN v3, prelude included.
[[nodiscard]] Result<std::vector<uint8_t>> EncodeMetadata(const Metadata& metadata);


}  // namespace tickforge::dbn
