// The projection cache: a scan's result kept as one Parquet file under `_cache/<key>/`, the key
// hashing the dataset, columns, filters and snapshot version (so a new commit is a new key),
// reused while younger than the caller's TTL; and its clearing.
#include "tickforge/store/store.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tickforge/store/predicate_internal.h"
#include "tickforge/store/row_key_internal.h"
#include "tickforge/util/io.h"

namespace tickforge::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string CacheKey(const std::string& dataset, const ScanOptions& projection, int64_t version) {
  std::string text = dataset + "\x1f" + std::to_string(version);
  for (const auto& column : projection.columns) text += "\x1f" "c:" + column;
  for (const auto& p : projection.filters) {
    text += "\x1f" "f:" + p.column + " " + p.op;
    // (Appended by format, not `" " + ...`: that concatenation trips a false -Wrestrict in GCC 12.)
    for (const auto& value : p.values) text += fmt::format(" {}{}", value.index(), ValueText(value));
  }
  Key128 key{0x9e3779b97f4a7c15ULL, 0xd1b54a32d192ed03ULL};
  Absorb(key, HashBytes(text));
  return fmt::format("{:016x}{:016x}", key.a, key.b);
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<CachedProjection> Store::Cached(const std::string& dataset, const ScanOptions& projection,
                                       double ttl_seconds) {
  ARROW_ASSIGN_OR_RAISE(auto snapshot, ReadSnapshot(projection.version));
  ARROW_RETURN_NOT_OK(snapshot.Find(dataset).status());
  CachedProjection out;
  out.key = CacheKey(dataset, projection, snapshot.version);
  const fs::path dir = paths_.cache / out.key;
  out.path = dir / "data.parquet";
  std::error_code ec;
  if (fs::exists(dir / "meta.json", ec) && fs::exists(out.path, ec)) {
    std::ifstream in(dir / "meta.json");
    json meta = json::parse(in, nullptr, false);
    // The caller's TTL decides; the one stored serves ClearCache(expired_only).
    if (!meta.is_discarded() && NowSeconds() - meta.value("created_at", 0.0) < ttl_seconds) {
      out.hit = true;
      out.rows = meta.value("rows", int64_t{0});
      return out;
    }
  }
  ScanOptions scan = projection;
  scan.version = snapshot.version;
  ARROW_ASSIGN_OR_RAISE(auto reader, Scan(dataset, scan));
  ARROW_ASSIGN_OR_RAISE(out.rows, WriteFlatParquet(*reader, out.path));
  json meta = {{"dataset", dataset},
               {"version", snapshot.version},
               {"columns", projection.columns},
               {"created_at", NowSeconds()},
               {"ttl_seconds", ttl_seconds},
               {"rows", out.rows}};
  ARROW_ASSIGN_OR_RAISE(auto meta_file, AtomicFile::Create(dir / "meta.json"));
  ARROW_RETURN_NOT_OK(meta_file->stream()->Write(meta.dump(1)));
  ARROW_RETURN_NOT_OK(meta_file->Commit());
  return out;
}

Result<int64_t> Store::ClearCache(bool expired_only) {
  std::error_code ec;
  if (!fs::exists(paths_.cache, ec)) return 0;
  int64_t removed = 0;
  for (const auto& entry : fs::directory_iterator(paths_.cache, ec)) {
    if (expired_only) {
      std::ifstream in(entry.path() / "meta.json");
      json meta = json::parse(in, nullptr, false);
      if (!meta.is_discarded() && NowSeconds() - meta.value("created_at", 0.0) < meta.value("ttl_seconds", 0.0)) {
        continue;
      }
    }
    fs::remove_all(entry.path(), ec);
    ++removed;
  }
  return removed;
}

}  // namespace tickforge::store
