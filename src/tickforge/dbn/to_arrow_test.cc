#include "tickforge/dbn/to_arrow.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "tickforge/dbn/encoder.h"

namespace tickforge::dbn {
namespace {

constexpr uint64_t kDay = 86'400'000'000'000ULL;
constexpr uint64_t k20240403 = 1'712'102'400'000'000'000ULL;

TEST(SchemaTest, Mbp10ColumnsFollowToDf) {
  const RecordLayout* layout = LayoutOf(rtype::kMbp10);
  ASSERT_NE(layout, nullptr);
  auto schema = ArrowSchemaOf(*layout, ArrowOptions{}, /*ts_out=*/false);
  ASSERT_EQ(schema->num_fields(), 13 + 60 + 1);
  EXPECT_EQ(schema->field(0)->name(), "ts_recv");
  EXPECT_EQ(schema->field(0)->type()->ToString(), "timestamp[ns, tz=UTC]");
  EXPECT_EQ(schema->field(13)->name(), "bid_px_00");
  EXPECT_EQ(schema->field(13)->type()->id(), arrow::Type::DOUBLE);
  EXPECT_EQ(schema->field(72)->name(), "ask_ct_09");
  EXPECT_EQ(schema->field(73)->name(), "symbol");
  ArrowOptions raw;
  raw.price_type = PriceType::kFixed;
  raw.pretty_ts = false;
  raw.map_symbols = false;
  auto fixed = ArrowSchemaOf(*layout, raw, /*ts_out=*/true);
  EXPECT_EQ(fixed->field(13)->type()->id(), arrow::Type::INT64);
  EXPECT_EQ(fixed->field(0)->type()->id(), arrow::Type::UINT64);
  EXPECT_EQ(fixed->field(fixed->num_fields() - 1)->name(), "ts_out");
}

TEST(SchemaTest, NamesRoundTrip) {
  for (uint16_t i = 0; i < kSchemaCount; ++i) {
    const auto schema = static_cast<Schema>(i);
    EXPECT_EQ(SchemaFromName(SchemaName(schema)), schema);
    EXPECT_NE(LayoutOf(RTypeOf(schema)), nullptr) << SchemaName(schema);
  }
  EXPECT_FALSE(SchemaFromName("mbp-11"));
}

TEST(SymbolMapTest, ResolvesPointInTime) {
  Metadata m;
  m.stype_in = 1;
  m.stype_out = 0;
  m.mappings = {{"ESH1", {{20240403, 20240405, "7"}, {20240408, 20240409, "9"}}},
                {"ESM1", {{20240405, 20240409, "7"}}}};
  SymbolMap map;
  ASSERT_TRUE(map.Insert(m).ok());
  auto at = [&](uint32_t id, uint64_t ts) {
    const std::string* s = map.Resolve(id, ts);
    return s ? *s : std::string("<none>");
  };
  EXPECT_EQ(at(7, k20240403), "ESH1");
  EXPECT_EQ(at(7, k20240403 + kDay + 5), "ESH1");
  EXPECT_EQ(at(7, k20240403 + 2 * kDay), "ESM1");  // end date is exclusive
  EXPECT_EQ(at(9, k20240403 + 5 * kDay), "ESH1");
  EXPECT_EQ(at(9, k20240403), "<none>");
  EXPECT_EQ(at(8, k20240403), "<none>");
  EXPECT_EQ(at(7, kUndefTimestamp), "<none>");
}

TEST(SymbolMapTest, RejectsNonNumericInstrumentIds) {
  Metadata m;
  m.stype_in = 1;
  m.stype_out = 0;
  m.mappings = {{"ESH1", {{20240403, 20240405, "not-an-id"}}}};
  SymbolMap map;
  EXPECT_FALSE(map.Insert(m).ok());
}

TEST(BatchBuilderTest, ConvertsValuesLikeToDf) {
  const RecordLayout& layout = *LayoutOf(rtype::kMbp1);
  Metadata m;
  m.stype_in = 1;
  m.stype_out = 0;
  m.mappings = {{"M6AM4", {{20240403, 20240404, "42"}}}};
  SymbolMap symbols;
  ASSERT_TRUE(symbols.Insert(m).ok());
  BatchBuilder builder(layout, ArrowOptions{}, false, &symbols);
  Mbp1Msg r;
  std::memset(&r, 0, sizeof r);
  r.hd = {LengthOf<Mbp1Msg>(), rtype::kMbp1, 1, 42, k20240403 + 10};
  r.price = 650'050'000;
  r.action = 'T';
  r.side = 0;
  r.ts_recv = kUndefTimestamp;
  r.levels[0] = {kUndefPrice, 650'100'000, 0, 7, 0, 1};
  builder.Append(&r.hd);
  r.hd.instrument_id = 43;
  r.ts_recv = k20240403 + 20;
  builder.Append(&r.hd);
  auto batch = builder.Finish();
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const auto& b = **batch;
  ASSERT_EQ(b.num_rows(), 2);
  auto price = std::static_pointer_cast<arrow::DoubleArray>(b.GetColumnByName("price"));
  EXPECT_EQ(price->Value(0), 650'050'000 / 1e9);
  auto bid = std::static_pointer_cast<arrow::DoubleArray>(b.GetColumnByName("bid_px_00"));
  EXPECT_TRUE(std::isnan(bid->Value(0)));
  auto ts_recv = b.GetColumnByName("ts_recv");
  EXPECT_TRUE(ts_recv->IsNull(0));
  EXPECT_FALSE(ts_recv->IsNull(1));
  auto action = std::static_pointer_cast<arrow::StringArray>(b.GetColumnByName("action"));
  EXPECT_EQ(action->GetString(0), "T");
  auto side = std::static_pointer_cast<arrow::StringArray>(b.GetColumnByName("side"));
  EXPECT_EQ(side->GetString(0), "");
  // Symbols resolve by the index timestamp (ts_recv): null for row 0 (UNDEF), unmapped id 43.
  auto symbol = b.GetColumnByName("symbol");
  EXPECT_TRUE(symbol->IsNull(0));
  EXPECT_TRUE(symbol->IsNull(1));
  EXPECT_EQ(builder.rows(), 0);
}

// Batches share recycled memory: one still held must keep its values while later ones are
// built, and a batch built in memory a released one gave back must hold only its own rows.
TEST(BatchBuilderTest, HeldBatchesKeepTheirValuesWhileLaterOnesReuseMemory) {
  const RecordLayout& layout = *LayoutOf(rtype::kMbp1);
  Metadata m;
  m.stype_in = 1;
  m.stype_out = 0;
  m.mappings = {{"M6AM4", {{20240403, 20240404, "42"}}}, {"LONGERSYMBOL", {{20240403, 20240404, "44"}}}};
  SymbolMap symbols;
  ASSERT_TRUE(symbols.Insert(m).ok());
  BatchBuilder builder(layout, ArrowOptions{}, false, &symbols);
  // Batch k holds rows of price 1000 * k + i, instruments cycling 42 (mapped), 43 (not), 44.
  auto build = [&](int k, int rows) {
    for (int i = 0; i < rows; ++i) {
      Mbp1Msg r;
      std::memset(&r, 0, sizeof r);
      r.hd = {LengthOf<Mbp1Msg>(), rtype::kMbp1, 1, static_cast<uint32_t>(42 + i % 3), k20240403 + static_cast<uint64_t>(i)};
      r.ts_recv = i % 5 == 0 ? kUndefTimestamp : r.hd.ts_event;
      r.price = (1000 * k + i) * 1'000'000'000LL;
      r.action = "ACT"[i % 3];
      r.side = 'B';
      builder.Append(&r.hd);
    }
    auto batch = builder.Finish();
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return *batch;
  };
  auto check = [](const arrow::RecordBatch& b, int k, int rows) {
    ASSERT_EQ(b.num_rows(), rows);
    ASSERT_TRUE(b.ValidateFull().ok());
    auto price = std::static_pointer_cast<arrow::DoubleArray>(b.GetColumnByName("price"));
    auto action = std::static_pointer_cast<arrow::StringArray>(b.GetColumnByName("action"));
    auto ts_recv = b.GetColumnByName("ts_recv");
    auto symbol = std::static_pointer_cast<arrow::StringArray>(b.GetColumnByName("symbol"));
    for (int i = 0; i < rows; ++i) {
      ASSERT_EQ(price->Value(i), 1000.0 * k + i) << "batch " << k << " row " << i;
      ASSERT_EQ(action->GetString(i), std::string(1, "ACT"[i % 3]));
      ASSERT_EQ(ts_recv->IsNull(i), i % 5 == 0);
      if (i % 5 == 0 || i % 3 == 1) {
        ASSERT_TRUE(symbol->IsNull(i)) << i;  // UNDEF index timestamp, or an unmapped instrument
      } else {
        ASSERT_EQ(symbol->GetString(i), i % 3 == 0 ? "M6AM4" : "LONGERSYMBOL");
      }
    }
  };
  auto first = build(1, 700);
  auto second = build(2, 700);
  check(*first, 1, 700);
  first.reset();  // its memory goes back for the next batch
  auto third = build(3, 300);
  check(*second, 2, 700);
  check(*third, 3, 300);
}

TEST(ReaderTest, StreamsBatchesOfTheMetadataSchema) {
  const auto path = std::filesystem::path(::testing::TempDir()) / "reader.dbn.zst";
  Metadata m;
  m.dataset = "GLBX.MDP3";
  m.schema = Schema::kTrades;
  m.stype_in = 1;
  m.stype_out = 0;
  m.mappings = {{"6EM4", {{20240403, 20240404, "5"}}}};
  auto encoder = Encoder::Open(path, m);
  ASSERT_TRUE(encoder.ok());
  SymbolMappingMsg mapping;
  std::memset(&mapping, 0, sizeof mapping);
  mapping.hd = {LengthOf<SymbolMappingMsg>(), rtype::kSymbolMapping, 1, 5, k20240403};
  ASSERT_TRUE((*encoder)->Write(mapping).ok());
  for (int i = 0; i < 1000; ++i) {
    TradeMsg t;
    std::memset(&t, 0, sizeof t);
    t.hd = {LengthOf<TradeMsg>(), rtype::kMbp0, 1, 5, k20240403 + static_cast<uint64_t>(i)};
    t.ts_recv = t.hd.ts_event + 1;
    t.price = 1'080'000'000 + i;
    t.action = 'T';
    t.side = 'A';
    ASSERT_TRUE((*encoder)->Write(t).ok());
  }
  ASSERT_TRUE((*encoder)->Close().ok());
  ArrowOptions options;
  options.batch_size = 300;
  auto reader = OpenDbnReader(path.string(), options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto table = (*reader)->ToTable();
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 1000);
  EXPECT_EQ((*table)->column(0)->num_chunks(), 4);
  auto symbol = (*table)->GetColumnByName("symbol")->chunk(3);
  EXPECT_EQ(std::static_pointer_cast<arrow::StringArray>(symbol)->GetString(0), "6EM4");
}

}  // namespace
}  // namespace tickforge::dbn
