#include "tickforge/python/arrow_stream.h"

#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>

#include <utility>

#include "tickforge/python/errors.h"

namespace nb = nanobind;

namespace tickforge::python {

nb::capsule ExportReader(std::shared_ptr<arrow::RecordBatchReader> reader) {
  auto* stream = new ArrowArrayStream;
  stream->release = nullptr;
  Check(arrow::ExportRecordBatchReader(std::move(reader), stream));
  return nb::capsule(stream, "arrow_array_stream", [](void* p) noexcept {
    auto* s = static_cast<ArrowArrayStream*>(p);
    if (s->release != nullptr) s->release(s);
    delete s;
  });
}

nb::capsule ExportSchema(const arrow::Schema& schema) {
  auto* c_schema = new ArrowSchema;
  c_schema->release = nullptr;
  Check(arrow::ExportSchema(schema, c_schema));
  return nb::capsule(c_schema, "arrow_schema", [](void* p) noexcept {
    auto* s = static_cast<ArrowSchema*>(p);
    if (s->release != nullptr) s->release(s);
    delete s;
  });
}

std::shared_ptr<arrow::RecordBatchReader> ImportReader(nb::capsule capsule) {
  auto* stream = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule.ptr(), "arrow_array_stream"));
  if (stream == nullptr) throw nb::python_error();
  nb::gil_scoped_release release;
  return Unwrap(arrow::ImportRecordBatchReader(stream));
}

}  // namespace tickforge::python
