// libFuzzer target: any byte string must parse as a Binance CSV of each kind or fail cleanly.
// Build with clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DTICKFORGE_BUILD_FUZZERS=ON
#include <string_view>

#include "tickforge/binance/binance.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickforge::binance;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ReadOptions options;
  options.batch_rows = 7;  // many small batches exercise the slicing too
  options.use_threads = false;
  for (Kind kind : {Kind::kKlines, Kind::kAggTrades, Kind::kFunding}) {
    auto table = ParseCsv(bytes, kind, "fuzz.csv", options);
    if (table.ok()) (void)(*table)->ValidateFull();
  }
  return 0;
}
