// Planning a panel (see plan_internal.h): footers on all cores, schema unification, the time
// column, the output schema and the cross-sectional filters' first pass.
#include "tickforge/panel/plan_internal.h"

#include <arrow/api.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "tickforge/panel/cast_internal.h"
#include "tickforge/panel/parallel_internal.h"
#include "tickforge/util/files.h"
#include "tickforge/util/random.h"

namespace tickforge::panel {

namespace {

// The first pass, over the time and target columns only: per time key, how many symbols have a
// present target there, and for max_cs_samples the K smallest selection keys among them.
Status CountCrossSections(Plan& plan) {
  const PanelOptions& options = plan.options;
  std::vector<std::string> columns = {plan.time_column};
  if (!options.target_column.empty()) columns.push_back(options.target_column);
  struct Slot {
    int64_t t;
    int32_t count;
    int32_t heap;
  };
  std::vector<Slot> slots, merged;
  std::vector<std::vector<SelectionKey>> heaps;
  const auto k = static_cast<size_t>(options.max_cs_samples);
  // One symbol's sorted distinct time keys with a present target.
  const auto read_present = [&](size_t i, std::vector<int64_t>* present) -> Status {
    RawReader reader(plan.sources[i], columns, 1 << 20, false);
    present->clear();
    while (true) {
      ARROW_ASSIGN_OR_RAISE(auto batch, reader.Next());
      if (!batch) break;
      auto keys = TimeKeys(batch->GetColumnByName(plan.time_column));
      if (!keys.ok()) return WithPath(keys.status(), reader.current_name());
      const Presence is_present(options.target_column.empty() ? nullptr : batch->GetColumnByName(options.target_column));
      const auto& key_array = **keys;
      for (int64_t r = 0; r < key_array.length(); ++r) {
        if (key_array.IsValid(r) && is_present(r)) present->push_back(key_array.Value(r));
      }
    }
    std::sort(present->begin(), present->end());
    present->erase(std::unique(present->begin(), present->end()), present->end());
    return Status::OK();
  };
  // Symbols are read a few at a time on all cores, then merged in symbol order.
  const auto group = static_cast<size_t>(Workers());
  std::vector<std::vector<int64_t>> presents(group);
  std::vector<Status> statuses(group);
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    const size_t slot_in_group = i % group;
    if (slot_in_group == 0) {
      const size_t count = std::min(group, plan.sources.size() - i);
      ParallelFor(count, [&](size_t j) { statuses[j] = read_present(i + j, &presents[j]); });
      for (size_t j = 0; j < count; ++j) ARROW_RETURN_NOT_OK(statuses[j]);
    }
    const std::vector<int64_t>& present = presents[slot_in_group];
    // Merge this symbol's sorted times into the sorted slots.
    merged.clear();
    merged.reserve(slots.size() + present.size());
    size_t a = 0;
    for (int64_t t : present) {
      while (a < slots.size() && slots[a].t < t) merged.push_back(slots[a++]);
      if (a < slots.size() && slots[a].t == t) {
        merged.push_back(slots[a++]);
        ++merged.back().count;
      } else {
        merged.push_back(Slot{t, 1, -1});
        if (k > 0) {
          merged.back().heap = static_cast<int32_t>(heaps.size());
          heaps.emplace_back();
        }
      }
      if (k > 0) {
        auto& heap = heaps[static_cast<size_t>(merged.back().heap)];
        const SelectionKey key{SelectionHashOf(plan.seed_hash, t, plan.symbol_hashes[i]), static_cast<uint32_t>(i)};
        if (heap.size() < k) {
          heap.push_back(key);
          std::push_heap(heap.begin(), heap.end());
        } else if (key < heap.front()) {
          std::pop_heap(heap.begin(), heap.end());
          heap.back() = key;
          std::push_heap(heap.begin(), heap.end());
        }
      }
    }
    while (a < slots.size()) merged.push_back(slots[a++]);
    std::swap(slots, merged);
  }
  plan.cs_time.resize(slots.size());
  plan.cs_keep.resize(slots.size());
  if (k > 0) plan.cs_threshold.resize(slots.size());
  int64_t kept = 0;
  for (size_t s = 0; s < slots.size(); ++s) {
    plan.cs_time[s] = slots[s].t;
    plan.cs_keep[s] = slots[s].count >= options.min_cs;
    kept += plan.cs_keep[s];
    if (k > 0) {
      const auto& heap = heaps[static_cast<size_t>(slots[s].heap)];
      plan.cs_threshold[s] = heap.size() < k ? kSelectAll : heap.front();
    }
  }
  plan.report.timestamps = static_cast<int64_t>(slots.size());
  plan.report.timestamps_kept = kept;
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<Plan>> BuildPlan(const PanelOptions& requested,
                                        const std::map<std::string, std::shared_ptr<Source>>& sources) {
  ARROW_RETURN_NOT_OK(requested.Validate());
  ARROW_RETURN_NOT_OK(InitializeCompute());
  auto plan = std::make_shared<Plan>();
  plan->options = requested;
  const PanelOptions& options = plan->options;
  plan->report.symbols_in = static_cast<int64_t>(sources.size());
  const bool filtered = options.min_cs > 0 || options.max_cs_samples > 0;
  const bool need_time = filtered || options.order == Order::kTime;

  // Footers, read on all cores: hundreds of files take a second or more one by one.
  std::vector<const std::string*> paths;
  for (const auto& [symbol, source] : sources) {
    if (!source->schema) {
      for (const auto& path : source->paths) paths.push_back(&path);
    }
  }
  std::vector<Result<FileInfo>> infos(paths.size(), Status::UnknownError("not read"));
  ParallelFor(paths.size(), [&](size_t i) { infos[i] = ReadFileInfo(*paths[i]); });
  size_t next_info = 0;

  // Schemas, and the symbols without the target.
  for (const auto& [symbol, source] : sources) {
    if (!source->schema) {
      std::shared_ptr<arrow::Schema> schema;
      for (const auto& path : source->paths) {
        auto& info = infos[next_info++];
        if (!info.ok()) return WithPath(info.status(), path);
        source->bytes += info->bytes;
        source->metadata.push_back(info->metadata);
        if (!schema) {
          schema = info->schema;
          source->null_free = info->null_free;
          continue;
        }
        std::erase_if(source->null_free, [&](const std::string& name) { return !info->null_free.count(name); });
        auto unified = arrow::UnifySchemas({schema, info->schema}, arrow::Field::MergeOptions::Permissive());
        if (!unified.ok()) return Status::Invalid(path, ": its schema does not match the other files of symbol '",
                                                  symbol, "': ", unified.status().message());
        schema = *unified;
      }
      source->schema = schema;
    }
    if (!options.target_column.empty() && source->schema->GetFieldIndex(options.target_column) < 0) {
      plan->report.skipped.push_back({symbol, fmt::format("no target column '{}'", options.target_column)});
      continue;
    }
    plan->sources.push_back(source);
    plan->report.symbols.push_back(symbol);
    plan->symbol_hashes.push_back(Fnv1a64(symbol));
  }
  // Symbols without the target are skipped; none with it is a misspelt target, not a panel.
  if (plan->sources.empty() && !sources.empty() && !options.target_column.empty()) {
    const auto& first = sources.begin()->second;
    return Status::Invalid("no input has the target column '", options.target_column, "' (", sources.size(),
                           " symbols); the columns of ", first->Name(), " are: ",
                           fmt::format("{}", fmt::join(first->schema->field_names(), ", ")));
  }

  // One schema for all: missing columns are null, numeric types are promoted; anything else
  // is an error naming the input that does not fit.
  std::shared_ptr<arrow::Schema> unified;
  const auto relevant = [&](const std::string& name) {
    if (options.columns.empty() || name == options.symbol_column || name == options.target_column ||
        name == options.time_column) {
      return true;
    }
    return std::find(options.columns.begin(), options.columns.end(), name) != options.columns.end() ||
           (options.time_column.empty() && (name == "ts" || name == "timestamp"));
  };
  for (const auto& source : plan->sources) {
    std::vector<std::shared_ptr<arrow::Field>> fields;
    for (const auto& field : source->schema->fields()) {
      if (!relevant(field->name())) continue;
      fields.push_back(field->name() == options.symbol_column ? field->WithType(arrow::utf8()) : field);
    }
    // Each input gets its symbol column at its end (pandas' assign), so the union of columns
    // comes out in pandas concat's order.
    if (source->schema->GetFieldIndex(options.symbol_column) < 0) {
      fields.push_back(arrow::field(options.symbol_column, arrow::utf8()));
    }
    auto schema = arrow::schema(fields);
    if (!unified) {
      unified = schema;
      continue;
    }
    auto merged = arrow::UnifySchemas({unified, schema}, arrow::Field::MergeOptions::Permissive());
    if (!merged.ok()) {
      for (const auto& field : schema->fields()) {
        const auto before = unified->GetFieldByName(field->name());
        if (before && !arrow::UnifySchemas({arrow::schema({before}), arrow::schema({field})},
                                           arrow::Field::MergeOptions::Permissive())
                           .ok()) {
          return Status::Invalid(source->Name(), ": column '", field->name(), "' of symbol '", source->symbol,
                                 "' is ", field->type()->ToString(), " but ", before->type()->ToString(),
                                 " in the symbols before it; the types cannot be combined");
        }
      }
      return Status::Invalid(source->Name(), ": symbol '", source->symbol,
                             "' does not fit the columns of the symbols before it: ", merged.status().message());
    }
    unified = *merged;
  }
  if (!unified) unified = arrow::schema({});

  // The time column.
  if (!options.time_column.empty()) {
    plan->time_column = options.time_column;
  } else if (unified->GetFieldIndex("ts") >= 0) {
    plan->time_column = "ts";
  } else if (unified->GetFieldIndex("timestamp") >= 0) {
    plan->time_column = "timestamp";
  } else {
    std::vector<std::string> candidates;
    for (const auto& field : unified->fields()) {
      if (field->type()->id() == arrow::Type::TIMESTAMP) candidates.push_back(field->name());
    }
    if (candidates.size() == 1) {
      plan->time_column = candidates.front();
    } else if (candidates.size() > 1 && need_time) {
      return Status::Invalid("several timestamp columns (", fmt::format("{}", fmt::join(candidates, ", ")),
                             "): name one with time_column");
    }
  }
  if (need_time && !plan->sources.empty()) {
    const auto field = plan->time_column.empty() ? nullptr : unified->GetFieldByName(plan->time_column);
    if (!field) {
      return Status::Invalid(options.order == Order::kTime ? "order='time'" : "min_cs/max_cs_samples",
                             " needs a time column: none named '",
                             plan->time_column.empty() ? "ts" : plan->time_column,
                             "' and no single timestamp-typed column; set time_column");
    }
    if (!IsTimeLike(*field->type())) {
      return Status::Invalid("time column '", plan->time_column, "' has type ", field->type()->ToString(),
                             "; it must be a timestamp, date or integer");
    }
    for (const auto& source : plan->sources) {
      if (source->schema->GetFieldIndex(plan->time_column) < 0) {
        return Status::Invalid(source->Name(), ": symbol '", source->symbol, "' has no time column '",
                               plan->time_column, "'");
      }
    }
  }
  plan->report.time_column = plan->time_column;

  // The output schema.
  std::vector<std::shared_ptr<arrow::Field>> fields;
  const auto add = [&](const std::shared_ptr<arrow::Field>& field) {
    fields.push_back(field->WithType(OutputType(options, plan->time_column, field)));
  };
  if (options.columns.empty()) {
    for (const auto& field : unified->fields()) add(field);
  } else {
    for (const auto& name : options.columns) {
      if (name == options.symbol_column) {
        fields.push_back(arrow::field(name, arrow::utf8()));
        continue;
      }
      const auto field = unified->GetFieldByName(name);
      if (!field) {
        if (plan->sources.empty()) continue;
        return Status::Invalid("column '", name, "' is in none of the ", plan->sources.size(), " symbols");
      }
      add(field);
    }
  }
  auto symbol_it = std::find_if(fields.begin(), fields.end(),
                                [&](const auto& field) { return field->name() == options.symbol_column; });
  if (symbol_it == fields.end()) {
    fields.push_back(arrow::field(options.symbol_column, arrow::utf8()));
    symbol_it = fields.end() - 1;
  }
  plan->symbol_field = static_cast<int>(symbol_it - fields.begin());
  // A column that no input holds a null in is written as required: Parquet then stores no
  // definition levels for it, which measured a fifth less writing time for float columns.
  for (auto& field : fields) {
    const bool symbol = field->name() == options.symbol_column;
    const bool null_free =
        !plan->sources.empty() &&
        std::all_of(plan->sources.begin(), plan->sources.end(),
                    [&](const auto& source) { return source->null_free.count(field->name()) > 0; });
    field = field->WithNullable(!(symbol || null_free));
  }
  plan->schema = arrow::schema(fields);

  if (!options.columns.empty()) {
    std::set<std::string> read;
    for (const auto& field : fields) read.insert(field->name());
    if (need_time) read.insert(plan->time_column);
    if (filtered && !options.target_column.empty()) read.insert(options.target_column);
    read.insert(options.symbol_column);  // checked against the symbol when present
    plan->read_columns.assign(read.begin(), read.end());
  }

  plan->filtered = filtered;
  plan->seed_hash = SplitMix64(options.seed);
  if (filtered && !plan->sources.empty()) ARROW_RETURN_NOT_OK(CountCrossSections(*plan));
  return plan;
}

}  // namespace tickforge::panel
