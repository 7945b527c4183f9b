#include "tickforge/dataset/dataset.h"

#include <arrow/api.h>
#include <arrow/util/key_value_metadata.h>
#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "tickforge/dbn/schema.h"
#include "tickforge/util/config.h"
#include "tickforge/util/files.h"

namespace tickforge::dataset {
namespace {

// Read `key` of `doc` into `out` when present; a value of another JSON type is an error.
// Read one field when the metadata has it (fields it lacks keep their defaults), through the
// config layer's typed reads.
template <typename T>
Status ReadField(const nlohmann::json& doc, const char* key, const std::string& path, T& out) {
  const auto it = doc.find(key);
  if (it == doc.end()) return Status::OK();
  return config::Read(*it, path + ": " + std::string(kMetadataKey) + " metadata", key, &out);
}

}  // namespace

std::string FileName(std::string_view currency, std::string_view symbol) {
  std::string safe;
  for (char c : symbol) {
    safe.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ? c : '_');
  }
  return fmt::format("{}_{}{}", currency, safe, kFileSuffix);
}

std::optional<std::string> SymbolOfFileName(std::string_view name) {
  if (!name.ends_with(kFileSuffix)) return std::nullopt;
  const size_t underscore = name.find('_');
  const size_t suffix_at = name.size() - kFileSuffix.size();
  if (underscore >= suffix_at) return std::nullopt;  // the suffix's own '_': no symbol part
  return std::string(name.substr(underscore + 1, suffix_at - underscore - 1));
}

std::string LabelMetadata::ToJson() const {
  // nlohmann::json keeps keys in name order: the text is the same whatever order they are set.
  nlohmann::json doc = {{"lookback_rows", lookback_rows},
                              {"lookforward_input", lookforward_input},
                              {"lookforward_offset", lookforward_offset},
                              {"nbins", nbins},
                              {"mode", mode},
                              {"features", features}};
  if (!midprice.empty()) {
    auto& list = doc["midprice"] = nlohmann::json::array();
    for (const auto& m : midprice) {
      list.push_back({{"column", m.column},
                      {"scheme", m.scheme},
                      {"horizon", m.horizon},
                      {"smoothing", m.smoothing},
                      {"downsample", m.downsample},
                      {"alpha", m.alpha}});
    }
  }
  if (size_scale != 0) doc["size_scale"] = size_scale;
  if (micro_pip_size > 0) doc["micro_pip_size"] = micro_pip_size;
  return doc.dump();
}

Result<std::optional<LabelMetadata>> LabelMetadata::FromSchema(const arrow::Schema& schema, const std::string& path) {
  const auto& meta = schema.metadata();
  const std::string key(kMetadataKey);
  if (!meta || !meta->Contains(key)) return std::nullopt;
  ARROW_ASSIGN_OR_RAISE(const std::string text, meta->Get(key));
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  LabelMetadata out;
  ARROW_RETURN_NOT_OK(ReadField(doc, "lookback_rows", path, out.lookback_rows));
  ARROW_RETURN_NOT_OK(ReadField(doc, "lookforward_input", path, out.lookforward_input));
  ARROW_RETURN_NOT_OK(ReadField(doc, "lookforward_offset", path, out.lookforward_offset));
  ARROW_RETURN_NOT_OK(ReadField(doc, "nbins", path, out.nbins));
  ARROW_RETURN_NOT_OK(ReadField(doc, "mode", path, out.mode));
  ARROW_RETURN_NOT_OK(ReadField(doc, "features", path, out.features));
  ARROW_RETURN_NOT_OK(ReadField(doc, "size_scale", path, out.size_scale));
  ARROW_RETURN_NOT_OK(ReadField(doc, "micro_pip_size", path, out.micro_pip_size));
  if (const auto it = doc.find("midprice"); it != doc.end()) {
    const std::string where = path + ": " + std::string(kMetadataKey) + " metadata midprice";
    if (!it->is_array()) return config::WrongType(where, "midprice", "a list", *it);
    for (const auto& item : *it) {
      if (!item.is_object()) return config::WrongType(where, "midprice", "a list of mappings", item);
      MidpriceColumn m;
      ARROW_RETURN_NOT_OK(ReadField(item, "column", where, m.column));
      ARROW_RETURN_NOT_OK(ReadField(item, "scheme", where, m.scheme));
      ARROW_RETURN_NOT_OK(ReadField(item, "horizon", where, m.horizon));
      ARROW_RETURN_NOT_OK(ReadField(item, "smoothing", where, m.smoothing));
      ARROW_RETURN_NOT_OK(ReadField(item, "downsample", where, m.downsample));
      ARROW_RETURN_NOT_OK(ReadField(item, "alpha", where, m.alpha));
      out.midprice.push_back(std::move(m));
    }
  }
  return out;
}

Result<std::shared_ptr<arrow::Schema>> MakeSchema(const arrow::Schema& book, const LabelMetadata& metadata) {
  auto schema = book.WithMetadata(arrow::KeyValueMetadata::Make({std::string(kMetadataKey)}, {metadata.ToJson()}));
  ARROW_ASSIGN_OR_RAISE(schema, schema->AddField(schema->num_fields(),
                                                 arrow::field(std::string(kMovementColumn), arrow::float64())));
  ARROW_ASSIGN_OR_RAISE(schema, schema->AddField(schema->num_fields(),
                                                 arrow::field(std::string(kLabelColumn), arrow::uint8())));
  for (const auto& m : metadata.midprice) {
    ARROW_ASSIGN_OR_RAISE(schema, schema->AddField(schema->num_fields(), arrow::field(m.column, arrow::uint8())));
  }
  return schema;
}

Status CheckSchema(const arrow::Schema& schema, const std::string& path) {
  const std::vector<std::pair<std::string, std::shared_ptr<arrow::DataType>>> required = {
      {std::string(kLabelColumn), arrow::uint8()},
      {std::string(kTsEventColumn), arrow::timestamp(arrow::TimeUnit::NANO, "UTC")},
      {std::string(kSequenceColumn), arrow::uint32()},
      {dbn::BookColumnNames().front(), arrow::int64()},
      {dbn::BookColumnNames().back(), arrow::uint32()}};
  for (const auto& [column, type] : required) {
    const auto field = schema.GetFieldByName(column);
    if (!field) return Status::Invalid(path, ": no column '", column, "' (is this a label build dataset?)");
    if (!field->type()->Equals(*type)) {
      return Status::Invalid(path, ": column '", column, "' is ", field->type()->ToString(), ", expected ",
                             type->ToString());
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<ParquetFile>> CreateFile(const std::filesystem::path& path,
                                                std::shared_ptr<arrow::Schema> schema,
                                                const ParquetCopiedRowGroups& copied) {
  ParquetWriteOptions options;
  options.row_group_rows = kRowGroupRows;
  return ParquetFile::Create(path, std::move(schema), options, copied);
}

Result<std::map<std::string, std::string>> Discover(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::IOError(dir.string(), ": not a directory of labeled datasets");
  }
  ARROW_ASSIGN_OR_RAISE(auto paths, ListFiles(dir, {.suffixes = {std::string(kFileSuffix)}}));
  std::map<std::string, std::string> found;
  for (auto& path : paths) {
    auto symbol = SymbolOfFileName(std::filesystem::path(path).filename().string());
    if (symbol) found[*std::move(symbol)] = std::move(path);
  }
  if (found.empty()) return Status::Invalid(dir.string(), ": no *", kFileSuffix, " files");
  return found;
}

Result<std::map<std::string, std::string>> DiscoverFiles(const std::vector<std::string>& paths) {
  std::map<std::string, std::string> found;
  for (const auto& path : paths) {
    auto symbol = SymbolOfFileName(std::filesystem::path(path).filename().string());
    if (symbol) found[*std::move(symbol)] = path;
  }
  if (found.empty()) return Status::Invalid("no *", kFileSuffix, " files among ", paths.size(), " dataset files");
  return found;
}

Result<std::shared_ptr<arrow::Table>> ReadBookRows(parquet::arrow::FileReader& reader, const std::string& path,
                                                   int64_t begin, int64_t end) {
  return ReadRowRange(reader, path, begin, end, dbn::BookColumnNames());
}

}  // namespace tickforge::dataset
