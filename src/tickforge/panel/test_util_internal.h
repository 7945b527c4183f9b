// Helpers of the panel's tests: per-symbol tables with nulls, Parquet files of them, the
// panel's rows as vectors, and a direct implementation of docs/panel.md's cross-sectional
// filters to check the engine against.
#pragma once

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tickforge/panel/panel.h"

namespace tickforge::panel {

/// Return an empty folder for one test (the process id keeps concurrent runs apart).
inline std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("panel_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

template <typename Builder, typename T>
std::shared_ptr<arrow::Array> MakeArray(const std::vector<std::optional<T>>& values) {
  Builder builder;
  for (const auto& v : values) {
    if (v) {
      EXPECT_TRUE(builder.Append(*v).ok());
    } else {
      EXPECT_TRUE(builder.AppendNull().ok());
    }
  }
  return builder.Finish().ValueOrDie();
}

// One symbol's rows: ts (int64), row (int64 id), target (float64 with nulls), x (float64).
struct Rows {
  std::vector<std::optional<int64_t>> ts;
  std::vector<std::optional<double>> target;
};

inline std::shared_ptr<arrow::Table> MakeTable(const Rows& rows, bool with_target = true) {
  std::vector<std::optional<int64_t>> ids;
  std::vector<std::optional<double>> x;
  for (size_t i = 0; i < rows.ts.size(); ++i) {
    ids.push_back(static_cast<int64_t>(i));
    x.push_back(static_cast<double>(i) * 0.5);
  }
  std::vector<std::shared_ptr<arrow::Field>> fields = {arrow::field("ts", arrow::int64()),
                                                       arrow::field("row", arrow::int64())};
  std::vector<std::shared_ptr<arrow::Array>> columns = {MakeArray<arrow::Int64Builder>(rows.ts),
                                                        MakeArray<arrow::Int64Builder>(ids)};
  if (with_target) {
    fields.push_back(arrow::field("target", arrow::float64()));
    columns.push_back(MakeArray<arrow::DoubleBuilder>(rows.target));
  }
  fields.push_back(arrow::field("x", arrow::float64()));
  columns.push_back(MakeArray<arrow::DoubleBuilder>(x));
  return arrow::Table::Make(arrow::schema(fields), columns);
}

inline void WriteParquet(const std::shared_ptr<arrow::Table>& table, const std::filesystem::path& path,
                  int64_t row_group = 1000) {
  auto file = arrow::io::FileOutputStream::Open(path.string()).ValueOrDie();
  ASSERT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), file, row_group).ok());
  ASSERT_TRUE(file->Close().ok());
}

inline std::shared_ptr<arrow::Table> Collect(PanelBuilder& builder) {
  auto table = builder.Collect();
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? (*table)->CombineChunks().ValueOrDie() : nullptr;
}

inline std::vector<std::string> Strings(const std::shared_ptr<arrow::Table>& table, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& chunk : table->GetColumnByName(name)->chunks()) {
    const auto& a = static_cast<const arrow::StringArray&>(*chunk);
    for (int64_t i = 0; i < a.length(); ++i) out.emplace_back(a.GetView(i));
  }
  return out;
}

inline std::vector<int64_t> Ints(const std::shared_ptr<arrow::Table>& table, const std::string& name) {
  std::vector<int64_t> out;
  for (const auto& chunk : table->GetColumnByName(name)->chunks()) {
    const auto& a = static_cast<const arrow::Int64Array&>(*chunk);
    for (int64_t i = 0; i < a.length(); ++i) out.push_back(a.IsNull(i) ? -1 : a.Value(i));
  }
  return out;
}

/// Return whether two tables hold the same columns and values, NaN equal to NaN (the targets
/// hold NaN), however they are chunked.
inline bool SameRows(const arrow::Table& a, const arrow::Table& b) {
  return a.Equals(b, arrow::EqualOptions::Defaults().nans_equal(true));
}

// The cross-sectional filters as docs/panel.md defines them, row by row.

struct Expected {
  std::string symbol;
  int64_t row;
  int64_t ts;
};

inline std::vector<Expected> Reference(const std::map<std::string, Rows>& data, int64_t min_cs, int64_t max_cs,
                                       uint64_t seed, bool time_order) {
  std::map<int64_t, std::set<std::string>> present;  // t -> symbols with a present target
  for (const auto& [symbol, rows] : data) {
    for (size_t i = 0; i < rows.ts.size(); ++i) {
      if (rows.ts[i] && rows.target[i] && !std::isnan(*rows.target[i])) present[*rows.ts[i]].insert(symbol);
    }
  }
  std::map<int64_t, std::set<std::string>> selected;
  for (const auto& [t, symbols] : present) {
    std::vector<std::pair<uint64_t, std::string>> ranked;
    for (const auto& s : symbols) ranked.emplace_back(SelectionHash(seed, t, s), s);
    std::sort(ranked.begin(), ranked.end());
    for (size_t k = 0; k < ranked.size() && (max_cs == 0 || k < static_cast<size_t>(max_cs)); ++k) {
      selected[t].insert(ranked[k].second);
    }
  }
  std::vector<Expected> out;
  for (const auto& [symbol, rows] : data) {
    for (size_t i = 0; i < rows.ts.size(); ++i) {
      if (min_cs == 0 && max_cs == 0) {
        out.push_back({symbol, static_cast<int64_t>(i), rows.ts[i].value_or(-1)});
        continue;
      }
      if (!rows.ts[i]) continue;
      const int64_t t = *rows.ts[i];
      auto it = present.find(t);
      if (it == present.end() || static_cast<int64_t>(it->second.size()) < min_cs) continue;
      if (max_cs > 0) {
        const bool has = rows.target[i] && !std::isnan(*rows.target[i]);
        if (!has || !selected[t].count(symbol)) continue;
      }
      out.push_back({symbol, static_cast<int64_t>(i), t});
    }
  }
  if (time_order) {
    std::stable_sort(out.begin(), out.end(),
                     [](const Expected& a, const Expected& b) { return std::tie(a.ts, a.symbol) < std::tie(b.ts, b.symbol); });
  }
  return out;
}

inline std::map<std::string, Rows> RaggedData(int symbols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, Rows> data;
  for (int s = 0; s < symbols; ++s) {
    Rows rows;
    int64_t t = static_cast<int64_t>(rng() % 5);
    const int n = 50 + static_cast<int>(rng() % 100);
    for (int i = 0; i < n; ++i) {
      t += static_cast<int64_t>(rng() % 3);  // repeats (0) and gaps
      rows.ts.push_back(t);
      const auto r = rng() % 10;
      rows.target.push_back(r == 0 ? std::nullopt : r == 1 ? std::optional<double>(NAN) : std::optional<double>(0.5));
    }
    std::string name = "S";  // appended, not "S" + ...: that trips a false -Wrestrict in GCC 12
    name += std::to_string(s * 7 % symbols);
    data[name] = rows;
  }
  return data;
}

}  // namespace tickforge::panel
