// libFuzzer target: any byte string must parse as a store log entry (format 1 or 2) or a
// Parquet checkpoint, or fail cleanly; a parsed entry must apply or fail cleanly, and what it
// serializes to must parse again. There are no store logs in the shared test data, so the
// first byte also selects a valid entry or checkpoint made here, into which the rest of the
// input is spliced (two bytes of offset, then the bytes to write there).
// Build with clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DTICKFORGE_BUILD_FUZZERS=ON
#include <arrow/api.h>
#include <arrow/io/memory.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "tickforge/store/checkpoint_internal.h"
#include "tickforge/store/log_internal.h"
#include "tickforge/store/manifest.h"

namespace {

using namespace tickforge::store;

struct Templates {
  Snapshot parent;
  std::string entry;
  std::string checkpoint;
};

Snapshot Example(int64_t version, int files) {
  Snapshot snapshot;
  snapshot.version = version;
  snapshot.operation = "ingest";
  snapshot.committed_at = "2026-01-01T00:00:00.000Z";
  snapshot.details["quality"] = R"({"gaps":[1,2]})";
  DatasetEntry dataset;
  dataset.name = "klines";
  dataset.type = "klines";
  dataset.partition_keys = {"symbol", "day"};
  dataset.natural_key = {"timestamp"};
  dataset.time_column = "timestamp";
  dataset.schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("symbol", arrow::utf8())});
  for (int i = 0; i < files; ++i) {
    FileEntry file;
    file.path = "klines/symbol=S" + std::to_string(i) + "/day=1/part-" + std::to_string(i) + ".parquet";
    file.rows = 10 * i;
    file.bytes = 100 * i;
    file.partition = {{"symbol", "S" + std::to_string(i)}, {"day", "1"}};
    file.min_time = i;
    file.max_time = i + 10;
    file.version = i % 2 ? version : 1;
    dataset.files.push_back(file);
  }
  snapshot.datasets["klines"] = dataset;
  return snapshot;
}

Templates MakeTemplates() {
  Templates t;
  t.parent = Example(1, 3);
  Snapshot next = Example(2, 5);
  next.datasets["klines"].files.erase(next.datasets["klines"].files.begin());
  t.entry = LogEntryToJson(DiffSnapshots(t.parent, next)).ValueOr("");
  char dir[] = "/tmp/tickforge_log_fuzz_XXXXXX";
  if (::mkdtemp(dir) != nullptr) {
    const StorePaths paths(dir);
    if (WriteCheckpoint(paths, next).ok()) {
      std::ifstream in(paths.Checkpoint(2), std::ios::binary);
      t.checkpoint.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  if (t.entry.empty() || t.checkpoint.empty()) std::abort();
  return t;
}

std::string Splice(std::string base, std::string_view edit) {
  if (edit.size() < 2 || base.empty()) return base;
  const size_t offset = (static_cast<uint8_t>(edit[0]) | static_cast<uint8_t>(edit[1]) << 8) % base.size();
  edit.remove_prefix(2);
  base.replace(offset, std::min(edit.size(), base.size() - offset), edit);
  return base;
}

void ParseEntry(std::string_view text, const Templates& t) {
  auto parsed = ParseLogEntry(text, "fuzz.json");
  if (!parsed.ok()) return;
  if (parsed->whole) {
    (void)SnapshotToJson(*parsed->whole);
    return;
  }
  Snapshot snapshot = t.parent;
  snapshot.version = parsed->change.parent;
  (void)ApplyLogEntry(parsed->change, "fuzz.json", &snapshot);
  auto again = LogEntryToJson(parsed->change);
  if (again.ok() && !ParseLogEntry(*again, "again.json").ok()) std::abort();  // a written entry must read back
}

void ParseCheckpoint(std::string_view bytes) {
  auto file = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(std::string(bytes)));
  auto snapshot = ReadCheckpoint(file, "fuzz.parquet");
  if (snapshot.ok()) (void)SnapshotToJson(*snapshot);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Templates templates = MakeTemplates();
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: ParseEntry(rest, templates); break;
    case 1: ParseEntry(Splice(templates.entry, rest), templates); break;
    case 2: ParseCheckpoint(rest); break;
    default: ParseCheckpoint(Splice(templates.checkpoint, rest)); break;
  }
  return 0;
}
