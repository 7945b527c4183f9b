// DBN files to Parquet: streamed record batch by record batch, committed atomically.
#pragma once

#include <arrow/util/type_fwd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

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
};

/// Called with (raw bytes read, raw bytes in total) as a conversion goes; new code takes a
/// tickforge::ProgressFn and hands ProgressReporter::ForFile here (util/progress.h).
using ProgressFn = ByteProgressFn;

/// Convert one DBN file to one Parquet file. The DBN metadata is kept as JSON under the
/// key "dbn.metadata"; on any error nothing is left at `output`.
[[nodiscard]] Result<ConvertStats> ConvertToParquet(const std::string& input,
                                                    const std::filesystem::path& output,
                                                    const ParquetOptions& options = {},
                                                    const ProgressFn& progress = {});

/// Return the Parquet name for a DBN file: its name without .dbn/.zst, plus ".parquet".
[[nodiscard]] std::string ParquetNameFor(const std::filesystem::path& input);

}  // namespace tickforge::dbn
