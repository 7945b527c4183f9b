#include "tickforge/label/config.h"

#include <gtest/gtest.h>

#include <fstream>

namespace tickforge::label {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::path(::testing::TempDir()) / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(LabelConfigTest, ReadsYamlAndJson) {
  LabelConfig yaml;
  ASSERT_TRUE(ApplyFile(WriteFile("c.yaml", "currency: EURUSD\nnbins: 21\nfit_fraction: 0.25\n"
                                            "features: [volume, variance]\nmode: per-symbol\nmin_price: 1\n"),
                        &yaml)
                  .ok());
  EXPECT_EQ(yaml.currency, "EURUSD");
  EXPECT_EQ(yaml.nbins, 21);
  EXPECT_EQ(yaml.fit_fraction, 0.25);
  EXPECT_EQ(yaml.features, (std::vector<std::string>{"volume", "variance"}));
  EXPECT_EQ(yaml.mode, Mode::kPerSymbol);
  EXPECT_EQ(yaml.min_price, 1.0);
  EXPECT_EQ(yaml.explicit_keys.count("nbins"), 1u);
  EXPECT_EQ(yaml.explicit_keys.count("seed"), 0u);
  LabelConfig json;
  ASSERT_TRUE(ApplyFile(WriteFile("c.json", R"({"nbins": 3, "lookforward_offset": 0, "seed": 9})"), &json).ok());
  EXPECT_EQ(json.nbins, 3);
  EXPECT_EQ(json.lookforward_offset, 0);
  EXPECT_EQ(json.seed, 9u);
}

TEST(LabelConfigTest, RejectsUnknownKeysAndWrongTypes) {
  LabelConfig c;
  auto unknown = ApplyFile(WriteFile("u.yaml", "nbin: 13\n"), &c);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("unknown key 'nbin'"), std::string::npos) << unknown.message();
  auto wrong = ApplyFile(WriteFile("w.yaml", "nbins: many\n"), &c);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("nbins"), std::string::npos);
  auto mode = ApplyFile(WriteFile("m.yaml", "mode: uniform\n"), &c);
  EXPECT_FALSE(mode.ok());
  auto syntax = ApplyFile(WriteFile("s.yaml", "nbins: [1, 2\n"), &c);
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.message().find("line"), std::string::npos) << syntax.message();
}

TEST(LabelConfigTest, ValidatesRanges) {
  LabelConfig c;
  EXPECT_TRUE(c.Validate().ok());
  c.nbins = 256;
  EXPECT_FALSE(c.Validate().ok());
  c = LabelConfig{};
  c.fit_fraction = 0;
  EXPECT_FALSE(c.Validate().ok());
  c = LabelConfig{};
  c.features = {"volume", "colour"};
  EXPECT_FALSE(c.Validate().ok());
  c = LabelConfig{};
  c.min_price = 2;
  c.max_price = 1;
  EXPECT_FALSE(c.Validate().ok());
}

}  // namespace
}  // namespace tickforge::label
