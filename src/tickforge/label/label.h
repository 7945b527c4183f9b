// Labeling (docs/labeling.md): fit global quantile thresholds on the early files, then build
// one labeled dataset per symbol from all files, out of core.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/label/config.h"
#include "tickforge/util/progress.h"
#include "tickforge/util/status.h"

namespace tickforge::label {

/// One Parquet file of an input, and the values its rows take for columns it lacks (a store
/// file's partition values, such as `symbol`).
struct ParquetPart {
  std::string path;  ///< relative to the store root for store files
  int64_t version = 0;  ///< the store commit that added it (where ResolveFile looks)
  int64_t bytes = 0;
  std::map<std::string, std::string> constants;
};

/// One input, placed by the start time of its data: a DBN file, or MBP-10 Parquet files read
/// one after the other as one input (a store snapshot's files of one day, or one plain file).
struct InputFile {
  std::string path;
  std::string name;
  uint64_t start = 0;
  uint64_t end = 0;
  int index = 0;  ///< position in start-time order
  /// Empty for a DBN file.
  std::vector<ParquetPart> parquet;
  /// The store the parts belong to; empty for plain Parquet files.
  std::string store_root;
  /// Sizes are read as integers of 10^-size_scale units: a depth book's fixed-point (uint64)
  /// sizes of a finer scale are divided down to it, exactly (CommonSizeScale, label/source.h).
  int size_scale = 0;
};

/// Expand directories (their *.dbn, *.dbn.zst and *.parquet files) and order everything by the
/// data's start time (DBN metadata; a Parquet file's smallest ts_recv), then by name.
[[nodiscard]] Result<std::vector<InputFile>> ListInputs(const std::vector<std::string>& inputs);

struct BuildOptions {
  /// Record unreadable files in the report and go on, instead of failing the build.
  bool skip_bad_files = false;
  /// Told how the stages go: "split" (files and rows read), "fit" (the fit samples), "build"
  /// (one file per symbol, valid rows). A callback that throws stops the work with Cancelled;
  /// a stopped build removes the datasets it wrote and writes no report.
  ProgressFn progress;
};

/// Fit thresholds on the early files and write them to `thresholds_path`; return the document.
[[nodiscard]] Result<nlohmann::ordered_json> Fit(const std::vector<std::string>& inputs,
                                                 const LabelConfig& config,
                                                 const std::filesystem::path& thresholds_path,
                                                 const BuildOptions& options = {});

/// Label all files with `thresholds` (the document Fit wrote) into `out_dir`: one labeled
/// dataset per symbol (dataset/dataset.h) and build_report.json; return the report.
[[nodiscard]] Result<nlohmann::ordered_json> Build(const std::vector<std::string>& inputs,
                                                   const nlohmann::ordered_json& thresholds,
                                                   const LabelConfig& config,
                                                   const std::filesystem::path& out_dir,
                                                   const BuildOptions& options = {});

/// Fit and build in one pass over the inputs: thresholds.json, datasets and build_report.json
/// in `out_dir`; return the report.
[[nodiscard]] Result<nlohmann::ordered_json> Run(const std::vector<std::string>& inputs,
                                                 const LabelConfig& config,
                                                 const std::filesystem::path& out_dir,
                                                 const BuildOptions& options = {});

/// Fit, Build and Run over inputs listed already (ListInputs, ListStoreInputs).
[[nodiscard]] Result<nlohmann::ordered_json> FitInputs(const std::vector<InputFile>& files, const LabelConfig& config,
                                                       const std::filesystem::path& thresholds_path,
                                                       const BuildOptions& options = {});
[[nodiscard]] Result<nlohmann::ordered_json> BuildInputs(const std::vector<InputFile>& files,
                                                         const nlohmann::ordered_json& thresholds,
                                                         const LabelConfig& config,
                                                         const std::filesystem::path& out_dir,
                                                         const BuildOptions& options = {});
[[nodiscard]] Result<nlohmann::ordered_json> RunInputs(const std::vector<InputFile>& files, const LabelConfig& config,
                                                       const std::filesystem::path& out_dir,
                                                       const BuildOptions& options = {});

/// Return a new scratch folder of this process beside `near` (hidden from readers), after
/// removing those that processes no longer running left there (killed runs).
[[nodiscard]] std::filesystem::path ScratchDirNear(const std::filesystem::path& near);

/// Return a few lines a person reads after a build: symbols, rows, class balance, drift.
[[nodiscard]] std::string Summarize(const nlohmann::ordered_json& report);

}  // namespace tickforge::label
