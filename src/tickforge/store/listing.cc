// Filtered reads of one dataset's listing (see listing_internal.h).
#include "tickforge/store/listing_internal.h"

#include <algorithm>
#include <set>
#include <vector>

#include "tickforge/store/log_internal.h"

namespace tickforge::store {

namespace {

/// The full read, filtered: exact for every store (the fallback).
Result<DatasetListing> FullListing(const StorePaths& paths, int64_t version, const std::string& name,
                                   const std::function<CheckpointSelection(const DatasetEntry&)>& select) {
  DatasetListing listing;
  ARROW_ASSIGN_OR_RAISE(listing.snapshot, ReadSnapshot(paths, version));
  for (auto& [dataset_name, dataset] : listing.snapshot.datasets) {
    listing.file_counts[dataset_name] = static_cast<int64_t>(dataset.files.size());
    if (dataset_name != name) {
      dataset.files.clear();
      continue;
    }
    const CheckpointSelection selection = select(dataset);
    if (selection.keep) dataset.files.EraseIf([&](const FileEntry& file) { return !selection.keep(file); });
  }
  return listing;
}

/// Apply `entry` to the partial listing: its changes to other datasets only count.
Status ApplyToListing(const LogEntry& entry, const std::string& name, const CheckpointSelection& selection,
                      DatasetListing* listing) {
  Snapshot& snapshot = listing->snapshot;
  const std::string origin = "version " + std::to_string(entry.version);
  if (snapshot.version != entry.parent) {
    return Status::Invalid(origin, " follows version ", entry.parent, ", not ", snapshot.version);
  }
  for (const auto& dropped : entry.dropped) {
    snapshot.datasets.erase(dropped);
    listing->file_counts.erase(dropped);
  }
  for (const auto& [dataset_name, definition] : entry.defined) {
    auto [it, inserted] = snapshot.datasets.try_emplace(dataset_name, definition);
    if (!inserted) {
      FileList files = std::move(it->second.files);
      it->second = definition;
      it->second.files = std::move(files);
    }
    listing->file_counts.try_emplace(dataset_name, 0);
  }
  for (const auto& [dataset_name, removed] : entry.removed) {
    listing->file_counts[dataset_name] -= static_cast<int64_t>(removed.size());
    if (dataset_name != name) continue;
    auto& files = snapshot.datasets.at(name).files;
    // Removed files the selection did not keep are not here: nothing to do for them.
    for (const auto& path : removed) {
      for (size_t at = files.LowerBound(path); at < files.size() && files[at].path == path;) files.EraseAt(at);
    }
  }
  for (const auto& [dataset_name, added] : entry.added) {
    listing->file_counts[dataset_name] += static_cast<int64_t>(added.size());
    if (dataset_name != name) continue;
    std::vector<FileEntry> kept;
    for (const auto& file : added) {
      if (!selection.keep || selection.keep(file)) kept.push_back(file);
    }
    snapshot.datasets.at(name).files.MergeSorted(std::move(kept));
  }
  snapshot.version = entry.version;
  snapshot.operation = entry.operation;
  snapshot.committed_at = entry.committed_at;
  snapshot.details = entry.details;
  return Status::OK();
}

}  // namespace

Result<DatasetListing> ReadDatasetListing(const StorePaths& paths, std::optional<int64_t> version,
                                          const std::string& name,
                                          const std::function<CheckpointSelection(const DatasetEntry&)>& select) {
  ARROW_ASSIGN_OR_RAISE(int64_t latest, LatestVersion(paths));
  const int64_t wanted = version.value_or(latest);
  if (wanted <= 0 || wanted > latest) return FullListing(paths, wanted, name, select);
  ARROW_ASSIGN_OR_RAISE(auto listed, ListCheckpoints(paths));
  const std::set<int64_t> checkpoints(listed.begin(), listed.end());
  // The entries after the newest checkpoint at or before the version. A filtered read replays
  // them in the full listing's order only while it stays sorted by path and the dataset keeps
  // its definition (the selection was made for it); otherwise the full read decides.
  std::vector<LogEntry> changes;
  for (int64_t v = wanted; v > 0; --v) {
    if (checkpoints.count(v)) {
      auto read = ReadCheckpointSelection(paths.Checkpoint(v).string(), name, select);
      if (!read.ok() || read->snapshot.version != v) break;  // an unreadable checkpoint: the full read passes it over
      if (!read->sorted && read->file_counts.count(name) && read->file_counts.at(name) > 0) break;
      DatasetListing listing;
      listing.snapshot = std::move(read->snapshot);
      listing.file_counts = std::move(read->file_counts);
      listing.filtered = true;
      const CheckpointSelection selection =
          listing.snapshot.datasets.count(name) ? select(listing.snapshot.datasets.at(name)) : CheckpointSelection{};
      for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
        ARROW_RETURN_NOT_OK(ApplyToListing(*it, name, selection, &listing));
      }
      return listing;
    }
    auto parsed = ReadLogEntry(paths, v);
    if (!parsed.ok() || parsed->whole) break;
    const LogEntry& change = parsed->change;
    const auto added = change.added.find(name);
    if (change.defined.count(name) ||
        (added != change.added.end() && !std::is_sorted(added->second.begin(), added->second.end(), ByPath))) {
      break;
    }
    changes.push_back(std::move(parsed->change));
  }
  return FullListing(paths, wanted, name, select);
}

namespace {

/// Apply `entry` to a head: definitions, header and totals.
void ApplyToHead(LogEntry entry, StoreHead* head) {
  Snapshot& snapshot = head->snapshot;
  for (const auto& dropped : entry.dropped) snapshot.datasets.erase(dropped);
  for (const auto& [name, definition] : entry.defined) snapshot.datasets.insert_or_assign(name, definition);
  ApplyRecordedTotals(entry, &head->totals);
  snapshot.version = entry.version;
  snapshot.operation = entry.operation;
  snapshot.committed_at = entry.committed_at;
  snapshot.details = entry.details;
  head->entries.push_back(std::move(entry));
}

}  // namespace

Result<std::optional<StoreHead>> ReadStoreHead(const StorePaths& paths, int64_t version, HeadMiss* why) {
  const auto miss = [why](HeadMiss reason) {
    *why = reason;
    return std::optional<StoreHead>();
  };
  *why = HeadMiss::kNone;
  ARROW_ASSIGN_OR_RAISE(auto listed, ListCheckpoints(paths));
  const std::set<int64_t> checkpoints(listed.begin(), listed.end());
  std::vector<LogEntry> changes;
  StoreHead head;
  int64_t v = version;
  for (; v > 0; --v) {
    if (checkpoints.count(v)) {
      auto read = ReadCheckpointHeader(paths.Checkpoint(v).string());
      if (!read.ok() || read->snapshot.version != v) return miss(HeadMiss::kOther);
      if (!read->totals) return miss(HeadMiss::kNoTotals);
      for (const auto& [name, count] : read->file_counts) {
        if (count > 0 && !read->sorted_datasets.count(name)) return miss(HeadMiss::kOther);
      }
      head.snapshot = std::move(read->snapshot);
      head.totals = std::move(*read->totals);
      head.checkpoint_version = v;
      break;
    }
    auto parsed = ReadLogEntry(paths, v);
    if (!parsed.ok() || parsed->whole) return miss(HeadMiss::kOther);
    if (!parsed->change.totals) return miss(HeadMiss::kNoTotals);
    for (const auto& [name, added] : parsed->change.added) {
      if (!std::is_sorted(added.begin(), added.end(), ByPath)) return miss(HeadMiss::kOther);
    }
    changes.push_back(std::move(parsed->change));
  }
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
    if (it->parent != head.snapshot.version) return miss(HeadMiss::kOther);
    ApplyToHead(std::move(*it), &head);
  }
  return std::optional<StoreHead>(std::move(head));
}

Result<FileList> ReadHeadFiles(const StorePaths& paths, const StoreHead& head, const std::string& name,
                               const CheckpointSelection& selection) {
  FileList files;
  if (head.checkpoint_version > 0) {
    const std::string path = paths.Checkpoint(head.checkpoint_version).string();
    ARROW_ASSIGN_OR_RAISE(auto read, ReadCheckpointSelection(path, name, [&](const DatasetEntry&) { return selection; }));
    if (read.snapshot.version != head.checkpoint_version) {
      return Status::Invalid(path, ": holds version ", read.snapshot.version, ", not ", head.checkpoint_version);
    }
    if (auto it = read.snapshot.datasets.find(name); it != read.snapshot.datasets.end()) {
      files = std::move(it->second.files);
    }
  }
  // Later entries in commit order, as ApplyLogEntry replays them on the sorted listing.
  for (const auto& entry : head.entries) {
    if (std::find(entry.dropped.begin(), entry.dropped.end(), name) != entry.dropped.end()) files.clear();
    if (auto it = entry.removed.find(name); it != entry.removed.end()) {
      for (const auto& path : it->second) {
        for (size_t at = files.LowerBound(path); at < files.size() && files[at].path == path;) files.EraseAt(at);
      }
    }
    if (auto it = entry.added.find(name); it != entry.added.end()) {
      std::vector<FileEntry> kept;
      for (const auto& file : it->second) {
        if ((!selection.keep || selection.keep(file)) && file.path.starts_with(selection.path_prefix)) {
          kept.push_back(file);
        }
      }
      files.MergeSorted(std::move(kept));
    }
  }
  return files;
}

}  // namespace tickforge::store
