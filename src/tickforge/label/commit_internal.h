// File helpers label/commit.cc and label/update.cc share: the JSON beside a labeled dataset,
// written atomically, and the scratch folder a commit builds in.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tickforge/util/status.h"

namespace tickforge::label::internal {

/// Write `text` to `path` atomically (under a hidden name, then renamed).
[[nodiscard]] Status WriteText(const std::filesystem::path& path, const std::string& text);

/// Read the JSON document at `path`; errors name the file and the OS's or the parser's reason.
[[nodiscard]] Result<nlohmann::ordered_json> ReadJsonFile(const std::filesystem::path& path);

/// Remove the scratch folder `dir` when the work is done or fails.
struct ScratchGuard {
  std::filesystem::path dir;
  ~ScratchGuard() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace tickforge::label::internal
