// Labeled datasets committed to a store: label into a hidden scratch folder of the store, then
// stage the outputs into one transaction with the lineage in its log entry.
#include "tickforge/label/commit.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <parquet/arrow/reader.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

#include "tickforge/binance/binance.h"
#include "tickforge/dataset/dataset.h"
#include "tickforge/label/commit_internal.h"
#include "tickforge/store/manifest.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/util/io.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/version.h"

namespace tickforge::label {
namespace {

namespace fs = std::filesystem;

std::string Sha256Text(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace

namespace internal {

Status WriteText(const fs::path& path, const std::string& text) {
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(path));
  ARROW_RETURN_NOT_OK(file->stream()->Write(text.data(), static_cast<int64_t>(text.size())));
  return file->Commit();
}

Result<nlohmann::ordered_json> ReadJsonFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError(path.string(), ": cannot open: ", std::strerror(errno));
  try {
    return nlohmann::ordered_json::parse(in);
  } catch (const std::exception& e) {
    return Status::Invalid(path.string(), ": ", e.what());
  }
}

}  // namespace internal

using internal::ReadJsonFile;
using internal::ScratchGuard;
using internal::WriteText;

Result<std::string> LabeledDatasetName(const std::string& name) {
  const auto bad = [&](const char* why) {
    return Status::Invalid("invalid labeled dataset name '", name, "' (", why, ")");
  };
  if (name.empty()) return bad("empty");
  if (name.find("..") != std::string::npos) return bad("'..'");
  if (name.front() == '.' || name.front() == '_') return bad("a leading '.' or '_' hides it from readers");
  for (unsigned char c : name) {
    if (c == '/' || c == '\\') return bad("path separator");
    if (c < 0x20 || c == 0x7f) return bad("control character");
  }
  return "labeled/" + name;
}

Result<nlohmann::ordered_json> RawLineage(const std::vector<InputFile>& files) {
  auto list = nlohmann::ordered_json::array();
  for (const auto& file : files) {
    std::error_code ec;
    const auto size = fs::file_size(file.path, ec);
    if (ec) return Status::IOError(file.path, ": ", ec.message());
    ARROW_ASSIGN_OR_RAISE(auto sha, binance::Sha256File(file.path));
    list.push_back({{"path", fs::absolute(file.path).string()}, {"bytes", size}, {"sha256", sha}});
  }
  return nlohmann::ordered_json{{"files", list}};
}

Result<CommitResult> LabelIntoStore(const std::vector<InputFile>& files, const nlohmann::ordered_json* thresholds,
                                    const LabelConfig& config, const CommitTarget& target,
                                    const nlohmann::ordered_json& source, const BuildOptions& options,
                                    const nlohmann::ordered_json& extra_lineage) {
  ARROW_RETURN_NOT_OK(LabeledDatasetName(target.name).status());
  ARROW_ASSIGN_OR_RAISE(auto store_root, [&]() -> Result<fs::path> {
    std::error_code ec;
    if (!fs::is_directory(fs::path(target.root) / "_tickforge", ec)) {
      return Status::IOError(target.root, ": not a tickforge store (no _tickforge folder)");
    }
    return fs::absolute(target.root);
  }());
  // The build writes where readers never look (a hidden folder of the store, so files move
  // into the commit by rename); a killed build leaves it for the next one to remove.
  ScratchGuard scratch{ScratchDirNear(store_root)};
  CommitResult result;
  if (thresholds) {
    ARROW_ASSIGN_OR_RAISE(result.report, BuildInputs(files, *thresholds, config, scratch.dir, options));
    ARROW_RETURN_NOT_OK(WriteText(scratch.dir / "thresholds.json", thresholds->dump(2) + "\n"));
  } else {
    ARROW_ASSIGN_OR_RAISE(result.report, RunInputs(files, config, scratch.dir, options));
  }
  ARROW_ASSIGN_OR_RAISE(auto committed, CommitLabeledDir(store_root.string(), target.name, scratch.dir, result.report,
                                                        config, source, extra_lineage));
  committed.report = std::move(result.report);
  return committed;
}

Result<CommitResult> CommitLabeledDir(const std::string& root, const std::string& labeled_name, const fs::path& dir,
                                      const nlohmann::ordered_json& report, const LabelConfig& config,
                                      const nlohmann::ordered_json& source, const nlohmann::ordered_json& extra_lineage) {
  ARROW_ASSIGN_OR_RAISE(const std::string dataset_name, LabeledDatasetName(labeled_name));
  const fs::path store_root = fs::absolute(root);
  std::error_code ec;
  if (!fs::is_directory(store_root / "_tickforge", ec)) {
    return Status::IOError(root, ": not a tickforge store (no _tickforge folder)");
  }
  CommitResult result;
  result.report = report;
  ARROW_ASSIGN_OR_RAISE(auto thresholds_doc, ReadJsonFile(dir / "thresholds.json"));
  const std::string config_text = config.ToJson().dump();
  result.lineage = {{"source", source},
                    {"config", config.ToJson()},
                    {"config_sha256", Sha256Text(config_text)},
                    {"thresholds_sha256", Sha256Text(thresholds_doc.dump())},
                    {"tickforge_version", std::string(kVersion)},
                    {"created_at", store::UtcNow()}};
  if (extra_lineage.is_object()) {
    for (const auto& [key, value] : extra_lineage.items()) result.lineage[key] = value;
  }

  const store::StorePaths paths(store_root);
  ARROW_ASSIGN_OR_RAISE(auto txn, store::Transaction::Begin(paths, "label"));
  const int64_t version = txn->version();
  const std::string folder = fmt::format("{}/v{:06d}", dataset_name, version);
  store::DatasetEntry entry;
  entry.name = dataset_name;
  entry.type = "labeled";
  entry.time_column = std::string(dataset::kTsEventColumn);
  std::vector<std::pair<fs::path, store::FileEntry>> moves;
  const auto add = [&](const std::string& name, int64_t rows, int64_t min_time, int64_t max_time) -> Status {
    store::FileEntry file;
    file.path = folder + "/" + name;
    file.rows = rows;
    file.bytes = static_cast<int64_t>(fs::file_size(dir / name, ec));
    if (ec) return Status::IOError((dir / name).string(), ": ", ec.message());
    file.min_time = min_time;
    file.max_time = max_time;
    file.version = version;
    moves.emplace_back(dir / name, file);
    entry.files.push_back(std::move(file));
    return Status::OK();
  };
  for (const auto& [symbol, info] : result.report.at("symbols").items()) {
    if (!info.contains("output")) continue;
    const std::string name = info.at("output").get<std::string>();
    if (!entry.schema) {
      ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet((dir / name).string()));
      ARROW_RETURN_NOT_OK(WithPath(reader->GetSchema(&entry.schema), name));
    }
    ARROW_RETURN_NOT_OK(add(name, info.at("valid").get<int64_t>(), info.value("first_ts_event", int64_t{0}),
                            info.value("last_ts_event", int64_t{0})));
  }
  if (!entry.schema) {
    return Status::Invalid("no symbol had enough valid rows for a labeled dataset; nothing to commit as ", dataset_name);
  }
  ARROW_RETURN_NOT_OK(add("thresholds.json", 0, 0, 0));
  ARROW_RETURN_NOT_OK(add("build_report.json", 0, 0, 0));
  ARROW_RETURN_NOT_OK(store::EnsureDirectory(txn->staging()));
  for (const auto& [from, file] : moves) {
    if (::rename(from.c_str(), paths.Staged(file).c_str()) != 0) {
      return Status::IOError("cannot move ", from.string(), " to ", paths.Staged(file).string(), ": ",
                             std::strerror(errno));
    }
  }
  txn->next().datasets[dataset_name] = std::move(entry);
  txn->next().details["lineage"] = result.lineage.dump();
  ARROW_RETURN_NOT_OK(txn->Commit());
  result.version = version;
  result.dataset = dataset_name;
  return result;
}

Result<nlohmann::ordered_json> ReadLineage(const std::string& root, const std::string& dataset,
                                           std::optional<int64_t> version) {
  const store::StorePaths paths{fs::path(root)};
  std::error_code ec;
  if (!fs::is_directory(paths.meta, ec)) return Status::IOError(root, ": not a tickforge store (no _tickforge folder)");
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store::ReadSnapshot(paths, version));
  ARROW_ASSIGN_OR_RAISE(const store::DatasetEntry* entry, snapshot.Find(dataset));
  // The lineage belongs to the commit that last wrote the dataset's files.
  int64_t wrote = 0;
  for (const auto& file : entry->files) wrote = std::max(wrote, file.version);
  if (wrote != snapshot.version) {
    ARROW_ASSIGN_OR_RAISE(snapshot, store::ReadSnapshot(paths, wrote));
  }
  const auto it = snapshot.details.find("lineage");
  if (it == snapshot.details.end()) {
    return Status::KeyError(root, ": the commit of version ", wrote, " that wrote ", dataset, " records no lineage");
  }
  auto lineage = nlohmann::ordered_json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (!lineage.is_object()) return Status::Invalid(root, ": the lineage of version ", wrote, " is not a JSON object");
  lineage["dataset"] = dataset;
  lineage["version"] = wrote;
  return lineage;
}

Result<LabeledSnapshot> ResolveLabeled(const std::string& root, const std::string& dataset,
                                       std::optional<int64_t> version) {
  const store::StorePaths paths{fs::path(root)};
  std::error_code ec;
  if (!fs::is_directory(paths.meta, ec)) return Status::IOError(root, ": not a tickforge store (no _tickforge folder)");
  ARROW_ASSIGN_OR_RAISE(const int64_t latest, store::LatestVersion(paths));
  if (version && (*version < 1 || *version > latest)) {
    return Status::KeyError(root, ": the store has no version ", *version,
                            latest > 0 ? fmt::format(" (versions 1 to {})", latest) : std::string(" (no commits yet)"));
  }
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store::ReadSnapshot(paths, version));
  auto found = snapshot.Find(dataset);
  if (!found.ok()) return WithPath(found.status(), root);
  LabeledSnapshot out;
  out.version = snapshot.version;
  out.stats_dir = (fs::absolute(paths.meta) / "stats" / dataset).string();
  for (const auto& file : (*found)->files) {
    if (!dataset::SymbolOfFileName(fs::path(file.path).filename().string())) continue;
    out.files.push_back(store::ResolveFile(paths, file).string());
  }
  if (out.files.empty()) {
    return Status::Invalid(root, ": dataset '", dataset, "' at version ", snapshot.version, " lists no *",
                           dataset::kFileSuffix, " files");
  }
  auto lineage = ReadLineage(root, dataset, snapshot.version);
  if (lineage.ok()) out.lineage = *std::move(lineage);
  return out;
}

}  // namespace tickforge::label
