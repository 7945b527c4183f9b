// libFuzzer target: any bytes as a LOBSTER message file and/or orderbook file must rebuild
// into rows or fail cleanly. Input with a NUL byte is split there (messages, then orderbook);
// without one it is tried as each file beside a valid partner (hidden executions, which
// change no level, and a one-level book), so single sample files seed both parsers.
// Build with clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DTICKFORGE_BUILD_FUZZERS=ON
#include <arrow/table.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "tickforge/book/lobster.h"

namespace {

const std::filesystem::path& Dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("tickforge_lobster_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

void Run(std::string_view messages, std::string_view orderbook) {
  const auto message_path = Dir() / "FUZZ_2012-06-21_34200000_57600000_message_1.csv";
  const auto book_path = Dir() / "FUZZ_2012-06-21_34200000_57600000_orderbook_1.csv";
  auto write = [](const std::filesystem::path& path, std::string_view text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(text.data(), static_cast<std::streamsize>(text.size()));
  };
  write(message_path, messages);
  write(book_path, orderbook);
  tickforge::book::BookOptions options;
  options.batch_rows = 7;  // many small batches
  options.lobster.orderbook = book_path.string();  // any depth, not only the name's one level
  for (const int levels : {1, 10}) {
    options.levels = levels;
    auto reader = tickforge::book::LobsterBookReader::Open(message_path.string(), options);
    if (!reader.ok()) continue;
    auto table = (*reader)->ToTable();
    if (table.ok()) (void)(*table)->ValidateFull();
  }
}

std::string Repeat(std::string_view line, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += line;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const size_t nul = bytes.find('\0');
  if (nul != std::string_view::npos) {
    Run(bytes.substr(0, nul), bytes.substr(nul + 1));
    return 0;
  }
  const size_t lines = static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n')) + 1;
  Run(bytes, Repeat("1001000,3,1000000,5\n", lines));
  Run(Repeat("34200.1,5,0,1,1000000,1\n", lines), bytes);
  return 0;
}
