// DBN files to Parquet: streamed record batch by record batch, committed atomically.
#pragma once

#include <arrow/util/type_fwd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tickforge/dbn/to_arrow.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/progress.h"

namespace tickforge::dbn {

struct ParquetOptions {
  ArrowOptions arrow;
  DecoderOptions decoder;
  ParquetWriteOptions parquet;
};

struct ConvertStats {
  std::string input;
  std::string output;
  int64_t rows = 0;
  int64_t input_bytes = 0;
  int64_t output_bytes = 0;
  std::map<std::string, int64_t> skipped;  ///< records of other types, not converted (SkippedRecords)
};

/// Called with (raw bytes read, raw bytes in total) as a conversion goes; new code takes a
/// tickforge::ProgressFn and hands ProgressReporter::ForFile here (util/progress.h).
using ProgressFn = ByteProgressFn;

/// Return the Parquet codings measured best on MBP-10 for the columns of converted records of
/// `layout`: prices, narrow integers and instrument ids dictionary-encoded (few distinct values
/// per row group), other 32-bit integers (sizes, counts) byte-stream-split, sequence numbers,
/// 64-bit integers and timestamps delta-encoded under zstd's fastest level.
[[nodiscard]] std::map<std::string, ParquetColumnCoding> ParquetColumnsOf(const RecordLayout& layout);

/// Convert one DBN file to one Parquet file, its columns coded as ParquetColumnsOf() says
/// unless `options.parquet.columns` names them. The DBN metadata is kept as JSON under the
/// key "dbn.metadata"; on any error nothing is left at `output`.
[[nodiscard]] Result<ConvertStats> ConvertToParquet(const std::string& input,
                                                    const std::filesystem::path& output,
                                                    const ParquetOptions& options = {},
                                                    const ProgressFn& progress = {});

/// Return the Parquet name for a DBN file: its name without .dbn/.zst, plus ".parquet".
[[nodiscard]] std::string ParquetNameFor(const std::filesystem::path& input);

/// Return the file each input converts to in `out_dir` (named by ParquetNameFor); fails before
/// anything is written when two inputs would write one file.
[[nodiscard]] Result<std::vector<std::filesystem::path>> ParquetOutputsFor(const std::vector<std::string>& inputs,
                                                                         const std::filesystem::path& out_dir);

}  // namespace tickforge::dbn
