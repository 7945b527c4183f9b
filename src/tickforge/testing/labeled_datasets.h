// Small labeled datasets for the tests of their readers, written through the dataset module
// (the columns and metadata label build writes, fewer of the DBN columns), and a temporary
// folder that goes when the test ends.
#pragma once

#include <arrow/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "tickforge/dataset/dataset.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/util/status.h"

namespace tickforge::testing {

/// A folder of its own under GoogleTest's temporary folder, removed with everything in it
/// when destroyed (tests run as parallel processes: the name holds the process id).
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix) {
    static int counter = 0;
    path_ = std::filesystem::path(::testing::TempDir()) /
            (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct DatasetSpec {
  std::string currency = "AUDUSD";
  std::string symbol = "6AM4";
  int64_t rows = 1000;
  int64_t first_ts = 1'711'929'600'000'000'000;  ///< 2024-04-01, ns since the epoch
  int64_t ts_step = 1'000'000;                   ///< ns between rows
  uint64_t seed = 1;
  /// The label of each row, 0..254, or a negative number for none (null).
  std::function<int(int64_t row)> label = [](int64_t row) { return static_cast<int>(row % 5); };
  /// What the schema records; nullopt writes no metadata at all.
  std::optional<dataset::LabelMetadata> metadata =
      dataset::LabelMetadata{.lookback_rows = 20, .lookforward_input = 20, .lookforward_offset = 5, .nbins = 5,
                             .mode = "global"};
};

/// Write the dataset `spec` describes into `dir` under its file name and return its path:
/// ts_event and sequence (the row), a random walk of ten-level books around 0.65 in 0.5
/// micro-pip ticks, price_movement and classification_label from spec.label.
inline Result<std::filesystem::path> WriteLabeledDataset(const std::filesystem::path& dir, const DatasetSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::NANO, "UTC"), arrow::default_memory_pool());
  arrow::UInt32Builder sequence;
  std::vector<arrow::Int64Builder> prices(2 * dbn::kMbp10Levels);
  std::vector<arrow::UInt32Builder> counts(4 * dbn::kMbp10Levels);
  arrow::DoubleBuilder movement;
  arrow::UInt8Builder label;
  int64_t mid = 650'000'000;
  for (int64_t r = 0; r < spec.rows; ++r) {
    ARROW_RETURN_NOT_OK(ts.Append(spec.first_ts + r * spec.ts_step));
    ARROW_RETURN_NOT_OK(sequence.Append(static_cast<uint32_t>(r)));
    mid += (static_cast<int64_t>(rng() % 3) - 1) * 5000;
    for (int l = 0; l < dbn::kMbp10Levels; ++l) {
      ARROW_RETURN_NOT_OK(prices[2 * l].Append(mid - 5000 * (l + 1 + static_cast<int64_t>(rng() % 2))));
      ARROW_RETURN_NOT_OK(prices[2 * l + 1].Append(mid + 5000 * (l + 1 + static_cast<int64_t>(rng() % 2))));
      for (int k = 0; k < 4; ++k) ARROW_RETURN_NOT_OK(counts[4 * l + k].Append(static_cast<uint32_t>(1 + rng() % 50)));
    }
    const int c = spec.label(r);
    if (c < 0) {
      ARROW_RETURN_NOT_OK(movement.AppendNull());
      ARROW_RETURN_NOT_OK(label.AppendNull());
    } else {
      ARROW_RETURN_NOT_OK(movement.Append(0.001 * c));
      ARROW_RETURN_NOT_OK(label.Append(static_cast<uint8_t>(c)));
    }
  }
  arrow::FieldVector fields = {arrow::field(std::string(dataset::kTsEventColumn), ts.type()),
                               arrow::field(std::string(dataset::kSequenceColumn), arrow::uint32())};
  arrow::ArrayVector columns(2);
  ARROW_RETURN_NOT_OK(ts.Finish(&columns[0]));
  ARROW_RETURN_NOT_OK(sequence.Finish(&columns[1]));
  // The book columns in dbn::BookColumnNames order: per level bid/ask price, size, count.
  for (int l = 0; l < dbn::kMbp10Levels; ++l) {
    for (int f = 0; f < dbn::kBookFields; ++f) {
      const auto field = static_cast<dbn::BookField>(f);
      std::shared_ptr<arrow::Array> array;
      if (f < 2) {
        ARROW_RETURN_NOT_OK(prices[2 * l + f].Finish(&array));
      } else {
        ARROW_RETURN_NOT_OK(counts[4 * l + f - 2].Finish(&array));
      }
      fields.push_back(arrow::field(dbn::BookColumnName(field, l), array->type()));
      columns.push_back(std::move(array));
    }
  }
  std::shared_ptr<arrow::Schema> schema;
  if (spec.metadata) {
    ARROW_ASSIGN_OR_RAISE(schema, dataset::MakeSchema(arrow::Schema(fields), *spec.metadata));
  } else {
    fields.push_back(arrow::field(std::string(dataset::kMovementColumn), arrow::float64()));
    fields.push_back(arrow::field(std::string(dataset::kLabelColumn), arrow::uint8()));
    schema = arrow::schema(fields);
  }
  columns.emplace_back();
  ARROW_RETURN_NOT_OK(movement.Finish(&columns.back()));
  columns.emplace_back();
  ARROW_RETURN_NOT_OK(label.Finish(&columns.back()));
  const auto path = dir / dataset::FileName(spec.currency, spec.symbol);
  ARROW_ASSIGN_OR_RAISE(auto file, dataset::CreateFile(path, schema));
  ARROW_RETURN_NOT_OK(file->Write(*arrow::RecordBatch::Make(schema, spec.rows, std::move(columns))));
  ARROW_RETURN_NOT_OK(file->Close());
  return path;
}

}  // namespace tickforge::testing
