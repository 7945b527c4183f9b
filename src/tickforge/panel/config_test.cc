// The panel's settings read from a pipeline YAML file.
#include "tickforge/panel/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tickforge/panel/test_util_internal.h"

namespace tickforge::panel {
namespace {

TEST(PanelConfigTest, ReadsPipelineYaml) {
  const auto dir = TempDir("config");
  const auto path = dir / "pipeline.yaml";
  std::ofstream(path) << "intelligent_training:\n  lazy_loading:\n    enabled: true\n    use_float32: false\n"
                         "    streaming_collect: false\npanel:\n  min_cs: 3\n  order: time\n";
  PanelOptions options;
  ASSERT_TRUE(ApplyPipelineConfig(path.string(), &options).ok());
  EXPECT_FALSE(options.use_float32);
  EXPECT_FALSE(options.streaming);
  EXPECT_EQ(options.min_cs, 3);
  EXPECT_EQ(options.order, Order::kTime);
  std::ofstream(path) << "panel:\n  min_sc: 3\n";
  auto bad = ApplyPipelineConfig(path.string(), &options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("min_sc"), std::string::npos);
}

}  // namespace
}  // namespace tickforge::panel
