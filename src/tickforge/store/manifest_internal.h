// The JSON pieces every log format shares: a dataset's definition (its rules and Arrow schema,
// no files), a file entry, a commit's details, and the format 1 reader on parsed JSON.
#pragma once

#include <arrow/type_fwd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tickforge/store/manifest.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// Serialize an Arrow schema as base64 of its IPC message (exact: types, metadata).
[[nodiscard]] Result<std::string> EncodeSchema(const arrow::Schema& schema);
[[nodiscard]] Result<std::shared_ptr<arrow::Schema>> DecodeSchema(const std::string& text);

/// A dataset's rules and schema, without its files.
[[nodiscard]] Result<nlohmann::json> DefinitionToJson(const DatasetEntry& dataset);
/// Read a definition; throws nlohmann::json::exception on a missing or mistyped field.
[[nodiscard]] Result<DatasetEntry> DefinitionFromJson(const std::string& name, const nlohmann::json& value);

[[nodiscard]] nlohmann::json FileToJson(const FileEntry& file);
/// Read a file entry; throws nlohmann::json::exception on a missing or mistyped field.
[[nodiscard]] FileEntry FileFromJson(const nlohmann::json& item);

/// Return the commit's details as one JSON object; an error names a detail that is not JSON.
[[nodiscard]] Result<nlohmann::json> DetailsToJson(const Snapshot& snapshot);

/// Read a format 1 log entry (a whole snapshot) parsed already.
[[nodiscard]] Result<Snapshot> SnapshotFromJson(const nlohmann::json& root, const std::string& origin);

}  // namespace tickforge::store
