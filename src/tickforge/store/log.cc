// Format 2 log entries and the snapshot reader (see log_internal.h).
#include "tickforge/store/log_internal.h"

#include <arrow/buffer.h>
#include <arrow/io/interfaces.h>
#include <arrow/type.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "tickforge/store/checkpoint_internal.h"
#include "tickforge/store/manifest_internal.h"
#include "tickforge/util/files.h"
#include "tickforge/util/io.h"

namespace tickforge::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool DefinitionChanged(const DatasetEntry& before, const DatasetEntry& after) {
  return before.type != after.type || before.partition_keys != after.partition_keys ||
         before.natural_key != after.natural_key || before.time_column != after.time_column ||
         !before.schema->Equals(*after.schema, /*check_metadata=*/true);
}

bool SameFile(const FileEntry& a, const FileEntry& b) {
  return a.path == b.path && a.version == b.version && a.rows == b.rows && a.bytes == b.bytes &&
         a.min_time == b.min_time && a.max_time == b.max_time && a.partition == b.partition;
}

/// Up to this many removed paths are looked up one by one in a sorted listing.
constexpr size_t kSearchedRemovals = 256;

/// A position in a listing, walked chunk by chunk.
struct Cursor {
  const FileList& list;
  size_t chunk = 0;
  size_t offset = 0;
  [[nodiscard]] bool done() const { return chunk == list.chunk_count(); }
  [[nodiscard]] const FileEntry& get() const { return list.chunk(chunk)[offset]; }
  void Next() {
    if (++offset == list.chunk(chunk).size()) ++chunk, offset = 0;
  }
};

/// Fill `removed` and `added` with what turns `before` into `after`, such that ApplyLogEntry
/// rebuilds `after` in its exact order.
void DiffFiles(const FileList& before_list, const FileList& after_list, std::vector<std::string>* removed,
               std::vector<FileEntry>* added) {
  if (after_list.sorted() && before_list.sorted()) {
    // The writers keep files sorted by path: one merge walk, which steps over the chunks both
    // listings share whole, so a commit's diff costs what it changed, not the listing's size.
    Cursor i{before_list}, j{after_list};
    while (!i.done() || !j.done()) {
      if (!i.done() && !j.done() && i.offset == 0 && j.offset == 0 &&
          &before_list.chunk(i.chunk) == &after_list.chunk(j.chunk)) {
        ++i.chunk, ++j.chunk;
        continue;
      }
      if (j.done() || (!i.done() && i.get().path < j.get().path)) {
        removed->push_back(i.get().path);
        i.Next();
      } else if (i.done() || j.get().path < i.get().path) {
        added->push_back(j.get());
        j.Next();
      } else {
        if (!SameFile(i.get(), j.get())) {
          removed->push_back(i.get().path);
          added->push_back(j.get());
        }
        i.Next(), j.Next();
      }
    }
    return;
  }
  const std::vector<FileEntry> before = before_list.ToVector(), after = after_list.ToVector();
  // Unsorted listings: the replay keeps the survivors' order and appends what was added, which
  // is exact only if `after` is in that order; otherwise the entry lists the whole dataset.
  std::unordered_map<std::string_view, size_t> position;
  position.reserve(before.size());
  for (size_t i = 0; i < before.size(); ++i) position.emplace(before[i].path, i);
  std::unordered_set<std::string_view> kept;
  bool in_order = true;
  bool seen_added = false;
  bool kept_sorted = true;
  size_t last = 0;
  const FileEntry* last_kept = nullptr;
  std::vector<FileEntry> new_files;
  for (const auto& file : after) {
    auto it = position.find(file.path);
    if (it == position.end() || !SameFile(before[it->second], file)) {
      seen_added = true;
      new_files.push_back(file);
      continue;
    }
    if (seen_added || (last_kept && it->second < last)) in_order = false;
    if (last_kept && file.path < last_kept->path) kept_sorted = false;
    last = it->second;
    last_kept = &file;
    kept.insert(file.path);
  }
  // A replay merges two sorted parts, which would not give this unsorted order back.
  const bool replay_merges = kept_sorted && std::is_sorted(new_files.begin(), new_files.end(), ByPath);
  if (!in_order || replay_merges) {
    for (const auto& file : before) removed->push_back(file.path);
    added->insert(added->end(), after.begin(), after.end());
    return;
  }
  for (const auto& file : before) {
    if (!kept.count(file.path)) removed->push_back(file.path);
  }
  *added = std::move(new_files);
}

Status EntryError(const std::string& origin, const std::string& what) {
  return Status::Invalid(origin, ": ", what);
}

Result<std::string> ReadWholeFile(const fs::path& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, OpenReadable(path.string()));
  ARROW_ASSIGN_OR_RAISE(int64_t size, file->GetSize());
  auto buffer = file->ReadAt(0, size);
  if (!buffer.ok()) return WithPath(buffer.status(), path.string());
  return (*buffer)->ToString();
}

}  // namespace

LogEntry DiffSnapshots(const Snapshot& before, const Snapshot& after) {
  LogEntry entry;
  entry.version = after.version;
  entry.parent = before.version;
  entry.operation = after.operation;
  entry.committed_at = after.committed_at;
  entry.details = after.details;
  for (const auto& [name, dataset] : before.datasets) {
    if (!after.datasets.count(name)) entry.dropped.push_back(name);
  }
  static const FileList kNone;
  for (const auto& [name, dataset] : after.datasets) {
    auto old = before.datasets.find(name);
    if (old == before.datasets.end() || DefinitionChanged(old->second, dataset)) {
      DatasetEntry definition = dataset;
      definition.files.clear();
      entry.defined.emplace(name, std::move(definition));
    }
    std::vector<std::string> removed;
    std::vector<FileEntry> added;
    DiffFiles(old == before.datasets.end() ? kNone : old->second.files, dataset.files, &removed, &added);
    if (!removed.empty()) entry.removed.emplace(name, std::move(removed));
    if (!added.empty()) entry.added.emplace(name, std::move(added));
  }
  return entry;
}

Status ApplyLogEntry(const LogEntry& entry, const std::string& origin, Snapshot* snapshot) {
  if (snapshot->version != entry.parent) {
    return EntryError(origin, "version " + std::to_string(entry.version) + " follows version " +
                                  std::to_string(entry.parent) + ", not " + std::to_string(snapshot->version));
  }
  for (const auto& name : entry.dropped) {
    if (!snapshot->datasets.erase(name)) return EntryError(origin, "drops dataset '" + name + "', which it did not have");
  }
  for (const auto& [name, definition] : entry.defined) {
    auto [it, inserted] = snapshot->datasets.try_emplace(name, definition);
    if (!inserted) {
      FileList files = std::move(it->second.files);
      it->second = definition;
      it->second.files = std::move(files);
    }
  }
  for (const auto& [name, paths] : entry.removed) {
    auto it = snapshot->datasets.find(name);
    if (it == snapshot->datasets.end()) return EntryError(origin, "removes files of unknown dataset '" + name + "'");
    std::unordered_set<std::string_view> gone(paths.begin(), paths.end());
    auto& files = it->second.files;
    const size_t count = files.size();
    if (files.sorted() && gone.size() <= kSearchedRemovals) {
      // A few paths of a sorted listing: found by binary search, so a replay of a small
      // commit does not look at every file.
      for (const auto& path : gone) {
        for (size_t at = files.LowerBound(path); at < files.size() && files[at].path == path;) files.EraseAt(at);
      }
    } else {
      files.EraseIf([&](const FileEntry& file) { return gone.count(file.path) > 0; });
    }
    if (count - files.size() != gone.size() || gone.size() != paths.size()) {
      return EntryError(origin, "removes " + std::to_string(paths.size()) + " files of dataset '" + name +
                                    "', but version " + std::to_string(entry.parent) + " lists only " +
                                    std::to_string(count - files.size()) + " of them");
    }
  }
  for (const auto& [name, added] : entry.added) {
    auto it = snapshot->datasets.find(name);
    if (it == snapshot->datasets.end()) return EntryError(origin, "adds files to unknown dataset '" + name + "'");
    auto& files = it->second.files;
    // Sorted listings stay sorted (how the writer keeps them; DiffFiles relies on it).
    if (files.sorted() && std::is_sorted(added.begin(), added.end(), ByPath)) {
      files.MergeSorted(added);
    } else {
      files.Append(added);
    }
  }
  snapshot->version = entry.version;
  snapshot->operation = entry.operation;
  snapshot->committed_at = entry.committed_at;
  snapshot->details = entry.details;
  return Status::OK();
}

Result<std::string> LogEntryToJson(const LogEntry& entry) {
  Snapshot header;
  header.version = entry.version;
  header.details = entry.details;
  ARROW_ASSIGN_OR_RAISE(json details, DetailsToJson(header));
  json defined = json::object(), added = json::object(), removed = json::object();
  for (const auto& [name, dataset] : entry.defined) {
    ARROW_ASSIGN_OR_RAISE(defined[name], DefinitionToJson(dataset));
  }
  for (const auto& [name, files] : entry.added) {
    json list = json::array();
    for (const auto& file : files) list.push_back(FileToJson(file));
    added[name] = std::move(list);
  }
  for (const auto& [name, paths] : entry.removed) removed[name] = paths;
  json root = {{"format", "tickforge.store"},
               {"format_version", 2},
               {"version", entry.version},
               {"parent", entry.parent},
               {"operation", entry.operation},
               {"committed_at", entry.committed_at},
               {"details", details},
               {"defined", defined},
               {"added", added},
               {"removed", removed},
               {"dropped", entry.dropped}};
  if (entry.totals) root["totals"] = TotalsToJson(*entry.totals);
  return root.dump(1);
}

Result<ParsedLogEntry> ParseLogEntry(std::string_view text, const std::string& origin) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    return Status::Invalid(origin, ": malformed log entry: ", e.what());
  }
  ParsedLogEntry parsed;
  try {
    if (!root.is_object() || root.value("format", "") != "tickforge.store") {
      return Status::Invalid(origin, ": not a tickforge store log entry");
    }
    const json& format = root.at("format_version");
    if (format == 1) {
      ARROW_ASSIGN_OR_RAISE(auto whole, SnapshotFromJson(root, origin));
      parsed.whole = std::move(whole);
      return parsed;
    }
    if (format != 2) {
      return Status::Invalid(origin, ": store format version ", format.dump(),
                             " is newer than this tickforge understands");
    }
    LogEntry& entry = parsed.change;
    entry.version = root.at("version").get<int64_t>();
    entry.parent = root.at("parent").get<int64_t>();
    if (entry.version <= 0 || entry.parent != entry.version - 1) {
      return Status::Invalid(origin, ": version ", entry.version, " with parent ", entry.parent,
                             " (a commit follows the version before it)");
    }
    entry.operation = root.at("operation").get<std::string>();
    entry.committed_at = root.at("committed_at").get<std::string>();
    for (const auto& [key, value] : root.at("details").items()) entry.details[key] = value.dump();
    for (const auto& [name, value] : root.at("defined").items()) {
      auto dataset = DefinitionFromJson(name, value);
      if (!dataset.ok()) return WithPath(dataset.status(), origin);
      entry.defined.emplace(name, std::move(*dataset));
    }
    for (const auto& [name, files] : root.at("added").items()) {
      auto& list = entry.added[name];
      for (const auto& item : files) list.push_back(FileFromJson(item));
    }
    for (const auto& [name, paths] : root.at("removed").items()) {
      entry.removed[name] = paths.get<std::vector<std::string>>();
    }
    entry.dropped = root.at("dropped").get<std::vector<std::string>>();
    if (const auto it = root.find("totals"); it != root.end()) entry.totals = TotalsFromJson(*it);
  } catch (const json::exception& e) {
    return Status::Invalid(origin, ": malformed log entry: ", e.what());
  }
  return parsed;
}

Result<ParsedLogEntry> ReadLogEntry(const StorePaths& paths, int64_t version) {
  const fs::path path = paths.LogEntry(version);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    ARROW_ASSIGN_OR_RAISE(int64_t latest, LatestVersion(paths));
    return Status::KeyError(paths.root.string(), ": the store has no version ", version, " (newest is ", latest,
                            version < latest ? "; its log entry is missing" : "", ")");
  }
  ARROW_ASSIGN_OR_RAISE(std::string text, ReadWholeFile(path));
  ARROW_ASSIGN_OR_RAISE(auto parsed, ParseLogEntry(text, path.string()));
  const int64_t found = parsed.whole ? parsed.whole->version : parsed.change.version;
  if (found != version) {
    return Status::Invalid(path.string(), ": holds version ", found, ", not ", version);
  }
  return parsed;
}

Status CommitLogEntry(const StorePaths& paths, const LogEntry& entry) {
  ARROW_ASSIGN_OR_RAISE(std::string text, LogEntryToJson(entry));
  std::error_code ec;
  fs::create_directories(paths.log, ec);
  if (ec) return Status::IOError(paths.log.string(), ": ", ec.message());
  // CommitNew() fails if the name exists, so of two writers racing for one version only one commits.
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(paths.LogEntry(entry.version)));
  ARROW_RETURN_NOT_OK(file->stream()->Write(text));
  if (auto status = file->CommitNew(); status.IsAlreadyExists()) {
    return Status::Invalid(paths.root.string(), ": another writer committed version ", entry.version, " first");
  } else {
    return status;
  }
}

Result<Snapshot> ReadSnapshotFrom(const StorePaths& paths, std::optional<int64_t> version, SnapshotSource* source) {
  ARROW_ASSIGN_OR_RAISE(int64_t latest, LatestVersion(paths));
  const int64_t wanted = version.value_or(latest);
  SnapshotSource where;
  if (wanted == 0) {
    if (source) *source = where;
    return Snapshot{};
  }
  if (wanted < 0 || wanted > latest) {
    return Status::KeyError(paths.root.string(), ": the store has no version ", wanted, " (newest is ", latest, ")");
  }
  ARROW_ASSIGN_OR_RAISE(auto listed, ListCheckpoints(paths));
  const std::set<int64_t> checkpoints(listed.begin(), listed.end());
  // Walk back from the wanted version to a base: a readable checkpoint, a whole-snapshot
  // entry, or the empty store. A checkpoint that does not read (half-written by a crashed
  // writer's disk, corrupted) is passed over: the log alone is complete.
  std::vector<LogEntry> changes;
  Snapshot snapshot;
  for (int64_t v = wanted; v > 0; --v) {
    if (checkpoints.count(v)) {
      auto read = ReadCheckpoint(paths.Checkpoint(v).string());
      if (read.ok() && read->version == v) {
        snapshot = std::move(*read);
        where = {SnapshotSource::Kind::kCheckpoint, v, 0};
        break;
      }
    }
    auto parsed = ReadLogEntry(paths, v);
    if (!parsed.ok()) {
      if (v == wanted) return parsed.status();
      return parsed.status().WithMessage("cannot read version ", wanted, ": ", parsed.status().message());
    }
    if (parsed->whole) {
      snapshot = std::move(*parsed->whole);
      where = {SnapshotSource::Kind::kWholeEntry, v, 0};
      break;
    }
    changes.push_back(std::move(parsed->change));
  }
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
    ARROW_RETURN_NOT_OK(ApplyLogEntry(*it, paths.LogEntry(it->version).string(), &snapshot));
  }
  where.replayed = static_cast<int64_t>(changes.size());
  if (source) *source = where;
  return snapshot;
}

Result<Snapshot> ReadSnapshot(const StorePaths& paths, std::optional<int64_t> version) {
  return ReadSnapshotFrom(paths, version, nullptr);
}

Status WriteManifestPointer(const StorePaths& paths, const Snapshot& snapshot, int64_t checkpoint_version) {
  const auto relative = [&](const fs::path& path) { return path.lexically_relative(paths.meta).generic_string(); };
  json root = {{"format", "tickforge.store"},
               {"format_version", 2},
               {"version", snapshot.version},
               {"operation", snapshot.operation},
               {"committed_at", snapshot.committed_at},
               {"log", relative(paths.LogEntry(snapshot.version))},
               {"checkpoint", checkpoint_version > 0 ? json(relative(paths.Checkpoint(checkpoint_version))) : json()}};
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(paths.manifest));
  ARROW_RETURN_NOT_OK(file->stream()->Write(root.dump(1) + "\n"));
  return file->Commit();
}

}  // namespace tickforge::store
