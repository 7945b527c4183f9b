// libFuzzer target: any byte string, raw or zstd, must decode or fail cleanly.
// Build with clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DTICKFORGE_BUILD_FUZZERS=ON
#include <arrow/buffer.h>
#include <arrow/io/memory.h>

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/to_arrow.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickforge;
  auto buffer = std::make_shared<arrow::Buffer>(data, static_cast<int64_t>(size));
  auto input = WrapInput(std::make_shared<arrow::io::BufferReader>(buffer));
  if (!input.ok()) return 0;
  for (int fragment : {0, 1, 3}) {
    dbn::DecoderOptions options;
    if (fragment) options.fragment_version = static_cast<uint8_t>(fragment);
    auto again = WrapInput(std::make_shared<arrow::io::BufferReader>(buffer));
    if (!again.ok()) return 0;
    auto decoder = dbn::Decoder::Open(std::move(*again), "fuzz", options);
    if (!decoder.ok()) continue;
    auto reader = dbn::OpenDbnReader(std::move(*decoder));
    if (!reader.ok()) continue;
    (void)(*reader)->ToTable();
  }
  return 0;
}
