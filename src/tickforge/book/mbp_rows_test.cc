#include "tickforge/book/mbp_rows.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <limits>

#include "tickforge/book/test_common.h"
#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/synth/synth.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/testdata.h"

namespace tickforge::book {
namespace {

dbn::ArrowOptions FixedPrices() {
  dbn::ArrowOptions options;
  options.price_type = dbn::PriceType::kFixed;
  return options;
}

TEST(MbpSchemaTest, TenLevelsAreExactlyWhatToArrowGivesMbp10) {
  for (bool ts_out : {false, true}) {
    ASSERT_OK_AND_ASSIGN(auto schema, MbpSchema({.levels = 10, .ts_out = ts_out}));
    const auto expected = dbn::ArrowSchemaOf(*dbn::LayoutOf(dbn::rtype::kMbp10), FixedPrices(), ts_out);
    EXPECT_TRUE(schema->Equals(*expected)) << schema->ToString() << "\nvs\n" << expected->ToString();
  }
  // The book columns by their one name, in dbn::BookColumnNames() order.
  ASSERT_OK_AND_ASSIGN(auto schema, MbpSchema({}));
  const auto& names = dbn::BookColumnNames();
  const int first = schema->GetFieldIndex(names.front());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(schema->field(first + static_cast<int>(i))->name(), names[i]);
}

TEST(MbpSchemaTest, OneLevelIsMbp1AndMoreThanTenFollowThePattern) {
  ASSERT_OK_AND_ASSIGN(auto one, MbpSchema({.levels = 1}));
  EXPECT_TRUE(one->Equals(*dbn::ArrowSchemaOf(*dbn::LayoutOf(dbn::rtype::kMbp1), FixedPrices(), false)));
  ASSERT_OK_AND_ASSIGN(auto twelve, MbpSchema({.levels = 12}));
  EXPECT_EQ(twelve->num_fields(), 13 + 12 * 6 + 1);
  EXPECT_EQ(twelve->field(13 + 60)->name(), "bid_px_10");
  EXPECT_EQ(twelve->field(13 + 71)->name(), "ask_ct_11");
  EXPECT_EQ(twelve->field(13 + 71)->type()->id(), arrow::Type::UINT32);
  EXPECT_FALSE(MbpSchema({.levels = 0}).ok());
  EXPECT_FALSE(MbpSchema({.levels = 100}).ok());
}

// Rebuild each MBP-10 record of `path` as a book plus its event, write it through the builder
// and return the table, in batches of `batch_rows`.
Result<std::shared_ptr<arrow::Table>> Rewrite(const std::string& path, int64_t batch_rows) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, dbn::Decoder::Open(path));
  dbn::SymbolMap symbols;
  ARROW_RETURN_NOT_OK(symbols.Insert(decoder->metadata()));
  ARROW_ASSIGN_OR_RAISE(auto builder, MbpRowBuilder::Make({.ts_out = decoder->metadata().ts_out, .batch_rows = batch_rows},
                                                          &symbols));
  arrow::RecordBatchVector batches;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(const dbn::RecordHeader* record, decoder->Next());
    if (record == nullptr) break;
    if (record->rtype != dbn::rtype::kMbp10) continue;
    const auto& m = *reinterpret_cast<const dbn::Mbp10Msg*>(record);
    Book book;
    for (const auto& level : m.levels) {
      if (level.bid_px != dbn::kUndefPrice) book.bids.Add(level.bid_px, level.bid_sz, level.bid_ct);
      if (level.ask_px != dbn::kUndefPrice) book.asks.Add(level.ask_px, level.ask_sz, level.ask_ct);
    }
    RowEvent e{m.ts_recv, m.hd.ts_event, m.hd.publisher_id, m.hd.instrument_id, m.action, m.side, m.depth,
               m.price, m.size, m.flags, m.ts_in_delta, m.sequence};
    if (decoder->metadata().ts_out) {
      std::memcpy(&e.ts_out, reinterpret_cast<const uint8_t*>(record) + record->size() - 8, 8);
    }
    if (builder->full()) {
      ARROW_ASSIGN_OR_RAISE(auto batch, builder->Finish());
      batches.push_back(batch);
    }
    ARROW_RETURN_NOT_OK(builder->Append(e, book));
  }
  ARROW_ASSIGN_OR_RAISE(auto batch, builder->Finish());
  batches.push_back(batch);
  return arrow::Table::FromRecordBatches(builder->schema(), batches);
}

Result<std::shared_ptr<arrow::Table>> ToArrow(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto reader, dbn::OpenDbnReader(path, FixedPrices()));
  return reader->ToTable();
}

void ExpectSameRows(const std::string& path, int64_t batch_rows) {
  ASSERT_OK_AND_ASSIGN(auto ours, Rewrite(path, batch_rows));
  ASSERT_OK_AND_ASSIGN(auto theirs, ToArrow(path));
  ASSERT_GT(theirs->num_rows(), 0) << path;
  EXPECT_TRUE(ours->schema()->Equals(*theirs->schema())) << path;
  EXPECT_TRUE(ours->Equals(*theirs)) << path;
}

TEST(MbpRowBuilderTest, RowsEqualToArrowOnRealMbp10Files) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  const auto files = testing::TestDataFiles("dbn", "mbp-10");
  int checked = 0;
  for (const auto& file : files) {
    if (file.string().find(".dbz") != std::string::npos) continue;  // legacy DBZ is rejected
    ExpectSameRows(file.string(), 1);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(MbpRowBuilderTest, RowsEqualToArrowOnSyntheticDaysAcrossBatches) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "mbp_rows_synth";
  std::filesystem::remove_all(dir);
  synth::SynthOptions options;
  options.symbols = 3;
  options.days = 1;
  options.rows_per_day = 5000;
  ASSERT_OK_AND_ASSIGN(auto files, synth::WriteMbp10Days(dir.string(), options));
  ExpectSameRows(files.front().path, 777);
}

TEST(MbpRowBuilderTest, MissingLevelsAreUndefinedAndSizesSaturate) {
  dbn::SymbolMap symbols;
  ASSERT_OK(symbols.Insert(MboMetadata()));
  ASSERT_OK_AND_ASSIGN(auto builder, MbpRowBuilder::Make({.levels = 2}, &symbols));
  Book book;
  book.bids.Add(kMid, uint64_t{1} << 40, 3);
  RowEvent e;
  e.ts_recv = kT0 + 1;
  e.ts_event = kT0;
  e.instrument_id = 17077;
  e.action = 'A';
  ASSERT_OK(builder->Append(e, book));
  e.instrument_id = 99;  // not in the symbology
  e.ts_recv = dbn::kUndefTimestamp;
  ASSERT_OK(builder->Append(e, book));
  ASSERT_OK_AND_ASSIGN(auto batch, builder->Finish());
  ASSERT_EQ(batch->num_rows(), 2);
  ASSERT_OK(batch->ValidateFull());
  auto i64 = [&](const char* name) { return std::static_pointer_cast<arrow::Int64Array>(batch->GetColumnByName(name)); };
  auto u32 = [&](const char* name) { return std::static_pointer_cast<arrow::UInt32Array>(batch->GetColumnByName(name)); };
  EXPECT_EQ(i64("bid_px_00")->Value(0), kMid);
  EXPECT_EQ(u32("bid_sz_00")->Value(0), std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(u32("bid_ct_00")->Value(0), 3u);
  EXPECT_EQ(i64("bid_px_01")->Value(0), dbn::kUndefPrice);
  EXPECT_EQ(i64("ask_px_00")->Value(0), dbn::kUndefPrice);
  EXPECT_EQ(u32("ask_sz_00")->Value(0), 0u);
  EXPECT_EQ(u32("ask_ct_01")->Value(0), 0u);
  auto str = [&](const char* name) { return std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName(name)); };
  EXPECT_EQ(str("action")->GetString(1), "A");
  EXPECT_EQ(str("side")->GetString(0), "");  // a 0 byte is an empty string, as to_arrow writes it
  const auto symbol = std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName("symbol"));
  EXPECT_EQ(symbol->GetString(0), "ESH4");
  EXPECT_TRUE(symbol->IsNull(1));
  EXPECT_TRUE(batch->GetColumnByName("ts_recv")->IsNull(1));
  EXPECT_FALSE(batch->GetColumnByName("ts_recv")->IsNull(0));
  // The builder starts afresh after Finish.
  EXPECT_EQ(builder->rows(), 0);
}

TEST(MbpRowBuilderTest, WideRowsKeepSizesAndSequencesPast32Bits) {
  ASSERT_OK_AND_ASSIGN(auto builder, MbpRowBuilder::Make({.levels = 1, .map_symbols = false, .wide = true}, nullptr));
  for (const char* name : {"size", "sequence", "bid_sz_00", "ask_sz_00"}) {
    EXPECT_EQ(builder->schema()->GetFieldByName(name)->type()->id(), arrow::Type::UINT64) << name;
  }
  EXPECT_EQ(builder->schema()->GetFieldByName("bid_ct_00")->type()->id(), arrow::Type::UINT32);
  Book book;
  book.bids.Set(kMid, uint64_t{5'000'000'000}, 0);  // 50 BTC in 1e-8 units
  book.asks.Set(kMid + 1, 7, 0);
  RowEvent e;
  e.ts_recv = kT0;
  e.ts_event = kT0;
  e.sequence = 5'123'107'852'948;  // a Binance USD-M update id
  e.size = uint64_t{1} << 33;
  ASSERT_OK(builder->Append(e, book));
  ASSERT_OK_AND_ASSIGN(auto batch, builder->Finish());
  ASSERT_OK(batch->ValidateFull());
  auto u64 = [&](const char* name) { return std::static_pointer_cast<arrow::UInt64Array>(batch->GetColumnByName(name)); };
  EXPECT_EQ(u64("bid_sz_00")->Value(0), 5'000'000'000u);
  EXPECT_EQ(u64("ask_sz_00")->Value(0), 7u);
  EXPECT_EQ(u64("sequence")->Value(0), 5'123'107'852'948u);
  EXPECT_EQ(u64("size")->Value(0), uint64_t{1} << 33);
}

}  // namespace
}  // namespace tickforge::book
