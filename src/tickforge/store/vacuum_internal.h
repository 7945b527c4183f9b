// Vacuum's record: what the last `store vacuum` kept, so a scan of an older version whose
// files it deleted says so instead of naming a missing file.
#pragma once

#include <cstdint>
#include <filesystem>

#include "tickforge/store/manifest.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// Return an error naming `version` and the vacuum when `resolved` (where `file` should lie)
/// is missing because a vacuum deleted it; OK otherwise (the reader reports other losses).
[[nodiscard]] Status CheckNotVacuumed(const StorePaths& paths, int64_t version, const FileEntry& file,
                                      const std::filesystem::path& resolved);

}  // namespace tickforge::store
