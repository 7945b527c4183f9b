#include "tickforge/dbn/decoder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "tickforge/dbn/encoder.h"
#include "tickforge/testing/testdata.h"

namespace tickforge::dbn {
namespace {

using tickforge::testing::TestDataDir;
using tickforge::testing::TestDataFiles;

struct Decoded {
  Metadata metadata;
  std::vector<std::vector<uint8_t>> records;
};

Result<Decoded> DecodeAll(const std::string& path, DecoderOptions options = {}) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, Decoder::Open(path, options));
  Decoded out{decoder->metadata(), {}};
  while (true) {
    ARROW_ASSIGN_OR_RAISE(const RecordHeader* record, decoder->Next());
    if (record == nullptr) break;
    const auto* bytes = reinterpret_cast<const uint8_t*>(record);
    out.records.emplace_back(bytes, bytes + record->size());
  }
  return out;
}

std::vector<uint8_t> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string WriteBytes(const std::string& name, const std::vector<uint8_t>& bytes) {
  const auto path = std::filesystem::path(::testing::TempDir()) / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

bool IsDbnName(const std::filesystem::path& p) {
  const std::string name = p.filename().string();
  return name.find(".dbn") != std::string::npos && name.find(".frag") == std::string::npos;
}

TEST(DecoderTest, DecodesEveryVendorFile) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  int files = 0;
  for (const char* sub : {"dbn", "nautilus", "databento-python"}) {
    for (const auto& path : TestDataFiles(sub, ".dbn")) {
      if (!IsDbnName(path)) continue;
      auto decoded = DecodeAll(path.string());
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      for (const auto& record : decoded->records) {
        const auto* header = reinterpret_cast<const RecordHeader*>(record.data());
        const RecordLayout* layout = LayoutOf(header->rtype);
        ASSERT_NE(layout, nullptr) << path << " rtype " << int{header->rtype};
        EXPECT_GE(record.size(), layout->size) << path;
      }
      ++files;
    }
  }
  EXPECT_GT(files, 50);
}

// The vendor ships the same records in three versions: after upgrading they must agree.
TEST(DecoderTest, VersionsOfTheSameDataAgreeAfterUpgrade) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  const auto dir = TestDataDir() / "dbn";
  for (const char* schema : {"mbo", "mbp-1", "mbp-10", "trades", "tbbo", "ohlcv-1s", "ohlcv-1h",
                             "statistics", "imbalance"}) {
    auto v1 = DecodeAll((dir / fmt::format("test_data.{}.v1.dbn.zst", schema)).string());
    auto v3 = DecodeAll((dir / fmt::format("test_data.{}.v3.dbn.zst", schema)).string());
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    ASSERT_TRUE(v3.ok()) << v3.status().ToString();
    EXPECT_EQ(v1->metadata.version, 1);
    EXPECT_EQ(v3->metadata.version, 3);
    EXPECT_EQ(v1->metadata.symbols, v3->metadata.symbols) << schema;
    ASSERT_EQ(v1->records.size(), v3->records.size()) << schema;
    for (size_t i = 0; i < v1->records.size(); ++i) {
      EXPECT_EQ(v1->records[i], v3->records[i]) << schema << " record " << i;
    }
  }
}

TEST(DecoderTest, RawAndZstdCopiesDecodeIdentically) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  const auto dir = TestDataDir() / "dbn";
  for (const char* name : {"test_data.mbo", "test_data.mbp-10", "test_data.definition", "test_data.status"}) {
    auto raw = DecodeAll((dir / fmt::format("{}.dbn", name)).string());
    auto zst = DecodeAll((dir / fmt::format("{}.v2.dbn.zst", name)).string());
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    ASSERT_TRUE(zst.ok()) << zst.status().ToString();
    EXPECT_EQ(raw->metadata, zst->metadata) << name;
    EXPECT_EQ(raw->records, zst->records) << name;
  }
}

TEST(DecoderTest, UpgradesV1DefinitionsLikeDatabento) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  auto decoded = DecodeAll((TestDataDir() / "dbn" / "test_data.definition.v1.dbn.zst").string());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_FALSE(decoded->records.empty());
  for (const auto& bytes : decoded->records) {
    ASSERT_EQ(bytes.size(), sizeof(InstrumentDefMsg));
    InstrumentDefMsg def;
    std::memcpy(&def, bytes.data(), sizeof def);
    EXPECT_EQ(def.hd.length, LengthOf<InstrumentDefMsg>());
    EXPECT_STREQ(def.raw_symbol, "MSFT");
    EXPECT_EQ(def.leg_price, kUndefPrice);
    EXPECT_EQ(def.leg_side, 'N');
    EXPECT_EQ(def.leg_count, 0);
  }
  EXPECT_EQ(decoded->metadata.symbol_cstr_len, kSymbolCstrLenV1);
  EXPECT_EQ(decoded->metadata.mappings.front().raw_symbol, "MSFT");
}

TEST(DecoderTest, ReadsFragmentsWithAGivenVersion) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  const auto dir = TestDataDir() / "dbn";
  DecoderOptions v1;
  v1.fragment_version = 1;
  auto multi = DecodeAll((dir / "multi-frame.definition.v1.dbn.frag.zst").string(), v1);
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  EXPECT_EQ(multi->records.size(), 8u);  // several zstd frames, one stream
  for (const auto& bytes : multi->records) {
    EXPECT_EQ(reinterpret_cast<const RecordHeader*>(bytes.data())->rtype, rtype::kInstrumentDef);
    EXPECT_EQ(bytes.size(), sizeof(InstrumentDefMsg));  // upgraded from the 360-byte v1 layout
  }
  DecoderOptions v3;
  v3.fragment_version = 3;
  auto fragment = DecodeAll((dir / "test_data.definition.v3.dbn.frag").string(), v3);
  ASSERT_TRUE(fragment.ok()) << fragment.status().ToString();
  EXPECT_FALSE(fragment->records.empty());
}

// ---------------------------------------------------------------------------------------------
// Encoder round trip

Metadata SampleMetadata() {
  Metadata m;
  m.dataset = "GLBX.MDP3";
  m.schema = Schema::kMbp10;
  m.start = 1'712'102'400'000'000'000ULL;
  m.end = m.start + 86'400'000'000'000ULL;
  m.stype_in = 1;
  m.stype_out = 0;
  m.symbols = {"M6AM4", "6EM4"};
  m.mappings = {{"M6AM4", {{20240403, 20240404, "42"}}}, {"6EM4", {{20240403, 20240404, "43"}}}};
  return m;
}

Mbp10Msg SampleMbp10(int i) {
  Mbp10Msg r;
  std::memset(&r, 0, sizeof r);
  r.hd = {LengthOf<Mbp10Msg>(), rtype::kMbp10, 1, static_cast<uint32_t>(42 + i % 2),
          1'712'102'400'000'000'000ULL + static_cast<uint64_t>(i) * 1000};
  r.price = 650'000'000 + i * 50'000;
  r.size = 3;
  r.action = 'A';
  r.side = i % 2 ? 'B' : 'A';
  r.ts_recv = r.hd.ts_event + 500;
  r.sequence = static_cast<uint32_t>(i);
  for (int l = 0; l < 10; ++l) {
    r.levels[l] = {650'000'000 - l * 50'000, 650'050'000 + l * 50'000, 10u + l, 11u + l, 1, 2};
  }
  if (i == 3) r.levels[0].ask_px = kUndefPrice;
  return r;
}

TEST(EncoderTest, RoundTripsRawAndZstd) {
  for (bool zstd : {false, true}) {
    const auto path = std::filesystem::path(::testing::TempDir()) / (zstd ? "rt.dbn.zst" : "rt.dbn");
    std::filesystem::remove(path);
    auto encoder = Encoder::Open(path, SampleMetadata(), EncoderOptions{zstd});
    ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
    std::vector<Mbp10Msg> written;
    for (int i = 0; i < 1000; ++i) {
      written.push_back(SampleMbp10(i));
      ASSERT_TRUE((*encoder)->Write(written.back()).ok());
    }
    EXPECT_FALSE(std::filesystem::exists(path)) << "visible before Close()";
    ASSERT_TRUE((*encoder)->Close().ok());
    auto decoded = DecodeAll(path.string());
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->metadata, [] {
      Metadata m = SampleMetadata();
      m.version = kDbnVersion;
      return m;
    }());
    ASSERT_EQ(decoded->records.size(), written.size());
    for (size_t i = 0; i < written.size(); ++i) {
      ASSERT_EQ(0, std::memcmp(decoded->records[i].data(), &written[i], sizeof(Mbp10Msg))) << i;
    }
  }
}

TEST(EncoderTest, AbandonedEncoderLeavesNoFile) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "abandoned";
  std::filesystem::remove_all(dir);
  {
    auto encoder = Encoder::Open(dir / "x.dbn", SampleMetadata(), EncoderOptions{false});
    ASSERT_TRUE(encoder.ok());
    ASSERT_TRUE((*encoder)->Write(SampleMbp10(0)).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

// ---------------------------------------------------------------------------------------------
// Bad input: an error naming the file and offset, never a crash or a hang.

std::vector<uint8_t> SampleFile(bool zstd) {
  const auto path = std::filesystem::path(::testing::TempDir()) / (zstd ? "sample.dbn.zst" : "sample.dbn");
  auto encoder = Encoder::Open(path, SampleMetadata(), EncoderOptions{zstd});
  EXPECT_TRUE(encoder.ok());
  for (int i = 0; i < 40; ++i) EXPECT_TRUE((*encoder)->Write(SampleMbp10(i)).ok());
  EXPECT_TRUE((*encoder)->Close().ok());
  return ReadBytes(path);
}

void ExpectInputError(const std::string& path, const std::string& needle = "byte") {
  auto decoded = DecodeAll(path);
  ASSERT_FALSE(decoded.ok()) << path;
  EXPECT_NE(decoded.status().message().find(path), std::string::npos) << decoded.status().message();
  EXPECT_NE(decoded.status().message().find(needle), std::string::npos) << decoded.status().message();
}

TEST(BadInputTest, TruncatedRawFileAtEveryOffset) {
  const auto bytes = SampleFile(false);
  const auto full = DecodeAll(WriteBytes("full.dbn", bytes));
  ASSERT_TRUE(full.ok());
  uint32_t metadata_len;
  std::memcpy(&metadata_len, bytes.data() + 4, 4);
  const size_t first_record = kPreludeLen + metadata_len;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    const std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    const auto path = WriteBytes("cut.dbn", part);
    const bool at_boundary = cut >= first_record && (cut - first_record) % sizeof(Mbp10Msg) == 0;
    auto decoded = DecodeAll(path);
    if (at_boundary) {
      ASSERT_TRUE(decoded.ok()) << cut << ": " << decoded.status().ToString();
      EXPECT_EQ(decoded->records.size(), (cut - first_record) / sizeof(Mbp10Msg));
    } else {
      ASSERT_FALSE(decoded.ok()) << "cut at " << cut;
      EXPECT_NE(decoded.status().message().find(path), std::string::npos);
    }
  }
}

TEST(BadInputTest, TruncatedZstdFile) {
  const auto bytes = SampleFile(true);
  for (size_t cut = 1; cut + 1 < bytes.size(); cut += std::max<size_t>(1, bytes.size() / 64)) {
    const auto path = WriteBytes("cut.dbn.zst", {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
    ExpectInputError(path);
  }
}

TEST(BadInputTest, CorruptedZstdFrame) {
  auto bytes = SampleFile(true);
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 16; ++i) bytes[i] ^= 0x5A;
  ExpectInputError(WriteBytes("corrupt.dbn.zst", bytes));
}

TEST(BadInputTest, HeaderProblems) {
  auto bytes = SampleFile(false);
  auto wrong_magic = bytes;
  wrong_magic[0] = 'X';
  ExpectInputError(WriteBytes("magic.dbn", wrong_magic), "byte 0");
  auto wrong_version = bytes;
  wrong_version[3] = 9;
  ExpectInputError(WriteBytes("version.dbn", wrong_version), "version 9");
  auto long_metadata = bytes;
  const uint32_t huge = static_cast<uint32_t>(bytes.size());
  std::memcpy(long_metadata.data() + 4, &huge, 4);
  ExpectInputError(WriteBytes("metalen.dbn", long_metadata), "metadata length");
  ExpectInputError(WriteBytes("empty.dbn", {}), "byte 0");
}

TEST(BadInputTest, RecordLengthProblems) {
  const auto bytes = SampleFile(false);
  uint32_t metadata_len;
  std::memcpy(&metadata_len, bytes.data() + 4, 4);
  const size_t first = kPreludeLen + metadata_len;
  const size_t second = first + sizeof(Mbp10Msg);
  auto zero = bytes;
  zero[second] = 0;
  ExpectInputError(WriteBytes("len0.dbn", zero), fmt::format("byte {}", second));
  auto too_short = bytes;
  too_short[first] = 4;  // 16 bytes: a header but not an MBP-10 body
  ExpectInputError(WriteBytes("short.dbn", too_short), fmt::format("byte {}", first));
  auto past_end = bytes;
  past_end[bytes.size() - sizeof(Mbp10Msg)] = 255;
  ExpectInputError(WriteBytes("pastend.dbn", past_end), "truncated record");
}

TEST(BadInputTest, LegacyDbzIsRejectedClearly) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  ExpectInputError((TestDataDir() / "dbn" / "test_data.mbo.dbz").string(), "DBZ");
}

}  // namespace
}  // namespace tickforge::dbn
