#include "tickforge/dbn/decoder.h"

#include <algorithm>
#include <cstring>

namespace tickforge::dbn {
namespace {

constexpr size_t kReadChunk = 1 << 20;
constexpr size_t kMaxRecordSize = 255 * kLengthMultiplier;

// The v3 struct size a record type needs, or 0 when the decoder does not know the type.
size_t MinSize(uint8_t rtype) {
  const RecordLayout* layout = LayoutOf(rtype);
  return layout == nullptr ? 0 : layout->size;
}

template <typename To, typename From>
void CopyCommon(To& to, const From& from) {
  to.hd = from.hd;
  to.hd.length = LengthOf<To>();
}

void CopyCstr(char* to, size_t to_len, const char* from, size_t from_len) {
  std::memset(to, 0, to_len);
  std::memcpy(to, from, std::min(to_len, from_len));
}

// The defaults Databento's v3 InstrumentDefMsg carries for fields older versions lack.
InstrumentDefMsg DefaultDefinition() {
  InstrumentDefMsg d;
  std::memset(&d, 0, sizeof d);
  d.leg_price = kUndefPrice;
  d.leg_delta = kUndefPrice;
  d.leg_side = 'N';
  return d;
}

template <typename Old>
void UpgradeDefinition(const Old& old, InstrumentDefMsg& d) {
  d = DefaultDefinition();
  CopyCommon(d, old);
  d.ts_recv = old.ts_recv;
  d.min_price_increment = old.min_price_increment;
  d.display_factor = old.display_factor;
  d.expiration = old.expiration;
  d.activation = old.activation;
  d.high_limit_price = old.high_limit_price;
  d.low_limit_price = old.low_limit_price;
  d.max_price_variation = old.max_price_variation;
  d.unit_of_measure_qty = old.unit_of_measure_qty;
  d.min_price_increment_amount = old.min_price_increment_amount;
  d.price_ratio = old.price_ratio;
  d.strike_price = old.strike_price;
  d.raw_instrument_id = old.raw_instrument_id;
  d.inst_attrib_value = old.inst_attrib_value;
  d.underlying_id = old.underlying_id;
  d.market_depth_implied = old.market_depth_implied;
  d.market_depth = old.market_depth;
  d.market_segment_id = old.market_segment_id;
  d.max_trade_vol = old.max_trade_vol;
  d.min_lot_size = old.min_lot_size;
  d.min_lot_size_block = old.min_lot_size_block;
  d.min_lot_size_round_lot = old.min_lot_size_round_lot;
  d.min_trade_vol = old.min_trade_vol;
  d.contract_multiplier = old.contract_multiplier;
  d.decay_quantity = old.decay_quantity;
  d.original_contract_size = old.original_contract_size;
  d.appl_id = old.appl_id;
  d.maturity_year = old.maturity_year;
  d.decay_start_date = old.decay_start_date;
  d.channel_id = old.channel_id;
  CopyCstr(d.currency, sizeof d.currency, old.currency, sizeof old.currency);
  CopyCstr(d.settl_currency, sizeof d.settl_currency, old.settl_currency, sizeof old.settl_currency);
  CopyCstr(d.secsubtype, sizeof d.secsubtype, old.secsubtype, sizeof old.secsubtype);
  CopyCstr(d.raw_symbol, sizeof d.raw_symbol, old.raw_symbol, sizeof old.raw_symbol);
  CopyCstr(d.group, sizeof d.group, old.group, sizeof old.group);
  CopyCstr(d.exchange, sizeof d.exchange, old.exchange, sizeof old.exchange);
  CopyCstr(d.asset, sizeof d.asset, old.asset, sizeof old.asset);
  CopyCstr(d.cfi, sizeof d.cfi, old.cfi, sizeof old.cfi);
  CopyCstr(d.security_type, sizeof d.security_type, old.security_type, sizeof old.security_type);
  CopyCstr(d.unit_of_measure, sizeof d.unit_of_measure, old.unit_of_measure, sizeof old.unit_of_measure);
  CopyCstr(d.underlying, sizeof d.underlying, old.underlying, sizeof old.underlying);
  CopyCstr(d.strike_price_currency, sizeof d.strike_price_currency, old.strike_price_currency,
           sizeof old.strike_price_currency);
  d.instrument_class = old.instrument_class;
  d.match_algorithm = old.match_algorithm;
  d.main_fraction = old.main_fraction;
  d.price_display_format = old.price_display_format;
  d.sub_fraction = old.sub_fraction;
  d.underlying_product = old.underlying_product;
  d.security_update_action = old.security_update_action;
  d.maturity_month = old.maturity_month;
  d.maturity_day = old.maturity_day;
  d.maturity_week = old.maturity_week;
  d.user_defined_instrument = old.user_defined_instrument;
  d.contract_multiplier_unit = old.contract_multiplier_unit;
  d.flow_schedule_type = old.flow_schedule_type;
  d.tick_rule = old.tick_rule;
}

// Whether a record of an older version needs Upgrade(): only these types changed layout; the
// others are read as they are, which keeps v1 MBO and MBP streams as fast as v3 ones.
bool NeedsUpgrade(uint8_t rtype, uint8_t version) {
  switch (rtype) {
    case rtype::kInstrumentDef:
    case rtype::kStatistics:
      return true;
    case rtype::kSymbolMapping:
    case rtype::kError:
    case rtype::kSystem:
      return version == 1;
    default:
      return false;
  }
}

}  // namespace

Result<std::unique_ptr<Decoder>> Decoder::Open(const std::string& path, DecoderOptions options) {
  ARROW_ASSIGN_OR_RAISE(auto input, OpenInput(path));
  return Open(std::move(input), path, options);
}

Result<std::unique_ptr<Decoder>> Decoder::Open(InputFile input, std::string name,
                                               DecoderOptions options) {
  std::unique_ptr<Decoder> decoder(new Decoder(std::move(input), std::move(name)));
  decoder->buffer_.resize(kReadChunk + kMaxRecordSize);
  ARROW_RETURN_NOT_OK(decoder->ReadMetadata(options));
  return decoder;
}

int64_t Decoder::raw_position() const {
  auto pos = input_.raw->Tell();
  return pos.ok() ? *pos : 0;
}

Status Decoder::Fail(uint64_t offset, const Status& status) const {
  const char* where = input_.compressed ? "decompressed byte " : "byte ";
  return Status::Invalid(path_, ": ", where, offset, ": ", status.message());
}

Result<size_t> Decoder::Fill(size_t n) {
  if (end_ - begin_ >= n || eof_) return end_ - begin_;
  if (begin_ + n > buffer_.size()) {
    // Move the unread tail to the front; keeps record starts 8-byte aligned.
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ - begin_ < n && !eof_) {
    if (end_ == buffer_.size()) {
      // Grow with the data that actually arrives, never to a size the input merely claims.
      buffer_.resize(std::min(std::max(n, buffer_.size()), buffer_.size() * 2));
    }
    const size_t room = buffer_.size() - end_;
    auto got = input_.stream->Read(static_cast<int64_t>(room), buffer_.data() + end_);
    if (!got.ok()) {
      const uint64_t at = consumed_ + (end_ - begin_);
      if (!input_.compressed) return InputError(path_, at, "{}", got.status().message());
      return Status::Invalid(path_, ": byte ", raw_position(), " of the compressed file (decompressed byte ",
                             at, "): ", got.status().message());
    }
    if (*got == 0) eof_ = true;
    end_ += static_cast<size_t>(*got);
  }
  return end_ - begin_;
}

Status Decoder::ReadMetadata(const DecoderOptions& options) {
  if (options.fragment_version) {
    const uint8_t v = *options.fragment_version;
    if (v < 1 || v > kDbnVersion) return Status::Invalid(path_, ": unsupported DBN version ", int{v});
    metadata_.version = v;
    metadata_.symbol_cstr_len = v == 1 ? kSymbolCstrLenV1 : kSymbolCstrLen;
    metadata_.ts_out = options.fragment_ts_out;
    return Status::OK();
  }
  // Legacy DBZ files hide their metadata in a zstd skippable frame, which decompression drops.
  const auto& head = input_.head;
  if (input_.compressed && head.size() >= 11 && std::memcmp(head.data() + 8, "DBZ", 3) == 0) {
    return InputError(path_, 8, "legacy DBZ data is not supported; convert it to DBN first");
  }
  ARROW_ASSIGN_OR_RAISE(size_t have, Fill(kPreludeLen));
  const uint8_t* p = buffer_.data() + begin_;
  if (have < 3 || std::memcmp(p, "DBN", 3) != 0) {
    return InputError(path_, 0, "not a DBN stream (missing \"DBN\" magic)");
  }
  if (have < kPreludeLen) return InputError(path_, have, "truncated DBN prelude");
  const uint8_t version = p[3];
  if (version < 1 || version > kDbnVersion) {
    return InputError(path_, 3, "unsupported DBN version {} (this build reads versions 1 to {})", int{version},
                      int{kDbnVersion});
  }
  uint32_t length;
  std::memcpy(&length, p + 4, 4);
  if (length < kMetadataFixedLen) {
    return InputError(path_, 4, "metadata length {} is shorter than the {}-byte fixed part", length,
                      kMetadataFixedLen);
  }
  ARROW_ASSIGN_OR_RAISE(have, Fill(kPreludeLen + length));
  if (have < kPreludeLen + length) {
    return InputError(path_, 4, "metadata length {} runs past the end of the data ({} bytes follow the prelude)",
                      length, have - kPreludeLen);
  }
  ARROW_ASSIGN_OR_RAISE(metadata_,
                        DecodeMetadata({buffer_.data() + begin_ + kPreludeLen, length}, version,
                                       path_, kPreludeLen));
  begin_ += kPreludeLen + length;
  consumed_ += kPreludeLen + length;
  // Realign so records start on an 8-byte boundary of the buffer.
  std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  return Status::OK();
}

Result<const RecordHeader*> Decoder::Next() {
  ARROW_ASSIGN_OR_RAISE(size_t have, Fill(sizeof(RecordHeader)));
  if (have == 0) return nullptr;
  record_offset_ = consumed_;
  if (have < sizeof(RecordHeader)) {
    return Fail(consumed_, Status::Invalid("truncated record header (", have, " of 16 bytes)"));
  }
  const uint8_t length = buffer_[begin_];
  const size_t size = size_t{length} * kLengthMultiplier;
  if (size < sizeof(RecordHeader)) {
    return Fail(consumed_, Status::Invalid("record length ", size, " is shorter than a record header"));
  }
  ARROW_ASSIGN_OR_RAISE(have, Fill(size));
  if (have < size) {
    return Fail(consumed_, Status::Invalid("truncated record: its header says ", size,
                                           " bytes but only ", have, " remain"));
  }
  const uint8_t* p = buffer_.data() + begin_;
  begin_ += size;
  consumed_ += size;
  if (reinterpret_cast<uintptr_t>(p) % alignof(uint64_t) != 0) {
    std::memcpy(scratch_.data(), p, size);
    p = scratch_.data();
  }
  const auto* record = reinterpret_cast<const RecordHeader*>(p);
  if (metadata_.version < kDbnVersion && NeedsUpgrade(record->rtype, metadata_.version)) {
    return Upgrade(record, size);
  }
  if (record->rtype != last_rtype_) {
    last_rtype_ = record->rtype;
    last_min_size_ = MinSize(record->rtype) + (metadata_.ts_out ? 8 : 0);
  }
  const size_t min_size = last_min_size_;
  if (size < min_size) {
    return Fail(record_offset_, Status::Invalid(RTypeName(record->rtype), " record of ", size,
                                                " bytes, expected at least ", min_size));
  }
  return record;
}

Result<const RecordHeader*> Decoder::Upgrade(const RecordHeader* record, size_t size) {
  const uint8_t version = metadata_.version;
  const size_t ts_out = metadata_.ts_out ? 8 : 0;
  auto need = [&](size_t old_size) -> Status {
    if (size < old_size + ts_out) {
      return Fail(record_offset_, Status::Invalid(RTypeName(record->rtype), " record of ", size,
                                                  " bytes, expected at least ", old_size + ts_out,
                                                  " for DBN v", int{version}));
    }
    return Status::OK();
  };
  // Copies the trailing ts_out (if any) behind the upgraded record and fixes the length.
  auto finish = [&](size_t new_size) -> const RecordHeader* {
    auto* out = reinterpret_cast<RecordHeader*>(scratch_.data());
    if (ts_out) {
      uint64_t value;
      std::memcpy(&value, reinterpret_cast<const uint8_t*>(record) + size - 8, 8);
      std::memcpy(scratch_.data() + new_size, &value, 8);
    }
    out->length = static_cast<uint8_t>((new_size + ts_out) / kLengthMultiplier);
    return out;
  };
  // The record may already live in scratch_; work on a copy of the old bytes.
  alignas(8) std::array<uint8_t, 512> old{};
  switch (record->rtype) {
    case rtype::kInstrumentDef: {
      auto& d = *reinterpret_cast<InstrumentDefMsg*>(scratch_.data());
      if (version == 1) {
        ARROW_RETURN_NOT_OK(need(sizeof(InstrumentDefMsgV1)));
        std::memcpy(old.data(), record, sizeof(InstrumentDefMsgV1));
        UpgradeDefinition(*reinterpret_cast<const InstrumentDefMsgV1*>(old.data()), d);
      } else {
        ARROW_RETURN_NOT_OK(need(sizeof(InstrumentDefMsgV2)));
        std::memcpy(old.data(), record, sizeof(InstrumentDefMsgV2));
        UpgradeDefinition(*reinterpret_cast<const InstrumentDefMsgV2*>(old.data()), d);
      }
      return finish(sizeof(InstrumentDefMsg));
    }
    case rtype::kStatistics: {
      ARROW_RETURN_NOT_OK(need(sizeof(StatMsgV1)));
      std::memcpy(old.data(), record, sizeof(StatMsgV1));
      const auto& o = *reinterpret_cast<const StatMsgV1*>(old.data());
      auto& s = *reinterpret_cast<StatMsg*>(scratch_.data());
      std::memset(&s, 0, sizeof s);
      CopyCommon(s, o);
      s.ts_recv = o.ts_recv;
      s.ts_ref = o.ts_ref;
      s.price = o.price;
      s.quantity = o.quantity == kUndefStatQuantityV1 ? kUndefStatQuantity : o.quantity;
      s.sequence = o.sequence;
      s.ts_in_delta = o.ts_in_delta;
      s.stat_type = o.stat_type;
      s.channel_id = o.channel_id;
      s.update_action = o.update_action;
      s.stat_flags = o.stat_flags;
      return finish(sizeof(StatMsg));
    }
    case rtype::kSymbolMapping: {
      if (version != 1) break;
      ARROW_RETURN_NOT_OK(need(sizeof(SymbolMappingMsgV1)));
      std::memcpy(old.data(), record, sizeof(SymbolMappingMsgV1));
      const auto& o = *reinterpret_cast<const SymbolMappingMsgV1*>(old.data());
      auto& s = *reinterpret_cast<SymbolMappingMsg*>(scratch_.data());
      std::memset(&s, 0, sizeof s);
      CopyCommon(s, o);
      s.stype_in = kNullSType;
      s.stype_out = kNullSType;
      CopyCstr(s.stype_in_symbol, sizeof s.stype_in_symbol, o.stype_in_symbol, sizeof o.stype_in_symbol);
      CopyCstr(s.stype_out_symbol, sizeof s.stype_out_symbol, o.stype_out_symbol, sizeof o.stype_out_symbol);
      s.start_ts = o.start_ts;
      s.end_ts = o.end_ts;
      return finish(sizeof(SymbolMappingMsg));
    }
    case rtype::kError: {
      if (version != 1) break;
      ARROW_RETURN_NOT_OK(need(sizeof(ErrorMsgV1)));
      std::memcpy(old.data(), record, sizeof(ErrorMsgV1));
      const auto& o = *reinterpret_cast<const ErrorMsgV1*>(old.data());
      auto& e = *reinterpret_cast<ErrorMsg*>(scratch_.data());
      std::memset(&e, 0, sizeof e);
      CopyCommon(e, o);
      CopyCstr(e.err, sizeof e.err, o.err, sizeof o.err);
      e.code = 0xFF;
      e.is_last = 0xFF;
      return finish(sizeof(ErrorMsg));
    }
    case rtype::kSystem: {
      if (version != 1) break;
      ARROW_RETURN_NOT_OK(need(sizeof(SystemMsgV1)));
      std::memcpy(old.data(), record, sizeof(SystemMsgV1));
      const auto& o = *reinterpret_cast<const SystemMsgV1*>(old.data());
      auto& s = *reinterpret_cast<SystemMsg*>(scratch_.data());
      std::memset(&s, 0, sizeof s);
      CopyCommon(s, o);
      CopyCstr(s.msg, sizeof s.msg, o.msg, sizeof o.msg);
      s.code = 0xFF;
      return finish(sizeof(SystemMsg));
    }
    default:
      break;
  }
  const size_t min_size = MinSize(record->rtype) + ts_out;
  if (size < min_size) {
    return Fail(record_offset_, Status::Invalid(RTypeName(record->rtype), " record of ", size,
                                                " bytes, expected at least ", min_size));
  }
  return record;
}

}  // namespace tickforge::dbn
