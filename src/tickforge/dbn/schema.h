// DBN schemas, symbology types and the column layout of each record type: which bytes
// become which column, in the order Databento's `DBNStore.to_df()` uses.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tickforge::dbn {

enum class Schema : uint16_t {
  kMbo = 0,
  kMbp1 = 1,
  kMbp10 = 2,
  kTbbo = 3,
  kTrades = 4,
  kOhlcv1S = 5,
  kOhlcv1M = 6,
  kOhlcv1H = 7,
  kOhlcv1D = 8,
  kDefinition = 9,
  kStatistics = 10,
  kStatus = 11,
  kImbalance = 12,
  kOhlcvEod = 13,
  kCmbp1 = 14,
  kCbbo1S = 15,
  kCbbo1M = 16,
  kTcbbo = 17,
  kBbo1S = 18,
  kBbo1M = 19,
};
inline constexpr uint16_t kSchemaCount = 20;
inline constexpr uint16_t kNullSchema = 0xFFFF;
inline constexpr uint8_t kNullSType = 0xFF;

/// Return the schema's name as Databento writes it ("mbp-10"), or "" if unknown.
[[nodiscard]] std::string_view SchemaName(Schema schema);
/// Parse a schema name ("mbp-10", "ohlcv-1m", ...).
[[nodiscard]] std::optional<Schema> SchemaFromName(std::string_view name);
/// Return the record type a schema's records carry.
[[nodiscard]] uint8_t RTypeOf(Schema schema);
/// Return the symbology type's name ("raw_symbol"), or "" if unknown.
[[nodiscard]] std::string_view STypeName(uint8_t stype);
/// Return a short name for a record type ("mbp-10", "definition", "symbol-mapping").
[[nodiscard]] std::string RTypeName(uint8_t rtype);

enum class FieldKind : uint8_t {
  kU8, kU16, kU32, kU64, kI8, kI16, kI32, kI64,
  kChar,       ///< one c_char, exposed as a string of length 0 or 1
  kCStr,       ///< a NUL-padded fixed-width string
  kPrice,      ///< int64 in units of 1e-9; UNDEF is INT64_MAX
  kTimestamp,  ///< uint64 nanoseconds since the epoch; UNDEF is UINT64_MAX
};

/// One column: where its bytes sit in the (v3) record and how to read them.
struct FieldDesc {
  std::string name;
  uint16_t offset;
  uint16_t width;
  FieldKind kind;
};

/// The column layout of one v3 record type.
struct RecordLayout {
  std::string name;      ///< the record struct ("Mbp10Msg")
  uint16_t size;         ///< sizeof the v3 struct
  std::vector<FieldDesc> fields;  ///< in `to_df()` column order; the first is the index
};

/// Return the layout for a record type, or nullptr for a record type DBN does not define.
[[nodiscard]] const RecordLayout* LayoutOf(uint8_t rtype);

/// The book levels of an MBP-10 record.
inline constexpr int kMbp10Levels = 10;

/// The fields of one book level of an MBP record, in `to_df()` column order.
enum class BookField : uint8_t { kBidPx, kAskPx, kBidSz, kAskSz, kBidCt, kAskCt };
inline constexpr int kBookFields = 6;

/// Return MBP-10's book columns in `to_df()` order, kBookFields per level: bid_px_00,
/// ask_px_00, bid_sz_00, ask_sz_00, bid_ct_00, ask_ct_00, bid_px_01, ..., ask_ct_09.
[[nodiscard]] const std::vector<std::string>& BookColumnNames();

/// Return the column of `field` at book `level` (0 to kMbp10Levels - 1): (kBidPx, 0) is
/// "bid_px_00".
[[nodiscard]] inline const std::string& BookColumnName(BookField field, int level) {
  return BookColumnNames()[static_cast<size_t>(level * kBookFields + static_cast<int>(field))];
}

}  // namespace tickforge::dbn
