#include <gtest/gtest.h>
#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "tickforge/binance/binance.h"
#include "tickforge/binance/source_internal.h"
#include "tickforge/binance/test_common.h"
#include "tickforge/synth/binance.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::binance {
namespace {

namespace fs = std::filesystem;

TEST_F(BinanceTest, ZipChecksumAndCorruption) {
  synth::BinanceOptions options;
  options.out_dir = dir_ / "dump";
  options.symbol_count = 1;
  options.market = "um";
  options.kinds = {Kind::kKlines};
  options.zip = true;
  auto files = *synth::WriteBinanceDumps(options);
  ASSERT_EQ(files.size(), 1u);
  const std::string zip = files[0].path;
  ASSERT_TRUE(fs::exists(zip + ".CHECKSUM"));
  auto table = ReadFile(zip, Kind::kKlines);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 1440);
  EXPECT_EQ(*Sha256File(zip), ReadBytes(zip + ".CHECKSUM").substr(0, 64));

  // A wrong checksum is reported (and skipped only when asked).
  const std::string good = ReadBytes(zip + ".CHECKSUM");
  std::ofstream(zip + ".CHECKSUM") << std::string(64, '0') << "  x.zip\n";
  auto mismatch = ReadFile(zip, Kind::kKlines);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("sha256 mismatch"), std::string::npos);
  EXPECT_NE(mismatch.status().message().find(zip), std::string::npos);
  ReadOptions no_check;
  no_check.verify_checksum = false;
  EXPECT_TRUE(ReadFile(zip, Kind::kKlines, no_check).ok());
  fs::remove(zip + ".CHECKSUM");

  // Truncated and corrupted archives fail with the file named, never crash.
  const std::string bytes = ReadBytes(zip);
  for (size_t cut = 0; cut < bytes.size(); cut += std::max<size_t>(1, bytes.size() / 97)) {
    const auto path = Write("cut.zip", bytes.substr(0, cut));
    auto r = ReadFile(path, Kind::kKlines);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  }
  std::mt19937 rng(3);
  int failures = 0;
  for (int i = 0; i < 200; ++i) {
    std::string data = bytes;
    data[30 + rng() % (data.size() - 30)] ^= static_cast<char>(1 + rng() % 255);
    const auto path = Write("flip.zip", data);
    auto r = ReadFile(path, Kind::kKlines);
    if (!r.ok()) {
      ++failures;
      EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    }
  }
  EXPECT_GT(failures, 150);  // CRC-32 and the zip structure catch nearly every flip
}

TEST_F(BinanceTest, ZipWithZeroOrSeveralEntriesIsRefused) {
  for (int entries : {0, 2}) {
    const auto path = (dir_ / ("n" + std::to_string(entries) + ".zip")).string();
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    ASSERT_NE(archive, nullptr);
    static const std::string kRow = kKlineRow1;
    for (int i = 0; i < entries; ++i) {
      zip_source_t* src = zip_source_buffer(archive, kRow.data(), kRow.size(), 0);
      ASSERT_GE(zip_file_add(archive, fmt::format("e{}.csv", i).c_str(), src, 0), 0);
    }
    if (entries == 0) {
      // libzip writes nothing for an empty archive; an empty archive is just its end record.
      zip_discard(archive);
      Write("n0.zip", std::string("PK\x05\x06", 4) + std::string(18, '\0'));
    } else {
      ASSERT_EQ(zip_close(archive), 0);
    }
    auto r = ReadFile(path, Kind::kKlines);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("entries"), std::string::npos) << r.status().message();
  }
}

// Read a source to its end in pieces of `step` bytes, checking Remaining() on the way.
Result<std::string> Drain(ByteSource& source, int64_t step, bool check_remaining = true) {
  std::string out;
  while (true) {
    const int64_t before = source.Remaining();
    std::string piece(static_cast<size_t>(step), '\0');
    ARROW_ASSIGN_OR_RAISE(int64_t got, source.Read(step, piece.data()));
    if (check_remaining && before >= 0) {
      EXPECT_EQ(source.Remaining(), before - got);
    }
    if (got == 0) return out;
    out.append(piece, 0, static_cast<size_t>(got));
  }
}

// Write a zip archive of one deflated entry "a.csv" holding `csv`; return its bytes.
std::string CsvZip(const std::string& path, const std::string& csv) {
  int code = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  EXPECT_NE(archive, nullptr);
  zip_source_t* src = zip_source_buffer(archive, csv.data(), csv.size(), 0);
  EXPECT_GE(zip_file_add(archive, "a.csv", src, 0), 0);
  EXPECT_EQ(zip_close(archive), 0);
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Funding-like lines whose numbers do not repeat, so they do not deflate to almost nothing.
std::string SampleCsv() {
  std::mt19937 rng(11);
  std::string csv;
  for (int i = 0; i < 3000; ++i) csv += std::to_string(1706745600000 + i) + ",8," + std::to_string(rng()) + "\n";
  return csv;
}

TEST_F(BinanceTest, FileAndMemorySourcesGiveTheBytes) {
  const std::string data = SampleCsv();
  const auto path = Write("plain.csv", data);
  ASSERT_OK_AND_ASSIGN(auto file, OpenFileSource(path));
  EXPECT_EQ(file->Remaining(), static_cast<int64_t>(data.size()));
  ASSERT_OK_AND_ASSIGN(auto read, Drain(*file, 1000));
  EXPECT_EQ(read, data);
  auto memory = MakeMemorySource(data);
  ASSERT_OK_AND_ASSIGN(read, Drain(*memory, 7));
  EXPECT_EQ(read, data);

  auto missing = OpenFileSource((dir_ / "missing.csv").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find((dir_ / "missing.csv").string()), std::string::npos)
      << missing.status().message();
}

TEST_F(BinanceTest, ZipSourceDecompressesItsEntry) {
  const std::string csv = SampleCsv();
  const auto path = (dir_ / "good.zip").string();
  CsvZip(path, csv);
  ASSERT_OK_AND_ASSIGN(auto zip, OpenZipSource(path));
  EXPECT_EQ(zip->Remaining(), static_cast<int64_t>(csv.size()));  // the entry's uncompressed size
  ASSERT_OK_AND_ASSIGN(auto read, Drain(*zip, 4096));
  EXPECT_EQ(read, csv);
}

TEST_F(BinanceTest, TruncatedZipNamesFileAndOffset) {
  const std::string bytes = CsvZip((dir_ / "good.zip").string(), SampleCsv());
  // Any cut loses the end-of-central-directory record: refused on opening, at byte 0.
  for (size_t cut : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 23, bytes.size() - 1}) {
    const auto path = Write("cut.zip", bytes.substr(0, cut));
    auto r = OpenZipSource(path);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_NE(r.status().message().find(path + ": byte 0: not a readable zip archive"), std::string::npos)
        << r.status().message();
  }
  // Damage inside the compressed data passes the directory checks and fails while reading,
  // naming the entry and how far into its bytes the reader got.
  std::string damaged = bytes;
  damaged[damaged.size() / 3] ^= 0x5a;
  const auto path = Write("damaged.zip", damaged);
  ASSERT_OK_AND_ASSIGN(auto zip, OpenZipSource(path));
  auto r = Drain(*zip, 1000, /*check_remaining=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path + ": byte "), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("corrupt zip data in entry a.csv"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace tickforge::binance
