// libFuzzer target: any bytes decoded as DBN MBO records and applied to the books must never
// crash: once as a DBN stream (raw or zstd) through the row reader, once as bare 56-byte MBO
// records (any action, side, flags, price, size, order id) applied to MboBooks with a row after
// each F_LAST, so the book semantics see inputs no valid file holds.
// Build with clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DTICKFORGE_BUILD_FUZZERS=ON
#include <arrow/buffer.h>
#include <arrow/io/memory.h>
#include <arrow/table.h>

#include <cstring>

#include "tickforge/book/mbo.h"
#include "tickforge/book/mbo_reader.h"
#include "tickforge/book/mbp_rows.h"
#include "tickforge/dbn/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickforge;
  auto buffer = std::make_shared<arrow::Buffer>(data, static_cast<int64_t>(size));
  auto input = WrapInput(std::make_shared<arrow::io::BufferReader>(buffer));
  if (input.ok()) {
    auto decoder = dbn::Decoder::Open(std::move(*input), "fuzz");
    if (decoder.ok()) {
      book::BookOptions options;
      options.batch_rows = 7;
      options.levels = 3;
      auto reader = book::MboBookReader::Open(std::move(*decoder), options);
      if (reader.ok()) {
        auto table = (*reader)->ToTable();
        if (table.ok()) (void)(*table)->ValidateFull();
      }
    }
  }

  book::MbpRowOptions row_options;
  row_options.batch_rows = 5;
  row_options.map_symbols = false;
  auto rows = book::MbpRowBuilder::Make(row_options, nullptr);
  if (!rows.ok()) return 0;
  book::MboBooks books;
  for (size_t at = 0; at + sizeof(dbn::MboMsg) <= size; at += sizeof(dbn::MboMsg)) {
    dbn::MboMsg msg;
    std::memcpy(&msg, data + at, sizeof msg);
    const auto applied = books.Apply(msg);
    if ((msg.flags & dbn::flag::kLast) == 0) continue;
    book::RowEvent event;
    event.ts_recv = msg.ts_recv;
    event.ts_event = msg.hd.ts_event;
    event.action = msg.action;
    event.side = msg.side;
    event.price = msg.price;
    event.size = msg.size;
    if (!(*rows)->Append(event, books.book(applied.book)).ok()) return 0;
    if ((*rows)->full()) {
      auto batch = (*rows)->Finish();
      if (batch.ok()) (void)(*batch)->ValidateFull();
    }
  }
  (void)books.anomalies().total();
  return 0;
}
