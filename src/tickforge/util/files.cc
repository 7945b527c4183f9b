#include "tickforge/util/files.h"

#include <arrow/compute/initialize.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/type.h>

#include <algorithm>
#include <map>

namespace tickforge {
namespace {

bool Wanted(const std::string& name, const ListOptions& options) {
  if (IsHiddenName(name)) return false;
  if (options.suffixes.empty()) return true;
  return std::any_of(options.suffixes.begin(), options.suffixes.end(),
                     [&](const std::string& suffix) { return name.ends_with(suffix); });
}

}  // namespace

Status CheckDistinctOutputs(const std::vector<std::string>& inputs, const std::vector<std::filesystem::path>& outputs) {
  std::map<std::filesystem::path, size_t> first;
  for (size_t i = 0; i < outputs.size() && i < inputs.size(); ++i) {
    const auto [it, added] = first.emplace(outputs[i].lexically_normal(), i);
    if (!added) {
      return Status::Invalid(inputs[it->second], " and ", inputs[i], " would both write ", outputs[i].string(),
                             "; convert files of the same name into different output folders");
    }
  }
  return Status::OK();
}

Result<std::vector<std::string>> ListFiles(const std::filesystem::path& dir, const ListOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::IOError(dir.string(), ": ", ec ? ec.message() : std::string("not a directory"));
  }
  std::vector<std::string> found;
  if (options.recursive) {
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        if (IsHiddenName(name)) it.disable_recursion_pending();
      } else if (it->is_regular_file(ec) && Wanted(name, options)) {
        found.push_back(it->path().string());
      }
    }
  } else {
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && Wanted(it->path().filename().string(), options)) {
        found.push_back(it->path().string());
      }
    }
  }
  if (ec) return Status::IOError(dir.string(), ": ", ec.message());
  std::sort(found.begin(), found.end());
  return found;
}

Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenReadable(const std::string& path) {
  auto file = arrow::io::ReadableFile::Open(path);
  if (!file.ok()) return WithPath(file.status(), path);
  return std::shared_ptr<arrow::io::RandomAccessFile>(*std::move(file));
}

Result<std::shared_ptr<arrow::ipc::RecordBatchFileReader>> OpenIpcFile(const std::string& path,
                                                                      const std::vector<std::string>& columns) {
  ARROW_ASSIGN_OR_RAISE(auto file, OpenReadable(path));
  auto options = arrow::ipc::IpcReadOptions::Defaults();
  if (!columns.empty()) {
    auto probe = arrow::ipc::RecordBatchFileReader::Open(file);
    if (!probe.ok()) return WithPath(probe.status(), path);
    for (const auto& name : columns) {
      const int index = (*probe)->schema()->GetFieldIndex(name);
      if (index < 0) return Status::Invalid(path, ": no column '", name, "'");
      options.included_fields.push_back(index);
    }
    std::sort(options.included_fields.begin(), options.included_fields.end());
  }
  auto reader = arrow::ipc::RecordBatchFileReader::Open(file, options);
  if (!reader.ok()) return WithPath(reader.status(), path);
  return *std::move(reader);
}

Status InitializeCompute() {
  static const Status status = arrow::compute::Initialize();
  return status;
}

}  // namespace tickforge
