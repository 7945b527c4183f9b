#include "tickforge/synth/mbo.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "tickforge/book/mbo.h"
#include "tickforge/dbn/decoder.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::synth {
namespace {

using dbn::flag::kLast;
using dbn::flag::kSnapshot;

class SynthMboTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tickforge_synth_mbo_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::vector<dbn::MboMsg> Records(const std::string& path) {
    auto decoder = dbn::Decoder::Open(path);
    EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
    std::vector<dbn::MboMsg> out;
    while (true) {
      auto record = (*decoder)->Next();
      EXPECT_TRUE(record.ok()) << record.status().ToString();
      if (!record.ok() || *record == nullptr) break;
      EXPECT_EQ((*record)->rtype, dbn::rtype::kMbo);
      out.push_back(*reinterpret_cast<const dbn::MboMsg*>(*record));
    }
    return out;
  }

  static std::string Bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::filesystem::path dir_;
};

TEST_F(SynthMboTest, EveryCancelModifyAndFillNamesALiveOrderAndEventsEndWithFLast) {
  MboSynthOptions options;
  options.symbols = 3;
  options.publishers = 2;
  options.days = 2;
  options.messages_per_day = 60'000;
  ASSERT_OK_AND_ASSIGN(auto files, WriteMboDays(dir_, options));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(std::filesystem::path(files[0].path).filename(), "glbx-mdp3-20240401.mbo.dbn.zst");
  EXPECT_EQ(files[1].date, 20240402u);

  // Books replayed by the engine: no anomaly over both days (the books carry over).
  book::MboBooks books;
  for (const auto& file : files) {
    const auto records = Records(file.path);
    EXPECT_EQ(static_cast<int64_t>(records.size()), file.rows);
    // Per book: the live orders (id -> side, price, size), kept here independently.
    struct Live {
      char side;
      int64_t price;
      uint32_t size;
    };
    std::map<std::pair<uint32_t, uint16_t>, std::map<uint64_t, Live>> live;
    std::map<char, int64_t> actions;
    std::set<std::pair<uint32_t, uint16_t>> keys;
    int64_t snapshot = 0, flow = 0;
    uint64_t last_recv = 0;
    bool in_event = false;  // a record without F_LAST came before
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& m = records[i];
      const auto key = std::make_pair(m.hd.instrument_id, m.hd.publisher_id);
      keys.insert(key);
      auto& orders = live[key];
      ASSERT_GE(m.ts_recv, last_recv) << i;
      last_recv = m.ts_recv;
      const bool snap = (m.flags & kSnapshot) != 0;
      snapshot += snap;
      flow += !snap;
      if (!snap) ++actions[m.action];
      if (snap) {
        ASSERT_EQ(flow, 0) << "the snapshot comes first";
      }
      switch (m.action) {
        case 'A':
          ASSERT_GT(m.size, 0u) << i;
          ASSERT_EQ(orders.count(m.order_id), 0u) << i;
          orders[m.order_id] = {m.side, m.price, m.size};
          break;
        case 'C': {
          auto it = orders.find(m.order_id);
          ASSERT_NE(it, orders.end()) << "a Cancel of a dead order at record " << i;
          ASSERT_GT(m.size, 0u);
          ASSERT_LE(m.size, it->second.size) << i;
          ASSERT_EQ(m.price, it->second.price);
          ASSERT_EQ(m.side, it->second.side);
          if ((it->second.size -= m.size) == 0) orders.erase(it);
          break;
        }
        case 'M': {
          auto it = orders.find(m.order_id);
          ASSERT_NE(it, orders.end()) << "a Modify of a dead order at record " << i;
          ASSERT_GT(m.size, 0u);
          ASSERT_EQ(m.side, it->second.side);
          it->second.price = m.price;
          it->second.size = m.size;
          break;
        }
        case 'F': {
          auto it = orders.find(m.order_id);
          ASSERT_NE(it, orders.end()) << "a Fill of a dead order at record " << i;
          ASSERT_GT(m.size, 0u);
          ASSERT_LE(m.size, it->second.size);
          ASSERT_EQ(m.flags & kLast, 0) << "a Fill is followed by its Cancel";
          ASSERT_LT(i + 1, records.size());
          ASSERT_EQ(records[i + 1].action, 'C');
          ASSERT_EQ(records[i + 1].order_id, m.order_id);
          break;
        }
        case 'T':
          ASSERT_GT(m.size, 0u);
          ASSERT_EQ(m.flags & kLast, 0);
          ASSERT_EQ(records[i + 1].action, 'F');
          break;
        case 'R':
          orders.clear();
          break;
        default:
          FAIL() << "action " << m.action;
      }
      if (!snap && !in_event) {
        EXPECT_TRUE(m.action == 'T' || (m.flags & kLast)) << i;
      }
      in_event = (m.flags & kLast) == 0;
      const auto applied = books.Apply(m);
      ASSERT_EQ(applied.anomaly, book::Anomaly::kNone) << "record " << i;
      if (m.flags & kLast) {
        EXPECT_FALSE(books.book(applied.book).crossed()) << "record " << i;
      }
    }
    EXPECT_FALSE(in_event) << "the file ends inside an event";
    EXPECT_EQ(flow, options.messages_per_day);
    EXPECT_GT(snapshot, 6 * 30);  // every book rests at least its target
    EXPECT_EQ(keys.size(), 6u);
    for (char a : {'A', 'C', 'M', 'T', 'F'}) EXPECT_GT(actions[a], 100) << a;
    EXPECT_EQ(actions['R'], 1) << "one clear a day";
  }
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST_F(SynthMboTest, TheSameSeedGivesTheSameBytes) {
  MboSynthOptions options;
  options.messages_per_day = 20'000;
  options.days = 2;
  ASSERT_OK_AND_ASSIGN(auto a, WriteMboDays(dir_ / "a", options));
  ASSERT_OK_AND_ASSIGN(auto b, WriteMboDays(dir_ / "b", options));
  options.days = 1;
  ASSERT_OK_AND_ASSIGN(auto one_day, WriteMboDays(dir_ / "c", options));
  options.seed = 2;
  ASSERT_OK_AND_ASSIGN(auto other, WriteMboDays(dir_ / "d", options));
  EXPECT_EQ(Bytes(a[0].path), Bytes(b[0].path));
  EXPECT_EQ(Bytes(a[1].path), Bytes(b[1].path));
  EXPECT_EQ(Bytes(a[0].path), Bytes(one_day[0].path)) << "the first day does not depend on the day count";
  EXPECT_NE(Bytes(a[0].path), Bytes(other[0].path));
}

TEST_F(SynthMboTest, TinyRunsAndBadOptions) {
  MboSynthOptions options;
  options.messages_per_day = 1;
  options.symbols = 1;
  options.publishers = 1;
  options.zstd = false;
  ASSERT_OK_AND_ASSIGN(auto files, WriteMboDays(dir_, options));
  const auto records = Records(files[0].path);
  EXPECT_EQ(std::filesystem::path(files[0].path).extension(), ".dbn");
  ASSERT_FALSE(records.empty());
  EXPECT_TRUE(records.back().flags & kLast);
  EXPECT_EQ(records.back().flags & kSnapshot, 0);

  for (auto change : std::vector<void (*)(MboSynthOptions&)>{
           [](MboSynthOptions& o) { o.symbols = 0; }, [](MboSynthOptions& o) { o.publishers = kMaxPublishers + 1; },
           [](MboSynthOptions& o) { o.messages_per_day = 0; }, [](MboSynthOptions& o) { o.days = 0; },
           [](MboSynthOptions& o) { o.start_date = 20240231; }, [](MboSynthOptions& o) { o.dataset.clear(); }}) {
    MboSynthOptions bad;
    change(bad);
    auto result = WriteMboDays(dir_ / "bad", bad);
    EXPECT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find("synth mbo:"), std::string::npos) << result.status().message();
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad"));
}

}  // namespace
}  // namespace tickforge::synth
