// The panel's options, selection hash and report.
#include <gtest/gtest.h>

#include <string>

#include "tickforge/panel/panel.h"
#include "tickforge/util/random.h"

namespace tickforge::panel {
namespace {

TEST(PanelOptionsTest, OrderNamesRoundTrip) {
  for (Order order : {Order::kSymbol, Order::kTime}) {
    auto parsed = ParseOrder(OrderName(order));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, order);
  }
  auto bad = ParseOrder("Time");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'Time'"), std::string::npos) << bad.status().message();
}

TEST(PanelOptionsTest, ValidateNamesTheBadOption) {
  EXPECT_TRUE(PanelOptions{}.Validate().ok());
  const auto message = [](void (*change)(PanelOptions&)) {
    PanelOptions options;
    change(options);
    const Status status = options.Validate();
    EXPECT_FALSE(status.ok());
    return status.message();
  };
  EXPECT_NE(message([](PanelOptions& o) { o.symbol_column.clear(); }).find("symbol_column"), std::string::npos);
  EXPECT_NE(message([](PanelOptions& o) { o.min_cs = -1; }).find("min_cs"), std::string::npos);
  EXPECT_NE(message([](PanelOptions& o) { o.max_cs_samples = -1; }).find("max_cs_samples"), std::string::npos);
  EXPECT_NE(message([](PanelOptions& o) { o.batch_rows = 0; }).find("batch_rows"), std::string::npos);
  EXPECT_NE(message([](PanelOptions& o) { o.merge_memory = 0; }).find("merge_memory"), std::string::npos);
  EXPECT_NE(message([](PanelOptions& o) { o.target_column = "symbol"; }).find("target_column"), std::string::npos);
}

TEST(PanelOptionsTest, ReportJsonHasEveryFieldAndANullTimeColumn) {
  PanelReport report;
  report.symbols_in = 3;
  report.symbols = {"A", "B"};
  report.skipped = {{"C", "no target column 'y'"}};
  report.timestamps = 7;
  report.timestamps_kept = 5;
  report.rows_out = 11;
  report.spilled_bytes = 13;
  const auto json = report.ToJson();
  EXPECT_EQ(json.dump(),
            R"({"symbols_in":3,"symbols":["A","B"],"skipped":[{"symbol":"C","reason":"no target column 'y'"}],)"
            R"("time_column":null,"timestamps":7,"timestamps_kept":5,"rows_out":11,"spilled_bytes":13})");
  report.time_column = "ts";
  EXPECT_EQ(report.ToJson()["time_column"], "ts");
}

TEST(PanelOptionsTest, SelectionHashMixesSeedTimeAndSymbol) {
  const uint64_t base = SelectionHash(1, 100, "AAPL");
  EXPECT_EQ(SelectionHash(1, 100, "AAPL"), base);
  EXPECT_NE(SelectionHash(2, 100, "AAPL"), base);
  EXPECT_NE(SelectionHash(1, 101, "AAPL"), base);
  EXPECT_NE(SelectionHash(1, 100, "MSFT"), base);
  EXPECT_EQ(base, SplitMix64(SplitMix64(SplitMix64(1) ^ 100) ^ Fnv1a64("AAPL")));
}

TEST(PanelTest, SelectionHashIsPinned) {
  // The value docs/panel.md documents, so other implementations can check theirs.
  EXPECT_EQ(SelectionHash(0, 0, ""), SplitMix64(SplitMix64(SplitMix64(0)) ^ 0xcbf29ce484222325ULL));
}

}  // namespace
}  // namespace tickforge::panel
