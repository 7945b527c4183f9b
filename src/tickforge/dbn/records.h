// DBN record layouts (Databento Binary Encoding), version 3 plus the v1/v2 layouts
// that the decoder upgrades. Every struct mirrors the wire format byte for byte
// (little endian, natural alignment), which the size assertions pin down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace tickforge::dbn {

inline constexpr int64_t kUndefPrice = std::numeric_limits<int64_t>::max();
inline constexpr uint64_t kUndefTimestamp = std::numeric_limits<uint64_t>::max();
inline constexpr int64_t kUndefStatQuantity = std::numeric_limits<int64_t>::max();
inline constexpr int32_t kUndefStatQuantityV1 = std::numeric_limits<int32_t>::max();
inline constexpr int64_t kFixedPriceScale = 1'000'000'000;
inline constexpr uint8_t kDbnVersion = 3;
inline constexpr size_t kSymbolCstrLenV1 = 22;
inline constexpr size_t kSymbolCstrLen = 71;
/// The record header's `length` counts 4-byte words.
inline constexpr size_t kLengthMultiplier = 4;

/// Bits of a record's `flags` byte.
namespace flag {
/// The last record of an event for its instrument: look at the book only after it.
inline constexpr uint8_t kLast = 1 << 7;
/// A top-of-book venue's record: an Add replaces that side's only level.
inline constexpr uint8_t kTob = 1 << 6;
/// A record of a book snapshot rather than a live event.
inline constexpr uint8_t kSnapshot = 1 << 5;
/// An aggregated price level rather than an individual order.
inline constexpr uint8_t kMbp = 1 << 4;
/// ts_recv is not the capture time (snapshots carry the snapshot's generation time).
inline constexpr uint8_t kBadTsRecv = 1 << 3;
/// The venue reported a gap: the book may be wrong until the next snapshot.
inline constexpr uint8_t kMaybeBadBook = 1 << 2;
}  // namespace flag

/// Record types (the header's `rtype` byte).
namespace rtype {
inline constexpr uint8_t kMbp0 = 0x00;
inline constexpr uint8_t kMbp1 = 0x01;
inline constexpr uint8_t kMbp10 = 0x0A;
inline constexpr uint8_t kOhlcvDeprecated = 0x11;
inline constexpr uint8_t kStatus = 0x12;
inline constexpr uint8_t kInstrumentDef = 0x13;
inline constexpr uint8_t kImbalance = 0x14;
inline constexpr uint8_t kError = 0x15;
inline constexpr uint8_t kSymbolMapping = 0x16;
inline constexpr uint8_t kSystem = 0x17;
inline constexpr uint8_t kStatistics = 0x18;
inline constexpr uint8_t kOhlcv1S = 0x20;
inline constexpr uint8_t kOhlcv1M = 0x21;
inline constexpr uint8_t kOhlcv1H = 0x22;
inline constexpr uint8_t kOhlcv1D = 0x23;
inline constexpr uint8_t kOhlcvEod = 0x24;
inline constexpr uint8_t kMbo = 0xA0;
inline constexpr uint8_t kCmbp1 = 0xB1;
inline constexpr uint8_t kCbbo1S = 0xC0;
inline constexpr uint8_t kCbbo1M = 0xC1;
inline constexpr uint8_t kTcbbo = 0xC2;
inline constexpr uint8_t kBbo1S = 0xC3;
inline constexpr uint8_t kBbo1M = 0xC4;
}  // namespace rtype

struct RecordHeader {
  uint8_t length;
  uint8_t rtype;
  uint16_t publisher_id;
  uint32_t instrument_id;
  uint64_t ts_event;

  /// Return the record's size in bytes.
  [[nodiscard]] size_t size() const { return size_t{length} * kLengthMultiplier; }
};
static_assert(sizeof(RecordHeader) == 16);

struct BidAskPair {
  int64_t bid_px;
  int64_t ask_px;
  uint32_t bid_sz;
  uint32_t ask_sz;
  uint32_t bid_ct;
  uint32_t ask_ct;
};
static_assert(sizeof(BidAskPair) == 32);

struct ConsolidatedBidAskPair {
  int64_t bid_px;
  int64_t ask_px;
  uint32_t bid_sz;
  uint32_t ask_sz;
  uint16_t bid_pb;
  char reserved1[2];
  uint16_t ask_pb;
  char reserved2[2];
};
static_assert(sizeof(ConsolidatedBidAskPair) == 32);

struct MboMsg {
  RecordHeader hd;
  uint64_t order_id;
  int64_t price;
  uint32_t size;
  uint8_t flags;
  uint8_t channel_id;
  char action;
  char side;
  uint64_t ts_recv;
  int32_t ts_in_delta;
  uint32_t sequence;
};
static_assert(sizeof(MboMsg) == 56);

struct TradeMsg {
  RecordHeader hd;
  int64_t price;
  uint32_t size;
  char action;
  char side;
  uint8_t flags;
  uint8_t depth;
  uint64_t ts_recv;
  int32_t ts_in_delta;
  uint32_t sequence;
};
static_assert(sizeof(TradeMsg) == 48);

struct Mbp1Msg {
  RecordHeader hd;
  int64_t price;
  uint32_t size;
  char action;
  char side;
  uint8_t flags;
  uint8_t depth;
  uint64_t ts_recv;
  int32_t ts_in_delta;
  uint32_t sequence;
  BidAskPair levels[1];
};
static_assert(sizeof(Mbp1Msg) == 80);

struct Mbp10Msg {
  RecordHeader hd;
  int64_t price;
  uint32_t size;
  char action;
  char side;
  uint8_t flags;
  uint8_t depth;
  uint64_t ts_recv;
  int32_t ts_in_delta;
  uint32_t sequence;
  BidAskPair levels[10];
};
static_assert(sizeof(Mbp10Msg) == 368);

struct BboMsg {
  RecordHeader hd;
  int64_t price;
  uint32_t size;
  uint8_t reserved1;
  char side;
  uint8_t flags;
  uint8_t reserved2;
  uint64_t ts_recv;
  char reserved3[4];
  uint32_t sequence;
  BidAskPair levels[1];
};
static_assert(sizeof(BboMsg) == 80);

struct CbboMsg {
  RecordHeader hd;
  int64_t price;
  uint32_t size;
  uint8_t reserved1;
  char side;
  uint8_t flags;
  uint8_t reserved2;
  uint64_t ts_recv;
  char reserved3[8];
  ConsolidatedBidAskPair levels[1];
};
static_assert(sizeof(CbboMsg) == 80);

struct Cmbp1Msg {
  RecordHeader hd;
  int64_t price;
  uint32_t size;
  char action;
  char side;
  uint8_t flags;
  char reserved1;
  uint64_t ts_recv;
  int32_t ts_in_delta;
  char reserved2[4];
  ConsolidatedBidAskPair levels[1];
};
static_assert(sizeof(Cmbp1Msg) == 80);

struct OhlcvMsg {
  RecordHeader hd;
  int64_t open;
  int64_t high;
  int64_t low;
  int64_t close;
  uint64_t volume;
};
static_assert(sizeof(OhlcvMsg) == 56);

struct StatusMsg {
  RecordHeader hd;
  uint64_t ts_recv;
  uint16_t action;
  uint16_t reason;
  uint16_t trading_event;
  char is_trading;
  char is_quoting;
  char is_short_sell_restricted;
  char reserved[7];
};
static_assert(sizeof(StatusMsg) == 40);

struct InstrumentDefMsg {
  RecordHeader hd;
  uint64_t ts_recv;
  int64_t min_price_increment;
  int64_t display_factor;
  uint64_t expiration;
  uint64_t activation;
  int64_t high_limit_price;
  int64_t low_limit_price;
  int64_t max_price_variation;
  int64_t unit_of_measure_qty;
  int64_t min_price_increment_amount;
  int64_t price_ratio;
  int64_t strike_price;
  uint64_t raw_instrument_id;
  int64_t leg_price;
  int64_t leg_delta;
  int32_t inst_attrib_value;
  uint32_t underlying_id;
  int32_t market_depth_implied;
  int32_t market_depth;
  uint32_t market_segment_id;
  uint32_t max_trade_vol;
  int32_t min_lot_size;
  int32_t min_lot_size_block;
  int32_t min_lot_size_round_lot;
  uint32_t min_trade_vol;
  int32_t contract_multiplier;
  int32_t decay_quantity;
  int32_t original_contract_size;
  uint32_t leg_instrument_id;
  int32_t leg_ratio_price_numerator;
  int32_t leg_ratio_price_denominator;
  int32_t leg_ratio_qty_numerator;
  int32_t leg_ratio_qty_denominator;
  uint32_t leg_underlying_id;
  int16_t appl_id;
  uint16_t maturity_year;
  uint16_t decay_start_date;
  uint16_t channel_id;
  uint16_t leg_count;
  uint16_t leg_index;
  char currency[4];
  char settl_currency[4];
  char secsubtype[6];
  char raw_symbol[71];
  char group[21];
  char exchange[5];
  char asset[11];
  char cfi[7];
  char security_type[7];
  char unit_of_measure[31];
  char underlying[21];
  char strike_price_currency[4];
  char leg_raw_symbol[71];
  char instrument_class;
  char match_algorithm;
  uint8_t main_fraction;
  uint8_t price_display_format;
  uint8_t sub_fraction;
  uint8_t underlying_product;
  char security_update_action;
  uint8_t maturity_month;
  uint8_t maturity_day;
  uint8_t maturity_week;
  char user_defined_instrument;
  int8_t contract_multiplier_unit;
  int8_t flow_schedule_type;
  uint8_t tick_rule;
  char leg_instrument_class;
  char leg_side;
  char reserved[17];
};
static_assert(sizeof(InstrumentDefMsg) == 520);

struct ImbalanceMsg {
  RecordHeader hd;
  uint64_t ts_recv;
  int64_t ref_price;
  uint64_t auction_time;
  int64_t cont_book_clr_price;
  int64_t auct_interest_clr_price;
  int64_t ssr_filling_price;
  int64_t ind_match_price;
  int64_t upper_collar;
  int64_t lower_collar;
  uint32_t paired_qty;
  uint32_t total_imbalance_qty;
  uint32_t market_imbalance_qty;
  uint32_t unpaired_qty;
  char auction_type;
  char side;
  uint8_t auction_status;
  uint8_t freeze_status;
  uint8_t num_extensions;
  char unpaired_side;
  char significant_imbalance;
  char reserved;
};
static_assert(sizeof(ImbalanceMsg) == 112);

struct StatMsg {
  RecordHeader hd;
  uint64_t ts_recv;
  uint64_t ts_ref;
  int64_t price;
  int64_t quantity;
  uint32_t sequence;
  int32_t ts_in_delta;
  uint16_t stat_type;
  uint16_t channel_id;
  uint8_t update_action;
  uint8_t stat_flags;
  char reserved[18];
};
static_assert(sizeof(StatMsg) == 80);

struct ErrorMsg {
  RecordHeader hd;
  char err[302];
  uint8_t code;
  uint8_t is_last;
};
static_assert(sizeof(ErrorMsg) == 320);

struct SymbolMappingMsg {
  RecordHeader hd;
  uint8_t stype_in;
  char stype_in_symbol[71];
  uint8_t stype_out;
  char stype_out_symbol[71];
  uint64_t start_ts;
  uint64_t end_ts;
};
static_assert(sizeof(SymbolMappingMsg) == 176);

struct SystemMsg {
  RecordHeader hd;
  char msg[303];
  uint8_t code;
};
static_assert(sizeof(SystemMsg) == 320);

struct InstrumentDefMsgV1 {
  RecordHeader hd;
  uint64_t ts_recv;
  int64_t min_price_increment;
  int64_t display_factor;
  uint64_t expiration;
  uint64_t activation;
  int64_t high_limit_price;
  int64_t low_limit_price;
  int64_t max_price_variation;
  int64_t trading_reference_price;
  int64_t unit_of_measure_qty;
  int64_t min_price_increment_amount;
  int64_t price_ratio;
  int32_t inst_attrib_value;
  uint32_t underlying_id;
  uint32_t raw_instrument_id;
  int32_t market_depth_implied;
  int32_t market_depth;
  uint32_t market_segment_id;
  uint32_t max_trade_vol;
  int32_t min_lot_size;
  int32_t min_lot_size_block;
  int32_t min_lot_size_round_lot;
  uint32_t min_trade_vol;
  char reserved2[4];
  int32_t contract_multiplier;
  int32_t decay_quantity;
  int32_t original_contract_size;
  char reserved3[4];
  uint16_t trading_reference_date;
  int16_t appl_id;
  uint16_t maturity_year;
  uint16_t decay_start_date;
  uint16_t channel_id;
  char currency[4];
  char settl_currency[4];
  char secsubtype[6];
  char raw_symbol[22];
  char group[21];
  char exchange[5];
  char asset[7];
  char cfi[7];
  char security_type[7];
  char unit_of_measure[31];
  char underlying[21];
  char strike_price_currency[4];
  char instrument_class;
  char reserved4[2];
  int64_t strike_price;
  char reserved5[6];
  char match_algorithm;
  uint8_t md_security_trading_status;
  uint8_t main_fraction;
  uint8_t price_display_format;
  uint8_t settl_price_type;
  uint8_t sub_fraction;
  uint8_t underlying_product;
  char security_update_action;
  uint8_t maturity_month;
  uint8_t maturity_day;
  uint8_t maturity_week;
  char user_defined_instrument;
  int8_t contract_multiplier_unit;
  int8_t flow_schedule_type;
  uint8_t tick_rule;
  char dummy[3];
};
static_assert(sizeof(InstrumentDefMsgV1) == 360);

struct InstrumentDefMsgV2 {
  RecordHeader hd;
  uint64_t ts_recv;
  int64_t min_price_increment;
  int64_t display_factor;
  uint64_t expiration;
  uint64_t activation;
  int64_t high_limit_price;
  int64_t low_limit_price;
  int64_t max_price_variation;
  int64_t trading_reference_price;
  int64_t unit_of_measure_qty;
  int64_t min_price_increment_amount;
  int64_t price_ratio;
  int64_t strike_price;
  int32_t inst_attrib_value;
  uint32_t underlying_id;
  uint32_t raw_instrument_id;
  int32_t market_depth_implied;
  int32_t market_depth;
  uint32_t market_segment_id;
  uint32_t max_trade_vol;
  int32_t min_lot_size;
  int32_t min_lot_size_block;
  int32_t min_lot_size_round_lot;
  uint32_t min_trade_vol;
  int32_t contract_multiplier;
  int32_t decay_quantity;
  int32_t original_contract_size;
  uint16_t trading_reference_date;
  int16_t appl_id;
  uint16_t maturity_year;
  uint16_t decay_start_date;
  uint16_t channel_id;
  char currency[4];
  char settl_currency[4];
  char secsubtype[6];
  char raw_symbol[71];
  char group[21];
  char exchange[5];
  char asset[7];
  char cfi[7];
  char security_type[7];
  char unit_of_measure[31];
  char underlying[21];
  char strike_price_currency[4];
  char instrument_class;
  char match_algorithm;
  uint8_t md_security_trading_status;
  uint8_t main_fraction;
  uint8_t price_display_format;
  uint8_t settl_price_type;
  uint8_t sub_fraction;
  uint8_t underlying_product;
  char security_update_action;
  uint8_t maturity_month;
  uint8_t maturity_day;
  uint8_t maturity_week;
  char user_defined_instrument;
  int8_t contract_multiplier_unit;
  int8_t flow_schedule_type;
  uint8_t tick_rule;
  char reserved[10];
};
static_assert(sizeof(InstrumentDefMsgV2) == 400);

struct StatMsgV1 {
  RecordHeader hd;
  uint64_t ts_recv;
  uint64_t ts_ref;
  int64_t price;
  int32_t quantity;
  uint32_t sequence;
  int32_t ts_in_delta;
  uint16_t stat_type;
  uint16_t channel_id;
  uint8_t update_action;
  uint8_t stat_flags;
  char reserved[6];
};
static_assert(sizeof(StatMsgV1) == 64);

struct SymbolMappingMsgV1 {
  RecordHeader hd;
  char stype_in_symbol[22];
  char stype_out_symbol[22];
  char dummy[4];
  uint64_t start_ts;
  uint64_t end_ts;
};
static_assert(sizeof(SymbolMappingMsgV1) == 80);

struct ErrorMsgV1 {
  RecordHeader hd;
  char err[64];
};
static_assert(sizeof(ErrorMsgV1) == 80);

struct SystemMsgV1 {
  RecordHeader hd;
  char msg[64];
};
static_assert(sizeof(SystemMsgV1) == 80);


/// Return the length byte for a record of type T.
template <typename T>
constexpr uint8_t LengthOf() {
  static_assert(sizeof(T) % kLengthMultiplier == 0);
  return static_cast<uint8_t>(sizeof(T) / kLengthMultiplier);
}

}  // namespace tickforge::dbn
