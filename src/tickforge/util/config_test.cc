#include "tickforge/util/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tickforge/testing/assertions.h"

namespace tickforge::config {
namespace {

enum class Colour { kRed, kBlue };

struct Inner {
  int depth = 3;
};

struct Options {
  int nbins = 13;
  uint64_t seed = 0;
  double fraction = 0.5;
  bool flag = false;
  std::string name = "x";
  std::vector<std::string> names = {"a"};
  std::optional<double> limit;
  std::string target;
  Colour colour = Colour::kRed;
  Inner inner;
};

const Table<Options>& TestTable() {
  static const auto* table = [] {
    auto* t = new Table<Options>();
    t->Field("nbins", &Options::nbins, "classes")
        .Field("seed", &Options::seed)
        .Field("fraction", &Options::fraction)
        .Field("flag", &Options::flag)
        .Field("name", &Options::name)
        .Field("names", &Options::names)
        .Field("limit", &Options::limit)
        .Field("target", &Options::target, "", Null::kClear)
        .Choice("colour", &Options::colour, std::vector<std::pair<std::string, Colour>>{{"red", Colour::kRed}, {"blue", Colour::kBlue}})
        .Field("depth", [](Options& o) -> int& { return o.inner.depth; });
    return t;
  }();
  return *table;
}

std::string Message(const Status& status) { return status.message(); }

TEST(ConfigTest, YamlScalarsAreTypedAsJsonWouldHoldThem) {
  ASSERT_OK_AND_ASSIGN(auto j, ParseText("a: 1\nb: 2.5\nc: true\nd: ~\ne: '7'\nf: text\ng: 18446744073709551615\n", "t"));
  EXPECT_TRUE(j["a"].is_number_integer());
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"], 2.5);
  EXPECT_EQ(j["c"], true);
  EXPECT_TRUE(j["d"].is_null());
  EXPECT_EQ(j["e"], "7");  // quoted stays a string
  EXPECT_EQ(j["f"], "text");
  EXPECT_EQ(j["g"].get<uint64_t>(), 18446744073709551615ULL);
  ASSERT_OK_AND_ASSIGN(auto from_json, ParseText(R"({"a": [1, 2], "b": {"c": "d"}})", "t"));
  EXPECT_EQ(from_json["a"], nlohmann::json::array({1, 2}));
  EXPECT_EQ(from_json["b"]["c"], "d");
}

TEST(ConfigTest, SyntaxErrorNamesSourceAndLine) {
  const auto result = ParseText("a: 1\nb: [1, 2\n", "cfg.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(Message(result.status()).find("cfg.yaml: line "), std::string::npos) << result.status();
}

TEST(ConfigTest, AppliesEveryKindOfKey) {
  Options o;
  std::set<std::string> seen;
  ASSERT_OK_AND_ASSIGN(auto j, ParseText("nbins: 21\nseed: 9\nfraction: 1\nflag: true\nname: y\nnames: [b, c]\n"
                                         "limit: 2.5\ntarget: t\ncolour: blue\ndepth: 7\n",
                                         "t"));
  ASSERT_OK(TestTable().Apply(j, &o, "t", &seen));
  EXPECT_EQ(o.nbins, 21);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_EQ(o.fraction, 1.0);  // an integer is a number
  EXPECT_TRUE(o.flag);
  EXPECT_EQ(o.name, "y");
  EXPECT_EQ(o.names, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(o.limit, 2.5);
  EXPECT_EQ(o.target, "t");
  EXPECT_EQ(o.colour, Colour::kBlue);
  EXPECT_EQ(o.inner.depth, 7);
  EXPECT_EQ(seen.size(), 10u);
  ASSERT_OK(TestTable().Apply(nlohmann::json{{"limit", nullptr}, {"target", nullptr}}, &o, "t"));
  EXPECT_FALSE(o.limit.has_value());
  EXPECT_EQ(o.target, "");
}

TEST(ConfigTest, UnknownKeySuggestsTheNearestAndListsAll) {
  Options o;
  const auto status = TestTable().Apply(nlohmann::json{{"nbin", 3}}, &o, "cfg.yaml");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(Message(status).find("cfg.yaml: unknown key 'nbin' (did you mean 'nbins'? known keys: colour, depth"),
            std::string::npos)
      << status;
  const auto far = TestTable().Apply(nlohmann::json{{"zzzzzzzz", 3}}, &o, "cfg.yaml");
  EXPECT_EQ(Message(far).find("did you mean"), std::string::npos) << far;
}

TEST(ConfigTest, WrongTypesAndRangesNameTheKey) {
  Options o;
  struct Case {
    nlohmann::json value;
    const char* key;
    const char* expected;
  };
  for (const auto& c : std::vector<Case>{{"many", "nbins", "expected an integer, got \"many\""},
                                         {2.5, "nbins", "expected an integer"},
                                         {int64_t{1} << 40, "nbins", "in range"},
                                         {-1, "seed", "non-negative"},
                                         {"x", "fraction", "expected a number"},
                                         {1, "flag", "expected true or false"},
                                         {nlohmann::json::array({1}), "names", "expected a list"},
                                         {"green", "colour", "one of 'red', 'blue'"},
                                         {nullptr, "name", "expected a string, got null"}}) {
    const auto status = TestTable().Apply(nlohmann::json{{c.key, c.value}}, &o, "src");
    ASSERT_FALSE(status.ok()) << c.key;
    EXPECT_NE(Message(status).find(std::string("src: key '") + c.key + "'"), std::string::npos) << status;
    EXPECT_NE(Message(status).find(c.expected), std::string::npos) << status;
  }
  EXPECT_EQ(o.nbins, 13);  // nothing was half-applied from a failed key
}

TEST(ConfigTest, ToJsonWritesEveryKeyAndReadsBack) {
  Options o;
  o.limit = 4;
  o.colour = Colour::kBlue;
  const auto j = TestTable().ToJson(o);
  EXPECT_EQ(j.size(), TestTable().names().size());
  EXPECT_EQ(j["colour"], "blue");
  EXPECT_EQ(j["limit"], 4.0);
  Options back;
  ASSERT_OK(TestTable().Apply(nlohmann::json::parse(j.dump()), &back, "roundtrip"));
  EXPECT_EQ(TestTable().ToJson(back), j);
  // Help shows the struct's own defaults.
  EXPECT_NE(TestTable().Help().find("  nbins: 13  # classes\n"), std::string::npos) << TestTable().Help();
  // ... and reads back as a config of the defaults.
  ASSERT_OK_AND_ASSIGN(auto help_as_config, ParseText(TestTable().Help(), "help"));
  Options from_help;
  from_help.nbins = 99;
  ASSERT_OK(TestTable().Apply(help_as_config, &from_help, "help"));
  EXPECT_EQ(TestTable().ToJson(from_help), TestTable().ToJson(Options{}));
}

TEST(ConfigTest, AssignmentsAndFiles) {
  Options o;
  ASSERT_OK(TestTable().ApplyAssignment("names=[p, q]", &o));
  EXPECT_EQ(o.names, (std::vector<std::string>{"p", "q"}));
  EXPECT_FALSE(TestTable().ApplyAssignment("=3", &o).ok());
  EXPECT_FALSE(TestTable().ApplyAssignment("nbins", &o).ok());
  const auto missing = LoadFile("/nonexistent/tickforge.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(Message(missing.status()).find("/nonexistent/tickforge.yaml"), std::string::npos);
  const auto path = std::filesystem::path(::testing::TempDir()) / "empty_config.yaml";
  std::ofstream(path) << "";
  ASSERT_OK_AND_ASSIGN(auto empty, LoadFile(path.string()));
  EXPECT_TRUE(empty.is_object());
}

}  // namespace
}  // namespace tickforge::config
