// libFuzzer target: any byte string (plain or gzip) must replay as each depth-stream format, or
// as the format its first line shows, into valid record batches, or fail cleanly.
// Build with clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DTICKFORGE_BUILD_FUZZERS=ON
#include <arrow/record_batch.h>

#include <string_view>

#include "tickforge/book/depth_build.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickforge::book;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (InputFormat format : {InputFormat::kAuto, InputFormat::kBinance, InputFormat::kBybit,
                             InputFormat::kHyperliquid, InputFormat::kBinanceCsv}) {
    BookOptions options;
    options.input.format = format;
    options.batch_rows = 5;  // many small batches: a line releasing several events crosses them
    options.levels = 3;
    auto reader = DepthBookReader::FromMemory(bytes, options);
    if (!reader.ok()) continue;
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      if (!(*reader)->ReadNext(&batch).ok() || !batch) break;
      (void)batch->ValidateFull();
    }
  }
  return 0;
}
