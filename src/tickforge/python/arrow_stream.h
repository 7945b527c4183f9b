// Tables and schemas cross between the engine and pyarrow as Arrow C data interface
// capsules ("arrow_array_stream", "arrow_schema"), without a copy.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/type_fwd.h>
#include <nanobind/nanobind.h>

#include <memory>

namespace tickforge::python {

/// Return `reader` as an "arrow_array_stream" capsule; the stream is released with the capsule
/// unless its consumer took it over.
[[nodiscard]] nanobind::capsule ExportReader(std::shared_ptr<arrow::RecordBatchReader> reader);

/// Return `schema` as an "arrow_schema" capsule.
[[nodiscard]] nanobind::capsule ExportSchema(const arrow::Schema& schema);

/// Take over the stream in an "arrow_array_stream" capsule (an object's __arrow_c_stream__()).
/// Call with the GIL held; the import itself runs without it.
[[nodiscard]] std::shared_ptr<arrow::RecordBatchReader> ImportReader(nanobind::capsule capsule);

}  // namespace tickforge::python
