#include "tickforge/dbn/schema.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tickforge/dbn/records.h"

namespace tickforge::dbn {
namespace {

TEST(SchemaTest, BookColumnNamesAreTheMbp10LayoutsLevelColumns) {
  const auto& names = BookColumnNames();
  ASSERT_EQ(names.size(), size_t{kMbp10Levels * kBookFields});
  EXPECT_EQ(names.front(), "bid_px_00");
  EXPECT_EQ(names[1], "ask_px_00");
  EXPECT_EQ(names[4], "bid_ct_00");
  EXPECT_EQ(names[6], "bid_px_01");
  EXPECT_EQ(names.back(), "ask_ct_09");
  // The layout the decoder converts with holds the same columns, in the same order.
  const RecordLayout* layout = LayoutOf(rtype::kMbp10);
  ASSERT_NE(layout, nullptr);
  const auto first = std::find_if(layout->fields.begin(), layout->fields.end(),
                                  [](const FieldDesc& f) { return f.name == "bid_px_00"; });
  ASSERT_NE(first, layout->fields.end());
  ASSERT_EQ(layout->fields.end() - first, static_cast<std::ptrdiff_t>(names.size()));
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(first[static_cast<std::ptrdiff_t>(i)].name, names[i]) << i;
}

TEST(SchemaTest, BookColumnNameIndexesByFieldAndLevel) {
  EXPECT_EQ(BookColumnName(BookField::kBidPx, 0), "bid_px_00");
  EXPECT_EQ(BookColumnName(BookField::kAskSz, 3), "ask_sz_03");
  EXPECT_EQ(BookColumnName(BookField::kBidCt, 9), "bid_ct_09");
  EXPECT_EQ(BookColumnName(BookField::kAskCt, 9), "ask_ct_09");
}

TEST(SchemaTest, ShallowAndConsolidatedBooksKeepTheirLevelColumns) {
  const RecordLayout* mbp1 = LayoutOf(rtype::kMbp1);
  ASSERT_NE(mbp1, nullptr);
  EXPECT_EQ(mbp1->fields.back().name, "ask_ct_00");
  const RecordLayout* cmbp1 = LayoutOf(rtype::kCmbp1);
  ASSERT_NE(cmbp1, nullptr);
  EXPECT_EQ(cmbp1->fields.back().name, "ask_pb_00");
  EXPECT_EQ(cmbp1->fields[cmbp1->fields.size() - 2].name, "bid_pb_00");
}

}  // namespace
}  // namespace tickforge::dbn
