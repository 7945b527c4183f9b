#include <gtest/gtest.h>

#include "tickforge/binance/binance.h"
#include "tickforge/binance/test_common.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/util/status.h"

namespace tickforge::binance {
namespace {

TEST_F(BinanceTest, Sha256OfKnownInputs) {
  EXPECT_EQ(*Sha256File(Write("empty", "")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(*Sha256File(Write("abc", "abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Longer than the 1 MiB read buffer: every piece counts.
  const std::string big(3 << 20, 'x');
  EXPECT_NE(*Sha256File(Write("big", big)), *Sha256File(Write("big2", big.substr(1))));
  auto missing = Sha256File((dir_ / "missing").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos) << missing.status().message();
}

TEST_F(BinanceTest, VerifyChecksumFile) {
  const auto path = Write("a.csv", "abc");
  ASSERT_OK(VerifyChecksum(path));  // no CHECKSUM file: nothing to check
  // Upper-case hex and Binance's "<hex>  <name>" layout pass.
  Write("a.csv.CHECKSUM", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  a.csv\n");
  ASSERT_OK(VerifyChecksum(path));
  Write("a.csv.CHECKSUM", std::string(64, 'f') + "  a.csv\n");
  Status mismatch = VerifyChecksum(path);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.message().find(path + ": sha256 mismatch"), std::string::npos) << mismatch.message();
  EXPECT_NE(mismatch.message().find("a.csv.CHECKSUM says ffff"), std::string::npos) << mismatch.message();
  for (const char* bad : {"", "abc  a.csv\n", "zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}) {
    Write("a.csv.CHECKSUM", bad);
    Status st = VerifyChecksum(path);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find(path + ".CHECKSUM: byte 0: not a sha256 CHECKSUM file"), std::string::npos)
        << st.message();
  }
}

}  // namespace
}  // namespace tickforge::binance
