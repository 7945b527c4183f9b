#include "tickforge/dbn/schema.h"

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <type_traits>

#include "tickforge/dbn/records.h"

namespace tickforge::dbn {
namespace {

constexpr std::array<std::string_view, kSchemaCount> kSchemaNames = {
    "mbo",      "mbp-1",    "mbp-10",     "tbbo",       "trades", "ohlcv-1s",  "ohlcv-1m",
    "ohlcv-1h", "ohlcv-1d", "definition", "statistics", "status", "imbalance", "ohlcv-eod",
    "cmbp-1",   "cbbo-1s",  "cbbo-1m",    "tcbbo",      "bbo-1s", "bbo-1m"};

constexpr std::array<std::string_view, 13> kSTypeNames = {
    "instrument_id", "raw_symbol", "smart",           "continuous", "parent",
    "nasdaq_symbol", "cms_symbol", "isin",            "us_code",    "bbg_comp_id",
    "bbg_comp_ticker", "figi",     "figi_ticker"};

void Add(RecordLayout& layout, std::string name, size_t offset, int width, FieldKind kind) {
  layout.fields.push_back(FieldDesc{std::move(name), static_cast<uint16_t>(offset),
                                    static_cast<uint16_t>(width), kind});
}

// The names of a book level's fields (BookField order), and the consolidated books'
// publisher fields that take the order counts' place.
constexpr std::array<std::string_view, kBookFields> kBookFieldNames = {"bid_px", "ask_px", "bid_sz",
                                                                      "ask_sz", "bid_ct", "ask_ct"};

std::string LevelColumnName(std::string_view field, int level) { return fmt::format("{}_{:02d}", field, level); }

// Append book levels in to_df order: per level bid/ask price, bid/ask size, then bid/ask
// order count (or publisher for consolidated books).
void AddLevels(RecordLayout& layout, size_t levels_offset, int levels, bool consolidated) {
  static_assert(sizeof(BidAskPair) == sizeof(ConsolidatedBidAskPair));
  for (int i = 0; i < levels; ++i) {
    const size_t base = levels_offset + static_cast<size_t>(i) * sizeof(BidAskPair);
    const auto name = [i](BookField field) { return BookColumnName(field, i); };
    Add(layout, name(BookField::kBidPx), base + offsetof(BidAskPair, bid_px), 8, FieldKind::kPrice);
    Add(layout, name(BookField::kAskPx), base + offsetof(BidAskPair, ask_px), 8, FieldKind::kPrice);
    Add(layout, name(BookField::kBidSz), base + offsetof(BidAskPair, bid_sz), 4, FieldKind::kU32);
    Add(layout, name(BookField::kAskSz), base + offsetof(BidAskPair, ask_sz), 4, FieldKind::kU32);
    if (consolidated) {
      Add(layout, LevelColumnName("bid_pb", i), base + offsetof(ConsolidatedBidAskPair, bid_pb), 2, FieldKind::kU16);
      Add(layout, LevelColumnName("ask_pb", i), base + offsetof(ConsolidatedBidAskPair, ask_pb), 2, FieldKind::kU16);
    } else {
      Add(layout, name(BookField::kBidCt), base + offsetof(BidAskPair, bid_ct), 4, FieldKind::kU32);
      Add(layout, name(BookField::kAskCt), base + offsetof(BidAskPair, ask_ct), 4, FieldKind::kU32);
    }
  }
}

RecordLayout MakeMboMsg() {
  RecordLayout l{"MboMsg", sizeof(MboMsg), {}};
  Add(l, "ts_recv", offsetof(MboMsg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(MboMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(MboMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(MboMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(MboMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "action", offsetof(MboMsg, action), 1, FieldKind::kChar);
  Add(l, "side", offsetof(MboMsg, side), 1, FieldKind::kChar);
  Add(l, "price", offsetof(MboMsg, price), 8, FieldKind::kPrice);
  Add(l, "size", offsetof(MboMsg, size), 4, FieldKind::kU32);
  Add(l, "channel_id", offsetof(MboMsg, channel_id), 1, FieldKind::kU8);
  Add(l, "order_id", offsetof(MboMsg, order_id), 8, FieldKind::kU64);
  Add(l, "flags", offsetof(MboMsg, flags), 1, FieldKind::kU8);
  Add(l, "ts_in_delta", offsetof(MboMsg, ts_in_delta), 4, FieldKind::kI32);
  Add(l, "sequence", offsetof(MboMsg, sequence), 4, FieldKind::kU32);
  return l;
}

RecordLayout MakeTradeMsg() {
  RecordLayout l{"TradeMsg", sizeof(TradeMsg), {}};
  Add(l, "ts_recv", offsetof(TradeMsg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(TradeMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(TradeMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(TradeMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(TradeMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "action", offsetof(TradeMsg, action), 1, FieldKind::kChar);
  Add(l, "side", offsetof(TradeMsg, side), 1, FieldKind::kChar);
  Add(l, "depth", offsetof(TradeMsg, depth), 1, FieldKind::kU8);
  Add(l, "price", offsetof(TradeMsg, price), 8, FieldKind::kPrice);
  Add(l, "size", offsetof(TradeMsg, size), 4, FieldKind::kU32);
  Add(l, "flags", offsetof(TradeMsg, flags), 1, FieldKind::kU8);
  Add(l, "ts_in_delta", offsetof(TradeMsg, ts_in_delta), 4, FieldKind::kI32);
  Add(l, "sequence", offsetof(TradeMsg, sequence), 4, FieldKind::kU32);
  return l;
}

RecordLayout MakeMbp1Msg() {
  RecordLayout l{"Mbp1Msg", sizeof(Mbp1Msg), {}};
  Add(l, "ts_recv", offsetof(Mbp1Msg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(Mbp1Msg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(Mbp1Msg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(Mbp1Msg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(Mbp1Msg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "action", offsetof(Mbp1Msg, action), 1, FieldKind::kChar);
  Add(l, "side", offsetof(Mbp1Msg, side), 1, FieldKind::kChar);
  Add(l, "depth", offsetof(Mbp1Msg, depth), 1, FieldKind::kU8);
  Add(l, "price", offsetof(Mbp1Msg, price), 8, FieldKind::kPrice);
  Add(l, "size", offsetof(Mbp1Msg, size), 4, FieldKind::kU32);
  Add(l, "flags", offsetof(Mbp1Msg, flags), 1, FieldKind::kU8);
  Add(l, "ts_in_delta", offsetof(Mbp1Msg, ts_in_delta), 4, FieldKind::kI32);
  Add(l, "sequence", offsetof(Mbp1Msg, sequence), 4, FieldKind::kU32);
  AddLevels(l, offsetof(Mbp1Msg, levels), 1, /*consolidated=*/false);
  return l;
}

static_assert(std::extent_v<decltype(Mbp10Msg::levels)> == kMbp10Levels);

RecordLayout MakeMbp10Msg() {
  RecordLayout l{"Mbp10Msg", sizeof(Mbp10Msg), {}};
  Add(l, "ts_recv", offsetof(Mbp10Msg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(Mbp10Msg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(Mbp10Msg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(Mbp10Msg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(Mbp10Msg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "action", offsetof(Mbp10Msg, action), 1, FieldKind::kChar);
  Add(l, "side", offsetof(Mbp10Msg, side), 1, FieldKind::kChar);
  Add(l, "depth", offsetof(Mbp10Msg, depth), 1, FieldKind::kU8);
  Add(l, "price", offsetof(Mbp10Msg, price), 8, FieldKind::kPrice);
  Add(l, "size", offsetof(Mbp10Msg, size), 4, FieldKind::kU32);
  Add(l, "flags", offsetof(Mbp10Msg, flags), 1, FieldKind::kU8);
  Add(l, "ts_in_delta", offsetof(Mbp10Msg, ts_in_delta), 4, FieldKind::kI32);
  Add(l, "sequence", offsetof(Mbp10Msg, sequence), 4, FieldKind::kU32);
  AddLevels(l, offsetof(Mbp10Msg, levels), kMbp10Levels, /*consolidated=*/false);
  return l;
}

RecordLayout MakeBboMsg() {
  RecordLayout l{"BboMsg", sizeof(BboMsg), {}};
  Add(l, "ts_recv", offsetof(BboMsg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(BboMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(BboMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(BboMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(BboMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "side", offsetof(BboMsg, side), 1, FieldKind::kChar);
  Add(l, "price", offsetof(BboMsg, price), 8, FieldKind::kPrice);
  Add(l, "size", offsetof(BboMsg, size), 4, FieldKind::kU32);
  Add(l, "flags", offsetof(BboMsg, flags), 1, FieldKind::kU8);
  Add(l, "sequence", offsetof(BboMsg, sequence), 4, FieldKind::kU32);
  AddLevels(l, offsetof(BboMsg, levels), 1, /*consolidated=*/false);
  return l;
}

RecordLayout MakeCbboMsg() {
  RecordLayout l{"CbboMsg", sizeof(CbboMsg), {}};
  Add(l, "ts_recv", offsetof(CbboMsg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(CbboMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(CbboMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(CbboMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(CbboMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "side", offsetof(CbboMsg, side), 1, FieldKind::kChar);
  Add(l, "price", offsetof(CbboMsg, price), 8, FieldKind::kPrice);
  Add(l, "size", offsetof(CbboMsg, size), 4, FieldKind::kU32);
  Add(l, "flags", offsetof(CbboMsg, flags), 1, FieldKind::kU8);
  AddLevels(l, offsetof(CbboMsg, levels), 1, /*consolidated=*/true);
  return l;
}

RecordLayout MakeCmbp1Msg() {
  RecordLayout l{"Cmbp1Msg", sizeof(Cmbp1Msg), {}};
  Add(l, "ts_recv", offsetof(Cmbp1Msg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(Cmbp1Msg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(Cmbp1Msg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(Cmbp1Msg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(Cmbp1Msg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "action", offsetof(Cmbp1Msg, action), 1, FieldKind::kChar);
  Add(l, "side", offsetof(Cmbp1Msg, side), 1, FieldKind::kChar);
  Add(l, "price", offsetof(Cmbp1Msg, price), 8, FieldKind::kPrice);
  Add(l, "size", offsetof(Cmbp1Msg, size), 4, FieldKind::kU32);
  Add(l, "flags", offsetof(Cmbp1Msg, flags), 1, FieldKind::kU8);
  Add(l, "ts_in_delta", offsetof(Cmbp1Msg, ts_in_delta), 4, FieldKind::kI32);
  AddLevels(l, offsetof(Cmbp1Msg, levels), 1, /*consolidated=*/true);
  return l;
}

RecordLayout MakeOhlcvMsg() {
  RecordLayout l{"OhlcvMsg", sizeof(OhlcvMsg), {}};
  Add(l, "ts_event", offsetof(OhlcvMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(OhlcvMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(OhlcvMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(OhlcvMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "open", offsetof(OhlcvMsg, open), 8, FieldKind::kPrice);
  Add(l, "high", offsetof(OhlcvMsg, high), 8, FieldKind::kPrice);
  Add(l, "low", offsetof(OhlcvMsg, low), 8, FieldKind::kPrice);
  Add(l, "close", offsetof(OhlcvMsg, close), 8, FieldKind::kPrice);
  Add(l, "volume", offsetof(OhlcvMsg, volume), 8, FieldKind::kU64);
  return l;
}

RecordLayout MakeStatusMsg() {
  RecordLayout l{"StatusMsg", sizeof(StatusMsg), {}};
  Add(l, "ts_recv", offsetof(StatusMsg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(StatusMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(StatusMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(StatusMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(StatusMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "action", offsetof(StatusMsg, action), 2, FieldKind::kU16);
  Add(l, "reason", offsetof(StatusMsg, reason), 2, FieldKind::kU16);
  Add(l, "trading_event", offsetof(StatusMsg, trading_event), 2, FieldKind::kU16);
  Add(l, "is_trading", offsetof(StatusMsg, is_trading), 1, FieldKind::kChar);
  Add(l, "is_quoting", offsetof(StatusMsg, is_quoting), 1, FieldKind::kChar);
  Add(l, "is_short_sell_restricted", offsetof(StatusMsg, is_short_sell_restricted), 1, FieldKind::kChar);
  return l;
}

RecordLayout MakeInstrumentDefMsg() {
  RecordLayout l{"InstrumentDefMsg", sizeof(InstrumentDefMsg), {}};
  Add(l, "ts_recv", offsetof(InstrumentDefMsg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(InstrumentDefMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(InstrumentDefMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(InstrumentDefMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(InstrumentDefMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "raw_symbol", offsetof(InstrumentDefMsg, raw_symbol), 71, FieldKind::kCStr);
  Add(l, "security_update_action", offsetof(InstrumentDefMsg, security_update_action), 1, FieldKind::kChar);
  Add(l, "instrument_class", offsetof(InstrumentDefMsg, instrument_class), 1, FieldKind::kChar);
  Add(l, "min_price_increment", offsetof(InstrumentDefMsg, min_price_increment), 8, FieldKind::kPrice);
  Add(l, "display_factor", offsetof(InstrumentDefMsg, display_factor), 8, FieldKind::kPrice);
  Add(l, "expiration", offsetof(InstrumentDefMsg, expiration), 8, FieldKind::kTimestamp);
  Add(l, "activation", offsetof(InstrumentDefMsg, activation), 8, FieldKind::kTimestamp);
  Add(l, "high_limit_price", offsetof(InstrumentDefMsg, high_limit_price), 8, FieldKind::kPrice);
  Add(l, "low_limit_price", offsetof(InstrumentDefMsg, low_limit_price), 8, FieldKind::kPrice);
  Add(l, "max_price_variation", offsetof(InstrumentDefMsg, max_price_variation), 8, FieldKind::kPrice);
  Add(l, "unit_of_measure_qty", offsetof(InstrumentDefMsg, unit_of_measure_qty), 8, FieldKind::kPrice);
  Add(l, "min_price_increment_amount", offsetof(InstrumentDefMsg, min_price_increment_amount), 8, FieldKind::kPrice);
  Add(l, "price_ratio", offsetof(InstrumentDefMsg, price_ratio), 8, FieldKind::kPrice);
  Add(l, "inst_attrib_value", offsetof(InstrumentDefMsg, inst_attrib_value), 4, FieldKind::kI32);
  Add(l, "underlying_id", offsetof(InstrumentDefMsg, underlying_id), 4, FieldKind::kU32);
  Add(l, "raw_instrument_id", offsetof(InstrumentDefMsg, raw_instrument_id), 8, FieldKind::kU64);
  Add(l, "market_depth_implied", offsetof(InstrumentDefMsg, market_depth_implied), 4, FieldKind::kI32);
  Add(l, "market_depth", offsetof(InstrumentDefMsg, market_depth), 4, FieldKind::kI32);
  Add(l, "market_segment_id", offsetof(InstrumentDefMsg, market_segment_id), 4, FieldKind::kU32);
  Add(l, "max_trade_vol", offsetof(InstrumentDefMsg, max_trade_vol), 4, FieldKind::kU32);
  Add(l, "min_lot_size", offsetof(InstrumentDefMsg, min_lot_size), 4, FieldKind::kI32);
  Add(l, "min_lot_size_block", offsetof(InstrumentDefMsg, min_lot_size_block), 4, FieldKind::kI32);
  Add(l, "min_lot_size_round_lot", offsetof(InstrumentDefMsg, min_lot_size_round_lot), 4, FieldKind::kI32);
  Add(l, "min_trade_vol", offsetof(InstrumentDefMsg, min_trade_vol), 4, FieldKind::kU32);
  Add(l, "contract_multiplier", offsetof(InstrumentDefMsg, contract_multiplier), 4, FieldKind::kI32);
  Add(l, "decay_quantity", offsetof(InstrumentDefMsg, decay_quantity), 4, FieldKind::kI32);
  Add(l, "original_contract_size", offsetof(InstrumentDefMsg, original_contract_size), 4, FieldKind::kI32);
  Add(l, "appl_id", offsetof(InstrumentDefMsg, appl_id), 2, FieldKind::kI16);
  Add(l, "maturity_year", offsetof(InstrumentDefMsg, maturity_year), 2, FieldKind::kU16);
  Add(l, "decay_start_date", offsetof(InstrumentDefMsg, decay_start_date), 2, FieldKind::kU16);
  Add(l, "channel_id", offsetof(InstrumentDefMsg, channel_id), 2, FieldKind::kU16);
  Add(l, "currency", offsetof(InstrumentDefMsg, currency), 4, FieldKind::kCStr);
  Add(l, "settl_currency", offsetof(InstrumentDefMsg, settl_currency), 4, FieldKind::kCStr);
  Add(l, "secsubtype", offsetof(InstrumentDefMsg, secsubtype), 6, FieldKind::kCStr);
  Add(l, "group", offsetof(InstrumentDefMsg, group), 21, FieldKind::kCStr);
  Add(l, "exchange", offsetof(InstrumentDefMsg, exchange), 5, FieldKind::kCStr);
  Add(l, "asset", offsetof(InstrumentDefMsg, asset), 11, FieldKind::kCStr);
  Add(l, "cfi", offsetof(InstrumentDefMsg, cfi), 7, FieldKind::kCStr);
  Add(l, "security_type", offsetof(InstrumentDefMsg, security_type), 7, FieldKind::kCStr);
  Add(l, "unit_of_measure", offsetof(InstrumentDefMsg, unit_of_measure), 31, FieldKind::kCStr);
  Add(l, "underlying", offsetof(InstrumentDefMsg, underlying), 21, FieldKind::kCStr);
  Add(l, "strike_price_currency", offsetof(InstrumentDefMsg, strike_price_currency), 4, FieldKind::kCStr);
  Add(l, "strike_price", offsetof(InstrumentDefMsg, strike_price), 8, FieldKind::kPrice);
  Add(l, "match_algorithm", offsetof(InstrumentDefMsg, match_algorithm), 1, FieldKind::kChar);
  Add(l, "main_fraction", offsetof(InstrumentDefMsg, main_fraction), 1, FieldKind::kU8);
  Add(l, "price_display_format", offsetof(InstrumentDefMsg, price_display_format), 1, FieldKind::kU8);
  Add(l, "sub_fraction", offsetof(InstrumentDefMsg, sub_fraction), 1, FieldKind::kU8);
  Add(l, "underlying_product", offsetof(InstrumentDefMsg, underlying_product), 1, FieldKind::kU8);
  Add(l, "maturity_month", offsetof(InstrumentDefMsg, maturity_month), 1, FieldKind::kU8);
  Add(l, "maturity_day", offsetof(InstrumentDefMsg, maturity_day), 1, FieldKind::kU8);
  Add(l, "maturity_week", offsetof(InstrumentDefMsg, maturity_week), 1, FieldKind::kU8);
  Add(l, "user_defined_instrument", offsetof(InstrumentDefMsg, user_defined_instrument), 1, FieldKind::kChar);
  Add(l, "contract_multiplier_unit", offsetof(InstrumentDefMsg, contract_multiplier_unit), 1, FieldKind::kI8);
  Add(l, "flow_schedule_type", offsetof(InstrumentDefMsg, flow_schedule_type), 1, FieldKind::kI8);
  Add(l, "tick_rule", offsetof(InstrumentDefMsg, tick_rule), 1, FieldKind::kU8);
  Add(l, "leg_count", offsetof(InstrumentDefMsg, leg_count), 2, FieldKind::kU16);
  Add(l, "leg_index", offsetof(InstrumentDefMsg, leg_index), 2, FieldKind::kU16);
  Add(l, "leg_instrument_id", offsetof(InstrumentDefMsg, leg_instrument_id), 4, FieldKind::kU32);
  Add(l, "leg_raw_symbol", offsetof(InstrumentDefMsg, leg_raw_symbol), 71, FieldKind::kCStr);
  Add(l, "leg_instrument_class", offsetof(InstrumentDefMsg, leg_instrument_class), 1, FieldKind::kChar);
  Add(l, "leg_side", offsetof(InstrumentDefMsg, leg_side), 1, FieldKind::kChar);
  Add(l, "leg_price", offsetof(InstrumentDefMsg, leg_price), 8, FieldKind::kPrice);
  Add(l, "leg_delta", offsetof(InstrumentDefMsg, leg_delta), 8, FieldKind::kPrice);
  Add(l, "leg_ratio_price_numerator", offsetof(InstrumentDefMsg, leg_ratio_price_numerator), 4, FieldKind::kI32);
  Add(l, "leg_ratio_price_denominator", offsetof(InstrumentDefMsg, leg_ratio_price_denominator), 4, FieldKind::kI32);
  Add(l, "leg_ratio_qty_numerator", offsetof(InstrumentDefMsg, leg_ratio_qty_numerator), 4, FieldKind::kI32);
  Add(l, "leg_ratio_qty_denominator", offsetof(InstrumentDefMsg, leg_ratio_qty_denominator), 4, FieldKind::kI32);
  Add(l, "leg_underlying_id", offsetof(InstrumentDefMsg, leg_underlying_id), 4, FieldKind::kU32);
  return l;
}

RecordLayout MakeImbalanceMsg() {
  RecordLayout l{"ImbalanceMsg", sizeof(ImbalanceMsg), {}};
  Add(l, "ts_recv", offsetof(ImbalanceMsg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(ImbalanceMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(ImbalanceMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(ImbalanceMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(ImbalanceMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "ref_price", offsetof(ImbalanceMsg, ref_price), 8, FieldKind::kPrice);
  Add(l, "auction_time", offsetof(ImbalanceMsg, auction_time), 8, FieldKind::kTimestamp);
  Add(l, "cont_book_clr_price", offsetof(ImbalanceMsg, cont_book_clr_price), 8, FieldKind::kPrice);
  Add(l, "auct_interest_clr_price", offsetof(ImbalanceMsg, auct_interest_clr_price), 8, FieldKind::kPrice);
  Add(l, "ssr_filling_price", offsetof(ImbalanceMsg, ssr_filling_price), 8, FieldKind::kPrice);
  Add(l, "ind_match_price", offsetof(ImbalanceMsg, ind_match_price), 8, FieldKind::kPrice);
  Add(l, "upper_collar", offsetof(ImbalanceMsg, upper_collar), 8, FieldKind::kPrice);
  Add(l, "lower_collar", offsetof(ImbalanceMsg, lower_collar), 8, FieldKind::kPrice);
  Add(l, "paired_qty", offsetof(ImbalanceMsg, paired_qty), 4, FieldKind::kU32);
  Add(l, "total_imbalance_qty", offsetof(ImbalanceMsg, total_imbalance_qty), 4, FieldKind::kU32);
  Add(l, "market_imbalance_qty", offsetof(ImbalanceMsg, market_imbalance_qty), 4, FieldKind::kU32);
  Add(l, "unpaired_qty", offsetof(ImbalanceMsg, unpaired_qty), 4, FieldKind::kU32);
  Add(l, "auction_type", offsetof(ImbalanceMsg, auction_type), 1, FieldKind::kChar);
  Add(l, "side", offsetof(ImbalanceMsg, side), 1, FieldKind::kChar);
  Add(l, "auction_status", offsetof(ImbalanceMsg, auction_status), 1, FieldKind::kU8);
  Add(l, "freeze_status", offsetof(ImbalanceMsg, freeze_status), 1, FieldKind::kU8);
  Add(l, "num_extensions", offsetof(ImbalanceMsg, num_extensions), 1, FieldKind::kU8);
  Add(l, "unpaired_side", offsetof(ImbalanceMsg, unpaired_side), 1, FieldKind::kChar);
  Add(l, "significant_imbalance", offsetof(ImbalanceMsg, significant_imbalance), 1, FieldKind::kChar);
  return l;
}

RecordLayout MakeStatMsg() {
  RecordLayout l{"StatMsg", sizeof(StatMsg), {}};
  Add(l, "ts_recv", offsetof(StatMsg, ts_recv), 8, FieldKind::kTimestamp);
  Add(l, "ts_event", offsetof(StatMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(StatMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(StatMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(StatMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "ts_ref", offsetof(StatMsg, ts_ref), 8, FieldKind::kTimestamp);
  Add(l, "price", offsetof(StatMsg, price), 8, FieldKind::kPrice);
  Add(l, "quantity", offsetof(StatMsg, quantity), 8, FieldKind::kI64);
  Add(l, "sequence", offsetof(StatMsg, sequence), 4, FieldKind::kU32);
  Add(l, "ts_in_delta", offsetof(StatMsg, ts_in_delta), 4, FieldKind::kI32);
  Add(l, "stat_type", offsetof(StatMsg, stat_type), 2, FieldKind::kU16);
  Add(l, "channel_id", offsetof(StatMsg, channel_id), 2, FieldKind::kU16);
  Add(l, "update_action", offsetof(StatMsg, update_action), 1, FieldKind::kU8);
  Add(l, "stat_flags", offsetof(StatMsg, stat_flags), 1, FieldKind::kU8);
  return l;
}

RecordLayout MakeErrorMsg() {
  RecordLayout l{"ErrorMsg", sizeof(ErrorMsg), {}};
  Add(l, "ts_event", offsetof(ErrorMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(ErrorMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(ErrorMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(ErrorMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "err", offsetof(ErrorMsg, err), 302, FieldKind::kCStr);
  Add(l, "code", offsetof(ErrorMsg, code), 1, FieldKind::kU8);
  Add(l, "is_last", offsetof(ErrorMsg, is_last), 1, FieldKind::kU8);
  return l;
}

RecordLayout MakeSymbolMappingMsg() {
  RecordLayout l{"SymbolMappingMsg", sizeof(SymbolMappingMsg), {}};
  Add(l, "ts_event", offsetof(SymbolMappingMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(SymbolMappingMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(SymbolMappingMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(SymbolMappingMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "stype_in", offsetof(SymbolMappingMsg, stype_in), 1, FieldKind::kU8);
  Add(l, "stype_in_symbol", offsetof(SymbolMappingMsg, stype_in_symbol), 71, FieldKind::kCStr);
  Add(l, "stype_out", offsetof(SymbolMappingMsg, stype_out), 1, FieldKind::kU8);
  Add(l, "stype_out_symbol", offsetof(SymbolMappingMsg, stype_out_symbol), 71, FieldKind::kCStr);
  Add(l, "start_ts", offsetof(SymbolMappingMsg, start_ts), 8, FieldKind::kTimestamp);
  Add(l, "end_ts", offsetof(SymbolMappingMsg, end_ts), 8, FieldKind::kTimestamp);
  return l;
}

RecordLayout MakeSystemMsg() {
  RecordLayout l{"SystemMsg", sizeof(SystemMsg), {}};
  Add(l, "ts_event", offsetof(SystemMsg, hd.ts_event), 8, FieldKind::kTimestamp);
  Add(l, "rtype", offsetof(SystemMsg, hd.rtype), 1, FieldKind::kU8);
  Add(l, "publisher_id", offsetof(SystemMsg, hd.publisher_id), 2, FieldKind::kU16);
  Add(l, "instrument_id", offsetof(SystemMsg, hd.instrument_id), 4, FieldKind::kU32);
  Add(l, "msg", offsetof(SystemMsg, msg), 303, FieldKind::kCStr);
  Add(l, "code", offsetof(SystemMsg, code), 1, FieldKind::kU8);
  return l;
}

}  // namespace

std::string_view SchemaName(Schema schema) {
  const auto i = static_cast<size_t>(schema);
  return i < kSchemaNames.size() ? kSchemaNames[i] : std::string_view{};
}

std::optional<Schema> SchemaFromName(std::string_view name) {
  for (size_t i = 0; i < kSchemaNames.size(); ++i) {
    if (kSchemaNames[i] == name) return static_cast<Schema>(i);
  }
  return std::nullopt;
}

uint8_t RTypeOf(Schema schema) {
  switch (schema) {
    case Schema::kMbo: return rtype::kMbo;
    case Schema::kMbp1: case Schema::kTbbo: return rtype::kMbp1;
    case Schema::kMbp10: return rtype::kMbp10;
    case Schema::kTrades: return rtype::kMbp0;
    case Schema::kOhlcv1S: return rtype::kOhlcv1S;
    case Schema::kOhlcv1M: return rtype::kOhlcv1M;
    case Schema::kOhlcv1H: return rtype::kOhlcv1H;
    case Schema::kOhlcv1D: return rtype::kOhlcv1D;
    case Schema::kOhlcvEod: return rtype::kOhlcvEod;
    case Schema::kDefinition: return rtype::kInstrumentDef;
    case Schema::kStatistics: return rtype::kStatistics;
    case Schema::kStatus: return rtype::kStatus;
    case Schema::kImbalance: return rtype::kImbalance;
    case Schema::kCmbp1: return rtype::kCmbp1;
    case Schema::kCbbo1S: return rtype::kCbbo1S;
    case Schema::kCbbo1M: return rtype::kCbbo1M;
    case Schema::kTcbbo: return rtype::kTcbbo;
    case Schema::kBbo1S: return rtype::kBbo1S;
    case Schema::kBbo1M: return rtype::kBbo1M;
  }
  return 0xFF;
}

std::string_view STypeName(uint8_t stype) {
  return stype < kSTypeNames.size() ? kSTypeNames[stype] : std::string_view{};
}

std::string RTypeName(uint8_t rtype) {
  switch (rtype) {
    case rtype::kMbp0: return "trades";
    case rtype::kMbp1: return "mbp-1";
    case rtype::kMbp10: return "mbp-10";
    case rtype::kOhlcvDeprecated: return "ohlcv-deprecated";
    case rtype::kOhlcv1S: return "ohlcv-1s";
    case rtype::kOhlcv1M: return "ohlcv-1m";
    case rtype::kOhlcv1H: return "ohlcv-1h";
    case rtype::kOhlcv1D: return "ohlcv-1d";
    case rtype::kOhlcvEod: return "ohlcv-eod";
    case rtype::kStatus: return "status";
    case rtype::kInstrumentDef: return "definition";
    case rtype::kImbalance: return "imbalance";
    case rtype::kError: return "error";
    case rtype::kSymbolMapping: return "symbol-mapping";
    case rtype::kSystem: return "system";
    case rtype::kStatistics: return "statistics";
    case rtype::kMbo: return "mbo";
    case rtype::kCmbp1: return "cmbp-1";
    case rtype::kCbbo1S: return "cbbo-1s";
    case rtype::kCbbo1M: return "cbbo-1m";
    case rtype::kTcbbo: return "tcbbo";
    case rtype::kBbo1S: return "bbo-1s";
    case rtype::kBbo1M: return "bbo-1m";
    default: return fmt::format("rtype-0x{:02x}", rtype);
  }
}

const RecordLayout* LayoutOf(uint8_t rtype) {
  static const RecordLayout mbo = MakeMboMsg(), trade = MakeTradeMsg(), mbp1 = MakeMbp1Msg(),
                            mbp10 = MakeMbp10Msg(), bbo = MakeBboMsg(), cbbo = MakeCbboMsg(),
                            cmbp1 = MakeCmbp1Msg(), ohlcv = MakeOhlcvMsg(),
                            status = MakeStatusMsg(), definition = MakeInstrumentDefMsg(),
                            imbalance = MakeImbalanceMsg(), stat = MakeStatMsg(),
                            error = MakeErrorMsg(), mapping = MakeSymbolMappingMsg(),
                            system = MakeSystemMsg();
  switch (rtype) {
    case rtype::kMbo: return &mbo;
    case rtype::kMbp0: return &trade;
    case rtype::kMbp1: return &mbp1;
    case rtype::kMbp10: return &mbp10;
    case rtype::kBbo1S: case rtype::kBbo1M: return &bbo;
    case rtype::kCbbo1S: case rtype::kCbbo1M: case rtype::kTcbbo: return &cbbo;
    case rtype::kCmbp1: return &cmbp1;
    case rtype::kOhlcvDeprecated: case rtype::kOhlcv1S: case rtype::kOhlcv1M:
    case rtype::kOhlcv1H: case rtype::kOhlcv1D: case rtype::kOhlcvEod: return &ohlcv;
    case rtype::kStatus: return &status;
    case rtype::kInstrumentDef: return &definition;
    case rtype::kImbalance: return &imbalance;
    case rtype::kStatistics: return &stat;
    case rtype::kError: return &error;
    case rtype::kSymbolMapping: return &mapping;
    case rtype::kSystem: return &system;
    default: return nullptr;
  }
}

const std::vector<std::string>& BookColumnNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (int level = 0; level < kMbp10Levels; ++level) {
      for (const auto field : kBookFieldNames) out.push_back(LevelColumnName(field, level));
    }
    return out;
  }();
  return names;
}

}  // namespace tickforge::dbn
