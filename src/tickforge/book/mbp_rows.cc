#include "tickforge/book/mbp_rows.h"

#include <arrow/array.h>
#include <arrow/type.h>
#include <arrow/util/bit_util.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string_view>

#include "tickforge/dbn/schema.h"
#include "tickforge/util/time.h"

namespace tickforge::book {
namespace {

// The event columns, in the MBP-10 layout's order; Append writes them by these positions.
constexpr std::array<std::string_view, 13> kEventColumns = {
    "ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "action", "side",
    "depth",   "price",    "size",  "flags",        "ts_in_delta",   "sequence"};
enum EventColumn : size_t {
  kTsRecv, kTsEvent, kRtype, kPublisherId, kInstrumentId, kAction, kSide,
  kDepth, kPrice, kSize, kFlags, kTsInDelta, kSequence,
};
constexpr size_t kFirstLevelColumn = kEventColumns.size();

// The MBP-10 record layout with `levels` book levels: its event fields as they are, and the
// level fields repeated under the same names with the level number.
Result<dbn::RecordLayout> LayoutFor(int levels) {
  const dbn::RecordLayout& mbp10 = *dbn::LayoutOf(dbn::rtype::kMbp10);
  const size_t level_fields = static_cast<size_t>(dbn::kMbp10Levels * dbn::kBookFields);
  const size_t event_fields = mbp10.fields.size() - level_fields;
  if (event_fields != kEventColumns.size()) {
    return Status::Invalid("the MBP-10 layout has ", event_fields, " event fields; book rows expect ",
                           kEventColumns.size());
  }
  dbn::RecordLayout out{mbp10.name, mbp10.size, {}};
  for (size_t i = 0; i < event_fields; ++i) {
    if (mbp10.fields[i].name != kEventColumns[i]) {
      return Status::Invalid("the MBP-10 layout's field ", i, " is '", mbp10.fields[i].name, "'; book rows expect '",
                             kEventColumns[i], "'");
    }
    out.fields.push_back(mbp10.fields[i]);
  }
  for (int level = 0; level < levels; ++level) {
    for (int f = 0; f < dbn::kBookFields; ++f) {
      const dbn::FieldDesc& like = mbp10.fields[event_fields + static_cast<size_t>(f)];
      const auto field = static_cast<dbn::BookField>(f);
      if (like.name != dbn::BookColumnName(field, 0)) {
        return Status::Invalid("the MBP-10 layout's level field '", like.name, "' is out of BookField order");
      }
      dbn::FieldDesc desc = like;
      desc.offset = static_cast<uint16_t>(like.offset + level * sizeof(dbn::BidAskPair));
      if (level < dbn::kMbp10Levels) {
        desc.name = dbn::BookColumnName(field, level);
      } else {
        // Past the tenth level: the same name with the level number, as "bid_px_10".
        desc.name = fmt::format("{}_{:02d}", std::string_view(like.name).substr(0, like.name.size() - 3), level);
      }
      out.fields.push_back(std::move(desc));
    }
  }
  return out;
}

int64_t DayOf(uint64_t ts) { return static_cast<int64_t>(ts / static_cast<uint64_t>(kNanosPerDay)); }

template <typename T>
void Put(const std::shared_ptr<arrow::ResizableBuffer>& buffer, int64_t row, T value) {
  reinterpret_cast<T*>(buffer->mutable_data())[row] = value;
}

Result<std::shared_ptr<arrow::Buffer>> TimestampValidity(const arrow::Buffer& values, int64_t n) {
  ARROW_ASSIGN_OR_RAISE(auto bitmap, arrow::AllocateBitmap(n));
  const auto* ts = reinterpret_cast<const uint64_t*>(values.data());
  for (int64_t i = 0; i < n; ++i) arrow::bit_util::SetBitTo(bitmap->mutable_data(), i, ts[i] != dbn::kUndefTimestamp);
  return bitmap;
}

}  // namespace

Result<std::shared_ptr<arrow::Schema>> MbpSchema(const MbpRowOptions& options) {
  if (options.levels < 1 || options.levels > kMaxLevels) {
    return Status::Invalid("levels must be 1 to ", kMaxLevels, ", got ", options.levels);
  }
  ARROW_ASSIGN_OR_RAISE(auto layout, LayoutFor(options.levels));
  dbn::ArrowOptions arrow_options;
  arrow_options.price_type = dbn::PriceType::kFixed;
  arrow_options.pretty_ts = true;
  arrow_options.map_symbols = options.map_symbols;
  auto schema = dbn::ArrowSchemaOf(layout, arrow_options, options.ts_out);
  if (!options.wide) return schema;
  arrow::FieldVector fields = schema->fields();
  for (auto& field : fields) {
    const std::string& name = field->name();
    if (name == "size" || name == "sequence" || name.starts_with("bid_sz_") || name.starts_with("ask_sz_")) {
      field = field->WithType(arrow::uint64());
    }
  }
  return arrow::schema(std::move(fields), schema->metadata());
}

Result<std::unique_ptr<MbpRowBuilder>> MbpRowBuilder::Make(const MbpRowOptions& options,
                                                           const dbn::SymbolMap* symbols) {
  if (options.batch_rows <= 0) return Status::Invalid("batch_rows must be positive");
  ARROW_ASSIGN_OR_RAISE(auto schema, MbpSchema(options));
  std::unique_ptr<MbpRowBuilder> builder(new MbpRowBuilder(options, symbols, std::move(schema)));
  ARROW_RETURN_NOT_OK(builder->Allocate());
  return builder;
}

Status MbpRowBuilder::Allocate() {
  const int64_t n = options_.batch_rows;
  const int fixed = schema_->num_fields() - (options_.map_symbols ? 1 : 0);
  columns_.assign(static_cast<size_t>(fixed), nullptr);
  for (int c = 0; c < fixed; ++c) {
    if (c == kAction || c == kSide) continue;
    const auto& type = static_cast<const arrow::FixedWidthType&>(*schema_->field(c)->type());
    ARROW_ASSIGN_OR_RAISE(columns_[static_cast<size_t>(c)], arrow::AllocateResizableBuffer(n * type.byte_width()));
  }
  for (auto* offsets : {&action_offsets_, &side_offsets_, &symbol_offsets_}) {
    ARROW_ASSIGN_OR_RAISE(*offsets, arrow::AllocateResizableBuffer((n + 1) * static_cast<int64_t>(sizeof(int32_t))));
    Put<int32_t>(*offsets, 0, 0);
  }
  ARROW_ASSIGN_OR_RAISE(action_data_, arrow::AllocateResizableBuffer(n));
  ARROW_ASSIGN_OR_RAISE(side_data_, arrow::AllocateResizableBuffer(n));
  ARROW_ASSIGN_OR_RAISE(symbol_data_, arrow::AllocateResizableBuffer(n * 8));
  ARROW_ASSIGN_OR_RAISE(symbol_validity_, arrow::AllocateResizableBuffer(arrow::bit_util::BytesForBits(n)));
  rows_ = 0;
  action_at_ = side_at_ = symbol_at_ = 0;
  symbol_nulls_ = ts_recv_undef_ = ts_event_undef_ = ts_out_undef_ = 0;
  return Status::OK();
}

void MbpRowBuilder::SymbolsChanged() {
  last_day_ = INT64_MIN;
  last_symbol_ = nullptr;
}

Status MbpRowBuilder::Append(const RowEvent& e, const Book& book) {
  const int64_t r = rows_;
  Put<uint64_t>(columns_[kTsRecv], r, e.ts_recv);
  Put<uint64_t>(columns_[kTsEvent], r, e.ts_event);
  ts_recv_undef_ += e.ts_recv == dbn::kUndefTimestamp;
  ts_event_undef_ += e.ts_event == dbn::kUndefTimestamp;
  // One level is exactly DBN's MBP-1 record; every other depth is written as MBP-10.
  Put<uint8_t>(columns_[kRtype], r, options_.levels == 1 ? dbn::rtype::kMbp1 : dbn::rtype::kMbp10);
  Put<uint16_t>(columns_[kPublisherId], r, e.publisher_id);
  Put<uint32_t>(columns_[kInstrumentId], r, e.instrument_id);
  action_data_->mutable_data()[action_at_] = static_cast<uint8_t>(e.action);
  action_at_ += e.action != 0;
  Put<int32_t>(action_offsets_, r + 1, action_at_);
  side_data_->mutable_data()[side_at_] = static_cast<uint8_t>(e.side);
  side_at_ += e.side != 0;
  Put<int32_t>(side_offsets_, r + 1, side_at_);
  Put<uint8_t>(columns_[kDepth], r, e.depth);
  Put<int64_t>(columns_[kPrice], r, e.price);
  const bool wide = options_.wide;
  constexpr uint64_t kMaxSize = std::numeric_limits<uint32_t>::max();
  if (wide) {
    Put<uint64_t>(columns_[kSize], r, e.size);
  } else {
    Put<uint32_t>(columns_[kSize], r, static_cast<uint32_t>(std::min(e.size, kMaxSize)));
  }
  Put<uint8_t>(columns_[kFlags], r, e.flags);
  Put<int32_t>(columns_[kTsInDelta], r, e.ts_in_delta);
  if (wide) {
    Put<uint64_t>(columns_[kSequence], r, e.sequence);
  } else {
    Put<uint32_t>(columns_[kSequence], r, static_cast<uint32_t>(e.sequence));
  }

  const size_t levels = static_cast<size_t>(options_.levels);
  const size_t bids = std::min(levels, book.bids.size());
  const size_t asks = std::min(levels, book.asks.size());
  for (size_t i = 0; i < levels; ++i) {
    const size_t c = kFirstLevelColumn + i * static_cast<size_t>(dbn::kBookFields);
    const Level bid = i < bids ? book.bids[i] : Level{dbn::kUndefPrice, 0, 0};
    const Level ask = i < asks ? book.asks[i] : Level{dbn::kUndefPrice, 0, 0};
    Put<int64_t>(columns_[c + 0], r, bid.price);
    Put<int64_t>(columns_[c + 1], r, ask.price);
    if (wide) {
      Put<uint64_t>(columns_[c + 2], r, bid.size);
      Put<uint64_t>(columns_[c + 3], r, ask.size);
    } else {
      Put<uint32_t>(columns_[c + 2], r, static_cast<uint32_t>(std::min(bid.size, kMaxSize)));
      Put<uint32_t>(columns_[c + 3], r, static_cast<uint32_t>(std::min(ask.size, kMaxSize)));
    }
    Put<uint32_t>(columns_[c + 4], r, bid.count);
    Put<uint32_t>(columns_[c + 5], r, ask.count);
  }
  if (options_.ts_out) {
    Put<uint64_t>(columns_[kFirstLevelColumn + levels * dbn::kBookFields], r, e.ts_out);
    ts_out_undef_ += e.ts_out == dbn::kUndefTimestamp;
  }
  if (options_.map_symbols) {
    // As dbn/to_arrow: the symbol of the instrument on the day of ts_recv.
    const int64_t day = e.ts_recv == dbn::kUndefTimestamp ? -1 : DayOf(e.ts_recv);
    if (e.instrument_id != last_id_ || day != last_day_) {
      last_symbol_ = symbols_ ? symbols_->Resolve(e.instrument_id, e.ts_recv) : nullptr;
      last_id_ = e.instrument_id;
      last_day_ = day;
    }
    uint8_t* validity = symbol_validity_->mutable_data();
    if (last_symbol_ != nullptr) {
      const auto len = static_cast<int64_t>(last_symbol_->size());
      if (symbol_at_ + len > symbol_data_->size()) {
        // Names longer than 8 bytes on average: the one allocation that is not per batch.
        ARROW_RETURN_NOT_OK(symbol_data_->Resize(std::max(symbol_data_->size() * 2, symbol_at_ + len), false));
      }
      std::memcpy(symbol_data_->mutable_data() + symbol_at_, last_symbol_->data(), static_cast<size_t>(len));
      symbol_at_ += static_cast<int32_t>(len);
      arrow::bit_util::SetBit(validity, r);
    } else {
      arrow::bit_util::ClearBit(validity, r);
      ++symbol_nulls_;
    }
    Put<int32_t>(symbol_offsets_, r + 1, symbol_at_);
  }
  ++rows_;
  return Status::OK();
}

Result<std::shared_ptr<arrow::RecordBatch>> MbpRowBuilder::Finish() {
  const int64_t n = rows_;
  arrow::ArrayVector arrays;
  const size_t fixed = columns_.size();
  const size_t ts_out_column = kFirstLevelColumn + static_cast<size_t>(options_.levels) * dbn::kBookFields;
  auto strings = [n](std::shared_ptr<arrow::ResizableBuffer> offsets, std::shared_ptr<arrow::ResizableBuffer> data,
                     int32_t bytes, std::shared_ptr<arrow::Buffer> validity, int64_t nulls) -> Result<std::shared_ptr<arrow::Array>> {
    ARROW_RETURN_NOT_OK(offsets->Resize((n + 1) * static_cast<int64_t>(sizeof(int32_t)), false));
    ARROW_RETURN_NOT_OK(data->Resize(bytes, false));
    return arrow::MakeArray(arrow::ArrayData::Make(arrow::utf8(), n, {std::move(validity), std::move(offsets), std::move(data)}, nulls));
  };
  for (size_t c = 0; c < fixed; ++c) {
    if (c == kAction || c == kSide) {
      ARROW_ASSIGN_OR_RAISE(auto array, c == kAction ? strings(action_offsets_, action_data_, action_at_, nullptr, 0)
                                                     : strings(side_offsets_, side_data_, side_at_, nullptr, 0));
      arrays.push_back(std::move(array));
      continue;
    }
    const auto& type = schema_->field(static_cast<int>(c))->type();
    const auto width = static_cast<const arrow::FixedWidthType&>(*type).byte_width();
    auto& values = columns_[c];
    ARROW_RETURN_NOT_OK(values->Resize(n * width, false));
    std::shared_ptr<arrow::Buffer> validity;
    int64_t nulls = 0;
    if (c == kTsRecv || c == kTsEvent || (options_.ts_out && c == ts_out_column)) {
      nulls = c == kTsRecv ? ts_recv_undef_ : c == kTsEvent ? ts_event_undef_ : ts_out_undef_;
      if (nulls > 0) {
        ARROW_ASSIGN_OR_RAISE(validity, TimestampValidity(*values, n));
      }
    }
    arrays.push_back(arrow::MakeArray(arrow::ArrayData::Make(type, n, {std::move(validity), values}, nulls)));
  }
  if (options_.map_symbols) {
    std::shared_ptr<arrow::Buffer> validity;
    if (symbol_nulls_ > 0) {
      ARROW_RETURN_NOT_OK(symbol_validity_->Resize(arrow::bit_util::BytesForBits(n), false));
      validity = symbol_validity_;
    }
    ARROW_ASSIGN_OR_RAISE(auto array, strings(symbol_offsets_, symbol_data_, symbol_at_, validity, symbol_nulls_));
    arrays.push_back(std::move(array));
  }
  auto batch = arrow::RecordBatch::Make(schema_, n, std::move(arrays));
  ARROW_RETURN_NOT_OK(Allocate());
  return batch;
}

}  // namespace tickforge::book
