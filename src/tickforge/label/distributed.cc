// Labeling as tasks: the plan, one input's split, the merge of the splits into one workspace,
// one symbol's fit candidates and build, and the driver's pooling and report, each a step of
// the local Fit, Build and Run (label.cc, fit.cc, split.cc) with its inputs and outputs as JSON.
#include "tickforge/label/distributed.h"

#include <arrow/io/memory.h>
#include <arrow/ipc/api.h>
#include <arrow/util/base64.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

#include "tickforge/label/build_internal.h"
#include "tickforge/label/fit_internal.h"
#include "tickforge/label/source.h"
#include "tickforge/util/io.h"

namespace tickforge::label::distributed {
namespace {

namespace fs = std::filesystem;
using internal::Candidate;
using internal::FileCandidates;
using internal::Key;
using internal::Part;
using internal::SymbolInfo;
using internal::Workspace;
using Json = nlohmann::ordered_json;

Json InputJson(const InputFile& file) {
  auto parts = Json::array();
  for (const auto& part : file.parquet) {
    parts.push_back({{"path", part.path}, {"version", part.version}, {"bytes", part.bytes}, {"constants", part.constants}});
  }
  return {{"path", file.path},     {"name", file.name},           {"start", file.start},
          {"end", file.end},       {"index", file.index},         {"parquet", parts},
          {"store_root", file.store_root}, {"size_scale", file.size_scale}};
}

InputFile InputOf(const Json& json) {
  InputFile file;
  file.path = json.at("path").get<std::string>();
  file.name = json.at("name").get<std::string>();
  file.start = json.at("start").get<uint64_t>();
  file.end = json.at("end").get<uint64_t>();
  file.index = json.at("index").get<int>();
  for (const auto& part : json.at("parquet")) {
    file.parquet.push_back(ParquetPart{part.at("path").get<std::string>(), part.at("version").get<int64_t>(),
                                       part.at("bytes").get<int64_t>(),
                                       part.at("constants").get<std::map<std::string, std::string>>()});
  }
  file.store_root = json.at("store_root").get<std::string>();
  file.size_scale = json.at("size_scale").get<int>();
  return file;
}

Json KeyJson(const Key& key) { return Json::array({key.ts_event, key.sequence}); }
Key KeyOf(const Json& json) { return Key{json.at(0).get<int64_t>(), json.at(1).get<uint32_t>()}; }

Json PartJson(const Part& part) {
  return {{"file", part.file}, {"path", part.path.string()}, {"rows", part.rows},
          {"first", KeyJson(part.first)}, {"last", KeyJson(part.last)}};
}

Part PartOf(const Json& json) {
  return Part{json.at("file").get<int>(), fs::path(json.at("path").get<std::string>()), json.at("rows").get<int64_t>(),
              KeyOf(json.at("first")), KeyOf(json.at("last"))};
}

Result<std::string> SchemaText(const arrow::Schema& schema) {
  ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::ipc::SerializeSchema(schema));
  return arrow::util::base64_encode(std::string_view(reinterpret_cast<const char*>(buffer->data()),
                                                     static_cast<size_t>(buffer->size())));
}

Result<std::shared_ptr<arrow::Schema>> SchemaOf(const std::string& text) {
  ARROW_ASSIGN_OR_RAISE(auto bytes, arrow::util::base64_decode(text));
  arrow::io::BufferReader reader(std::make_shared<arrow::Buffer>(bytes));
  arrow::ipc::DictionaryMemo memo;
  return arrow::ipc::ReadSchema(&reader, &memo);
}

// A JSON document's error (a missing key, a wrong type) as a Status naming what was read.
template <typename Fn>
auto Guard(const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const nlohmann::json::exception& e) {
    return Status::Invalid(what, ": ", e.what());
  }
}

// The packed form of one candidate in a blob.
struct PackedCandidate {
  uint64_t key;
  int64_t t;
  double movement;
  int32_t file;
  int32_t sym;
};
static_assert(sizeof(PackedCandidate) == 32);

}  // namespace

Result<Json> MakePlan(std::vector<InputFile> files, const LabelConfig& config, bool fit_only, bool skip_bad_files) {
  ARROW_RETURN_NOT_OK(config.Validate());
  // As Split: sizes are read at one scale for all inputs, unless the split reads no sizes.
  int size_scale = 0;
  if (!fit_only) {
    ARROW_ASSIGN_OR_RAISE(size_scale, CommonSizeScale(files));
    for (auto& file : files) file.size_scale = size_scale;
  }
  auto list = Json::array();
  for (const auto& file : files) list.push_back(InputJson(file));
  return Json{{"files", list},
              {"config", config.ToJson()},
              {"columns", fit_only ? internal::LabelColumns() : std::vector<std::string>{}},
              {"size_scale", size_scale},
              {"skip_bad_files", skip_bad_files}};
}

Result<LabelConfig> BuildConfig(const Json& thresholds, const LabelConfig& given) {
  return Guard("thresholds", [&]() -> Result<LabelConfig> { return internal::ConfigForThresholds(thresholds, given); });
}

Result<LabelConfig> PlanConfig(const Json& plan) {
  LabelConfig config;
  ARROW_RETURN_NOT_OK(ApplyJson(plan.at("config"), &config, "the plan's config"));
  return config;
}

Result<Json> SplitTask(const Json& plan, int index, const fs::path& dir) {
  return Guard("label split task", [&]() -> Result<Json> {
    ARROW_ASSIGN_OR_RAISE(auto config, PlanConfig(plan));
    const auto& files = plan.at("files");
    if (index < 0 || static_cast<size_t>(index) >= files.size()) {
      return Status::IndexError("no input ", index, " among ", files.size());
    }
    const InputFile file = InputOf(files.at(static_cast<size_t>(index)));
    Workspace ws;
    ws.dir = dir;
    ws.keep = true;  // the parts are the result; the driver removes the job's scratch
    ARROW_RETURN_NOT_OK(internal::SplitFile(file, config, ws, plan.at("columns").get<std::vector<std::string>>()));
    ARROW_ASSIGN_OR_RAISE(auto schema, SchemaText(*ws.schema));
    auto symbols = Json::object();
    for (const auto& [name, info] : ws.symbols) {
      auto parts = Json::array();
      for (const auto& part : info.parts) parts.push_back(PartJson(part));
      symbols[name] = {{"rows_in", info.rows_in}, {"parts", parts}};
    }
    return Json{{"index", index},
                {"schema", schema},
                {"valid", ws.file_valid[static_cast<size_t>(file.index)]},
                {"symbols", symbols}};
  });
}

Result<Json> MergeSplits(const Json& plan, const std::vector<Json>& results) {
  return Guard("label split results", [&]() -> Result<Json> {
    const auto& files = plan.at("files");
    if (results.size() != files.size()) {
      return Status::Invalid(results.size(), " split results for ", files.size(), " inputs");
    }
    const bool skip_bad_files = plan.at("skip_bad_files").get<bool>();
    std::shared_ptr<arrow::Schema> schema;
    std::string schema_text;
    std::map<std::string, SymbolInfo> symbols;
    auto good = Json::array();
    auto bad = Json::array();
    std::vector<int64_t> file_valid;
    for (size_t f = 0; f < results.size(); ++f) {
      const auto& result = results[f];
      const InputFile input = InputOf(files.at(f));
      if (result.contains("bad")) {
        bad.push_back(result.at("bad"));
        continue;
      }
      if (result.at("index").get<size_t>() != f) return Status::Invalid("split result ", f, " is that of another input");
      ARROW_ASSIGN_OR_RAISE(auto file_schema, SchemaOf(result.at("schema").get<std::string>()));
      if (!schema) {
        schema = file_schema;
        schema_text = result.at("schema").get<std::string>();
      } else if (!schema->Equals(*file_schema)) {
        const Status status = Status::Invalid(input.path, ": its columns differ from the first input's");
        if (!skip_bad_files) return status;
        bad.push_back({{"path", input.path}, {"error", status.message()}});
        continue;
      }
      // Skipped inputs take no place in the order: renumber the good ones.
      const int index = static_cast<int>(good.size());
      InputFile renumbered = input;
      renumbered.index = index;
      good.push_back(InputJson(renumbered));
      file_valid.push_back(result.at("valid").get<int64_t>());
      for (const auto& [name, entry] : result.at("symbols").items()) {
        SymbolInfo& info = symbols[name];
        info.symbol = name;
        info.rows_in += entry.at("rows_in").get<int64_t>();
        for (const auto& part_json : entry.at("parts")) {
          Part part = PartOf(part_json);
          part.file = index;
          info.valid += part.rows;
          info.first_ts = std::min(info.first_ts, part.first.ts_event);
          info.last_ts = std::max(info.last_ts, part.last.ts_event);
          info.parts.push_back(std::move(part));
        }
      }
    }
    if (!schema) return Status::Invalid("no readable MBP-10 input among ", files.size(), " files");
    auto symbol_json = Json::object();
    int sym = 0;
    for (const auto& [name, info] : symbols) {
      auto parts = Json::array();
      for (const auto& part : info.parts) parts.push_back(PartJson(part));
      symbol_json[name] = {{"sym", sym++},          {"rows_in", info.rows_in}, {"valid", info.valid},
                           {"first_ts", info.first_ts}, {"last_ts", info.last_ts}, {"parts", parts}};
    }
    return Json{{"header",
                 {{"files", good},
                  {"file_valid", file_valid},
                  {"bad_files", bad},
                  {"schema", schema_text},
                  {"size_scale", plan.at("size_scale")},
                  {"config", plan.at("config")}}},
                {"symbols", symbol_json}};
  });
}

Result<std::unique_ptr<Workspace>> WorkspaceOf(const Json& header, const Json& symbols) {
  return Guard("label workspace", [&]() -> Result<std::unique_ptr<Workspace>> {
    auto ws = std::make_unique<Workspace>();
    ws->keep = true;
    for (const auto& file : header.at("files")) ws->files.push_back(InputOf(file));
    ws->file_valid = header.at("file_valid").get<std::vector<int64_t>>();
    for (const auto& b : header.at("bad_files")) {
      ws->bad_files.push_back({b.at("path").get<std::string>(), b.at("error").get<std::string>()});
    }
    ARROW_ASSIGN_OR_RAISE(ws->schema, SchemaOf(header.at("schema").get<std::string>()));
    ws->size_scale = header.at("size_scale").get<int>();
    for (const auto& [name, entry] : symbols.items()) {
      SymbolInfo& info = ws->symbols[name];
      info.symbol = name;
      info.rows_in = entry.at("rows_in").get<int64_t>();
      info.valid = entry.at("valid").get<int64_t>();
      info.first_ts = entry.at("first_ts").get<int64_t>();
      info.last_ts = entry.at("last_ts").get<int64_t>();
      for (const auto& part : entry.at("parts")) info.parts.push_back(PartOf(part));
    }
    return ws;
  });
}

Result<std::string> FitCandidatesTask(const Json& header, const std::string& symbol, const Json& info) {
  ARROW_ASSIGN_OR_RAISE(auto config, PlanConfig(header));
  ARROW_ASSIGN_OR_RAISE(auto ws, WorkspaceOf(header, Json{{symbol, info}}));
  const int sym = info.at("sym").get<int>();
  ARROW_ASSIGN_OR_RAISE(auto by_file, internal::SymbolFitCandidates(ws->symbols.at(symbol), sym,
                                                                    static_cast<int>(ws->files.size()), config));
  size_t count = 0;
  for (const auto& [file, list] : by_file) count += list.size();
  // The symbol's index first, so that a symbol without candidates still says who it is.
  std::string blob(sizeof(int64_t) + count * sizeof(PackedCandidate), '\0');
  const int64_t sym64 = sym;
  std::memcpy(blob.data(), &sym64, sizeof(sym64));
  size_t at = sizeof(int64_t);
  for (const auto& [file, list] : by_file) {
    for (const auto& c : list) {
      const PackedCandidate packed{c.key, c.t, c.movement, file, c.sym};
      std::memcpy(blob.data() + at, &packed, sizeof(packed));
      at += sizeof(packed);
    }
  }
  return blob;
}

Result<Json> FitMerge(const Json& merged, const std::vector<std::string>& blobs) {
  const Json& header = merged.at("header");
  ARROW_ASSIGN_OR_RAISE(auto config, PlanConfig(header));
  ARROW_ASSIGN_OR_RAISE(auto ws, WorkspaceOf(header, merged.at("symbols")));
  std::vector<FileCandidates> per_symbol(ws->symbols.size());
  std::vector<bool> seen(ws->symbols.size(), false);
  for (const auto& blob : blobs) {
    if (blob.size() < sizeof(int64_t) || (blob.size() - sizeof(int64_t)) % sizeof(PackedCandidate) != 0) {
      return Status::Invalid("a fit candidate blob of ", blob.size(), " bytes is not one FitCandidatesTask makes");
    }
    int64_t sym = 0;
    std::memcpy(&sym, blob.data(), sizeof(sym));
    if (sym < 0 || static_cast<size_t>(sym) >= per_symbol.size() || seen[static_cast<size_t>(sym)]) {
      return Status::Invalid("fit candidates of symbol ", sym, " are unknown or given twice");
    }
    seen[static_cast<size_t>(sym)] = true;
    auto& by_file = per_symbol[static_cast<size_t>(sym)];
    for (size_t at = sizeof(int64_t); at < blob.size(); at += sizeof(PackedCandidate)) {
      PackedCandidate packed;
      std::memcpy(&packed, blob.data() + at, sizeof(packed));
      by_file[packed.file].push_back(Candidate{packed.key, packed.sym, packed.t, packed.movement});
    }
  }
  if (std::find(seen.begin(), seen.end(), false) != seen.end()) {
    return Status::Invalid("fit candidates of ", std::count(seen.begin(), seen.end(), false), " of ",
                           seen.size(), " symbols are missing");
  }
  return internal::FitFromCandidates(*ws, config, std::move(per_symbol));
}

Result<Json> BuildTask(const Json& header, const std::string& symbol, const Json& info, const Json& thresholds,
                       const fs::path& out_dir) {
  ARROW_ASSIGN_OR_RAISE(auto config, PlanConfig(header));
  ARROW_ASSIGN_OR_RAISE(auto ws, WorkspaceOf(header, Json{{symbol, info}}));
  return Guard("thresholds", [&]() -> Result<Json> {
    const auto file_in_fit = internal::FitFileFlags(*ws, thresholds);
    return internal::BuildSymbolEntry(*ws, ws->symbols.at(symbol), thresholds, config, file_in_fit, out_dir);
  });
}

Result<Json> BuildReportOf(const Json& merged, const Json& thresholds, const Json& entries, double seconds) {
  const Json& header = merged.at("header");
  ARROW_ASSIGN_OR_RAISE(auto config, PlanConfig(header));
  ARROW_ASSIGN_OR_RAISE(auto ws, WorkspaceOf(header, merged.at("symbols")));
  auto symbols = Json::object();
  for (const auto& [name, info] : ws->symbols) {
    if (!entries.contains(name)) return Status::Invalid("no build entry for symbol ", name);
    symbols[name] = entries.at(name);
  }
  return Guard("thresholds", [&]() -> Result<Json> {
    return internal::BuildReport(*ws, thresholds, config, std::move(symbols), seconds);
  });
}

Status WriteJsonDoc(const fs::path& path, const Json& doc) {
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(path));
  const std::string text = doc.dump(2) + "\n";
  ARROW_RETURN_NOT_OK(file->stream()->Write(text.data(), static_cast<int64_t>(text.size())));
  return file->Commit();
}

}  // namespace tickforge::label::distributed
