// Column layouts of Binance's CSV files and the normalized schema of each kind.
#include "tickforge/binance/layout_internal.h"

#include <arrow/array.h>
#include <arrow/type.h>
#include <arrow/util/string.h>

#include <algorithm>
#include <array>

namespace tickforge::binance {
namespace {

constexpr std::array<SourceField, 12> kKlineFields = {{
    {"open_time", FieldType::kTime, 0, 12},
    {"open", FieldType::kFloat, 1},
    {"high", FieldType::kFloat, 2},
    {"low", FieldType::kFloat, 3},
    {"close", FieldType::kFloat, 4},
    {"volume", FieldType::kFloat, 5},
    {"close_time", FieldType::kTime, 6, 13},
    {"quote_volume", FieldType::kFloat, 7},
    {"count", FieldType::kInt, 8},
    {"taker_buy_volume", FieldType::kFloat, 9},
    {"taker_buy_quote_volume", FieldType::kFloat, 10},
    {"ignore", FieldType::kText, 11},
}};

// Spot files have all 8; futures files stop before is_best_match.
constexpr std::array<SourceField, 8> kAggTradeFields = {{
    {"agg_trade_id", FieldType::kInt, 1},
    {"price", FieldType::kFloat, 2},
    {"quantity", FieldType::kFloat, 3},
    {"first_trade_id", FieldType::kInt, 4},
    {"last_trade_id", FieldType::kInt, 5},
    {"transact_time", FieldType::kTime, 0, 8},
    {"is_buyer_maker", FieldType::kBool, 6},
    {"is_best_match", FieldType::kBool, 7},
}};

constexpr std::array<SourceField, 3> kFundingFields = {{
    {"calc_time", FieldType::kTime, 0, 4},
    {"funding_interval_hours", FieldType::kNullableInt, 3},
    {"last_funding_rate", FieldType::kFloat, 2},
}};

}  // namespace

std::span<const SourceField> FieldsFor(Kind kind, int columns) {
  switch (kind) {
    case Kind::kKlines:
      return kKlineFields;
    case Kind::kAggTrades:
      return std::span<const SourceField>(kAggTradeFields)
          .first(std::min(static_cast<size_t>(std::max(columns, 0)), kAggTradeFields.size()));
    case Kind::kFunding:
      return kFundingFields;
  }
  return {};
}

Result<int> DataColumns(Kind kind, int64_t fields) {
  switch (kind) {
    case Kind::kKlines:
      return static_cast<int>(kKlineFields.size());
    case Kind::kAggTrades:
      if (fields != 7 && fields != 8) {
        return Status::Invalid("expected 7 (futures) or 8 (spot) columns, got ", fields);
      }
      return static_cast<int>(fields);
    case Kind::kFunding:
      return static_cast<int>(kFundingFields.size());
  }
  return Status::Invalid("unknown kind");
}

bool KnownHeader(Kind kind, std::string_view first) {
  const std::string f = arrow::internal::AsciiToLower(first);
  switch (kind) {
    case Kind::kKlines:
      return f == "open_time" || f == "open time" || f == "timestamp";
    case Kind::kAggTrades:
      return f == "agg_trade_id" || f == "aggregate tradeid" || f == "a";
    case Kind::kFunding:
      return f == "calc_time";
  }
  return false;
}

void CompleteColumns(Kind kind, int columns, int64_t rows, std::vector<std::shared_ptr<arrow::Array>>* arrays) {
  if (kind == Kind::kAggTrades && columns == 7) {
    (*arrays)[7] = *arrow::MakeArrayOfNull(arrow::boolean(), rows);
  }
  if (kind == Kind::kFunding) (*arrays)[1] = (*arrays)[0];  // funding_time is the calc time (seed)
}

std::shared_ptr<arrow::Schema> NormalizedSchema(Kind kind) {
  using arrow::boolean;
  using arrow::field;
  using arrow::float64;
  using arrow::int64;
  switch (kind) {
    case Kind::kKlines:
      return arrow::schema({field("timestamp", int64()), field("open", float64()), field("high", float64()),
                            field("low", float64()), field("close", float64()), field("volume", float64()),
                            field("close_time", int64()), field("quote_volume", float64()),
                            field("count", int64()), field("taker_buy_volume", float64()),
                            field("taker_buy_quote_volume", float64()), field("ignore", arrow::utf8()),
                            field("timestamp_us", int64()), field("close_time_us", int64())});
    case Kind::kAggTrades:
      return arrow::schema({field("timestamp", int64()), field("trade_id", int64()), field("trade_price", float64()),
                            field("trade_quantity", float64()), field("first_trade_id", int64()),
                            field("last_trade_id", int64()), field("trade_is_buyer_maker", boolean()),
                            field("is_best_match", boolean()), field("timestamp_us", int64())});
    case Kind::kFunding:
      return arrow::schema({field("timestamp", int64()), field("funding_time", int64()),
                            field("funding_rate", float64()), field("funding_interval_hours", int64()),
                            field("timestamp_us", int64())});
  }
  return nullptr;
}

}  // namespace tickforge::binance
