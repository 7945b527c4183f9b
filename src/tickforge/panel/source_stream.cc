// Normalizing one input's batches (see source_stream_internal.h).
#include "tickforge/panel/source_stream_internal.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <algorithm>
#include <vector>

#include "tickforge/panel/cast_internal.h"
#include "tickforge/panel/selection_internal.h"

namespace tickforge::panel {

Result<std::optional<Normalized>> SourceStream::Next() {
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto raw, raw_.Next());
    if (!raw) {
      if (plan_->options.release_inputs && source_->in_memory) {
        source_->table.reset();
      }
      return std::optional<Normalized>();
    }
    ARROW_ASSIGN_OR_RAISE(auto out, Normalize(raw));
    if (out.batch->num_rows() > 0) return std::optional<Normalized>(std::move(out));
  }
}

Status SourceStream::CheckSymbols(const std::shared_ptr<arrow::Array>& column) const {
  std::shared_ptr<arrow::Array> strings = column;
  if (column->type_id() != arrow::Type::STRING) {
    ARROW_ASSIGN_OR_RAISE(strings, arrow::compute::Cast(*column, arrow::utf8()));
  }
  const auto& values = static_cast<const arrow::StringArray&>(*strings);
  const std::string& symbol = source_->symbol;
  for (int64_t i = 0; i < values.length(); ++i) {
    if (values.IsNull(i)) {
      return Status::Invalid(raw_.current_name(), ": row ", raw_.row() + i, ": column '",
                             plan_->options.symbol_column, "' is null; it must hold the symbol '", symbol, "'");
    }
    if (values.GetView(i) != symbol) {
      return Status::Invalid(raw_.current_name(), ": row ", raw_.row() + i, ": column '",
                             plan_->options.symbol_column, "' holds '", values.GetView(i),
                             "' but the input is for symbol '", symbol, "'");
    }
  }
  return Status::OK();
}

Result<Normalized> SourceStream::Normalize(std::shared_ptr<arrow::RecordBatch> raw) {
  const Plan& plan = *plan_;
  const PanelOptions& options = plan.options;
  if (auto symbols = raw->GetColumnByName(options.symbol_column)) ARROW_RETURN_NOT_OK(CheckSymbols(symbols));
  Normalized out;
  if (need_keys_) {
    auto time = raw->GetColumnByName(plan.time_column);
    if (!time) return Status::Invalid(raw_.current_name(), ": no time column '", plan.time_column, "'");
    auto keys = TimeKeys(time);
    if (!keys.ok()) return WithPath(keys.status(), raw_.current_name());
    out.keys = *keys;
  }
  if (plan.filtered) {
    ARROW_ASSIGN_OR_RAISE(auto mask, Mask(*raw, *out.keys));
    if (mask) {
      ARROW_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(raw, mask));
      raw = filtered.record_batch();
      ARROW_ASSIGN_OR_RAISE(auto keys, arrow::compute::Filter(out.keys, mask));
      out.keys = std::static_pointer_cast<arrow::Int64Array>(keys.make_array());
    }
  }
  const int64_t n = raw->num_rows();
  std::vector<std::shared_ptr<arrow::Array>> columns;
  columns.reserve(static_cast<size_t>(plan.schema->num_fields()));
  for (int f = 0; f < plan.schema->num_fields(); ++f) {
    const auto& field = plan.schema->field(f);
    if (f == plan.symbol_field) {
      ARROW_ASSIGN_OR_RAISE(auto symbols, SymbolColumn(n));
      columns.push_back(std::move(symbols));
      continue;
    }
    auto column = raw->GetColumnByName(field->name());
    if (!column) {
      ARROW_ASSIGN_OR_RAISE(column, arrow::MakeArrayOfNull(field->type(), n));
    } else {
      auto cast = CastTo(column, field->type());
      if (!cast.ok()) return WithPath(cast.status(), raw_.current_name());
      column = *cast;
    }
    columns.push_back(std::move(column));
  }
  out.batch = arrow::RecordBatch::Make(plan.schema, n, std::move(columns));
  return out;
}

Result<std::shared_ptr<arrow::BooleanArray>> SourceStream::Mask(const arrow::RecordBatch& raw,
                                                                const arrow::Int64Array& keys) {
  const Plan& plan = *plan_;
  const PanelOptions& options = plan.options;
  const Presence present(options.target_column.empty() ? nullptr : raw.GetColumnByName(options.target_column));
  const int64_t n = raw.num_rows();
  arrow::TypedBufferBuilder<bool> keep;
  ARROW_RETURN_NOT_OK(keep.Reserve(n));
  int64_t kept = 0;
  const auto& times = plan.cs_time;
  size_t cursor = 0;  // inputs are usually sorted by time, so the next slot is usually the one
  for (int64_t i = 0; i < n; ++i) {
    bool ok = false;
    if (keys.IsValid(i)) {
      const int64_t t = keys.Value(i);
      if (cursor >= times.size() || times[cursor] != t) {
        if (cursor + 1 < times.size() && times[cursor + 1] == t) {
          ++cursor;
        } else {
          cursor = static_cast<size_t>(std::lower_bound(times.begin(), times.end(), t) - times.begin());
        }
      }
      if (cursor < times.size() && times[cursor] == t && plan.cs_keep[cursor]) {
        ok = true;
        if (options.max_cs_samples > 0) {
          ok = present(i) && SelectionKey{SelectionHashOf(plan.seed_hash, t, symbol_hash_),
                                          static_cast<uint32_t>(index_)} <= plan.cs_threshold[cursor];
        }
      }
    }
    keep.UnsafeAppend(ok);
    kept += ok;
  }
  if (kept == n) return nullptr;
  std::shared_ptr<arrow::Buffer> bits;
  ARROW_RETURN_NOT_OK(keep.Finish(&bits));
  return std::make_shared<arrow::BooleanArray>(n, bits);
}

Result<std::shared_ptr<arrow::Array>> SourceStream::SymbolColumn(int64_t n) {
  if (!symbols_ || symbols_->length() < n) {
    ARROW_ASSIGN_OR_RAISE(symbols_, arrow::MakeArrayFromScalar(arrow::StringScalar(source_->symbol),
                                                               std::max<int64_t>(n, 1024)));
  }
  return symbols_->Slice(0, n);
}

}  // namespace tickforge::panel
