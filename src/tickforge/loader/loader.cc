#include "tickforge/loader/loader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include <arrow/memory_pool.h>

#include "tickforge/loader/index_internal.h"
#include "tickforge/loader/options.h"
#include "tickforge/loader/plan_internal.h"
#include "tickforge/loader/read_internal.h"
#include "tickforge/loader/render_internal.h"
#include "tickforge/loader/segment_cache_internal.h"
#include "tickforge/loader/window_internal.h"
#include "tickforge/loader/zscore_internal.h"

namespace tickforge::loader {

// The loader's state. Members go in reverse order: the renderer, which refers to the others,
// first (its threads stopped), the cache after it (no segment outlives it).
struct Loader::Impl {
  LoaderOptions options;
  internal::SampleIndex index;
  std::unique_ptr<internal::ZScoreStats> zscore;  // zscore normalization only
  std::unique_ptr<internal::SegmentCache> cache;
  std::unique_ptr<internal::Renderer> renderer;
};

std::string LoaderOptions::StatsDir() const {
  if (!stats_dir.empty()) return stats_dir;
  if (!parquet_dir.empty() || dataset_files.empty()) return parquet_dir;
  return std::filesystem::path(dataset_files.front()).parent_path().string();
}

Status LoaderOptions::Validate() const {
  ARROW_RETURN_NOT_OK(image.Validate());
  if (batch_size < 1) return Status::Invalid("batch_size must be >= 1");
  if (!(sample_fraction > 0 && sample_fraction <= 1)) return Status::Invalid("sample_fraction must be in (0, 1]");
  if (stride < 0) return Status::Invalid("stride must be >= 1");
  if (world_size < 1) return Status::Invalid("world_size must be >= 1, got ", world_size);
  if (rank < 0 || rank >= world_size) {
    return Status::Invalid("rank ", rank, " is not in [0, world_size=", world_size, ")");
  }
  if (!split.empty() && split != "train" && split != "val" && split != "test") {
    return Status::Invalid("split must be train, val or test, got '", split, "'");
  }
  const double total = split_fractions[0] + split_fractions[1] + split_fractions[2];
  if (std::abs(total - 1) > 1e-9 || split_fractions[0] < 0 || split_fractions[1] < 0 || split_fractions[2] < 0) {
    return Status::Invalid("split_fractions must be three non-negative shares summing to 1");
  }
  if (threads < 1) return Status::Invalid("threads must be >= 1");
  if (prefetch < 1) return Status::Invalid("prefetch must be >= 1");
  if (cache_bytes < 0) return Status::Invalid("cache_bytes must be >= 0");
  if (normalization_samples < 1) return Status::Invalid("normalization_samples must be >= 1");
  if (!normalization_stats.empty() && (normalization != Normalization::kZScore || snapshots())) {
    return Status::Invalid("normalization_stats is for depth images with normalization='zscore'");
  }
  if (representation != "depth_image" && representation != "snapshots") {
    return Status::Invalid("representation must be depth_image or snapshots, got '", representation, "'");
  }
  if (window < 1) return Status::Invalid("window must be >= 1, got ", window);
  if (levels < 1 || levels > 10) return Status::Invalid("levels must be in 1..10, got ", levels);
  if (snapshots() && normalization == Normalization::kMaxAbs) {
    return Status::Invalid("normalization of snapshots must be zscore, zscore_5d or none (max_abs, the "
                           "default, is the depth images')");
  }
  if (!snapshots() && normalization == Normalization::kZScore5d) {
    return Status::Invalid("normalization zscore_5d is for snapshots; depth images take max_abs, none or zscore");
  }
  return Status::OK();
}

Result<std::unique_ptr<Loader>> Loader::Open(LoaderOptions options) {
  ARROW_RETURN_NOT_OK(options.Validate());
  if (options.stride == 0) options.stride = options.snapshots() ? 1 : options.image.ticks_per_bin;
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  ARROW_ASSIGN_OR_RAISE(impl->index, internal::BuildIndex(impl->options));
  // The datasets' own price step (label config micro_pip_size) unless the caller set one.
  if (impl->index.micro_pip_size > 0 && !impl->options.explicit_keys.count("micro_pip_size")) {
    impl->options.image.micro_pip_size = impl->index.micro_pip_size;
    ARROW_RETURN_NOT_OK(impl->options.image.Validate());
  }
  // Building the index read every label column: hand what the allocator kept of those reads
  // back to the system rather than carry it through training.
  if (impl->options.normalization == Normalization::kZScore && !impl->options.snapshots()) {
    ARROW_ASSIGN_OR_RAISE(auto stats, internal::ResolveZScore(impl->index, impl->options));
    impl->zscore = std::make_unique<internal::ZScoreStats>(std::move(stats));
  }
  internal::ReadPool()->ReleaseUnused();
  if (impl->options.snapshots()) {
    ARROW_ASSIGN_OR_RAISE(impl->index.window_stats, internal::LoadOrComputeStats(impl->index, impl->options));
  }
  // cache_bytes bounds what the loader holds, not only the cache. Out of it come first the
  // sample index and the batches in flight (rendered ahead, being rendered, held by the
  // consumer), which may take half of it: a small budget renders fewer batches ahead, at
  // least one. The cache gets the rest, and lends it to the reads in progress.
  auto& o = impl->options;
  const int64_t batch_bytes = o.batch_size * o.sample_floats() * static_cast<int64_t>(sizeof(float));
  // The consumer holds two: the one it works on and, as its loop moves on, the next.
  while (o.prefetch > 1 && (o.prefetch + o.threads + 2) * batch_bytes > o.cache_bytes / 2) --o.prefetch;
  const int64_t in_flight = (o.prefetch + o.threads + 2) * batch_bytes;
  // The plan of an epoch: a sample index per sample drawn.
  const int64_t index = impl->index.bytes() +
                        impl->index.batches_per_epoch * o.batch_size * static_cast<int64_t>(sizeof(uint32_t));
  impl->cache = std::make_unique<internal::SegmentCache>(std::max<int64_t>(0, o.cache_bytes - in_flight - index));
  impl->renderer = std::make_unique<internal::Renderer>(impl->index, impl->options, *impl->cache, impl->zscore.get());
  return std::unique_ptr<Loader>(new Loader(std::move(impl)));
}

Loader::Loader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Loader::~Loader() { Stop(); }

int64_t Loader::batches_per_epoch() const { return impl_->index.batches_per_epoch; }
const std::vector<std::string>& Loader::symbol_names() const { return impl_->index.names; }
int Loader::num_classes() const { return impl_->index.num_classes; }
int64_t Loader::num_samples() const { return static_cast<int64_t>(impl_->index.samples.size()); }
const std::vector<Sample>& Loader::samples() const { return impl_->index.samples; }
const LoaderOptions& Loader::options() const { return impl_->options; }

Status Loader::Start(int64_t epoch, int64_t first, int64_t step) {
  Stop();
  if (step < 1 || first < 0) return Status::Invalid("bad batch range");
  impl_->renderer->Start(internal::PlanEpoch(impl_->index, impl_->options, epoch), first, step, epoch);
  return Status::OK();
}

Result<std::shared_ptr<Batch>> Loader::Next() { return impl_->renderer->Next(); }

std::vector<Sample> Loader::PlanBatch(int64_t epoch, int64_t index) const {
  const auto& samples = impl_->index.samples;
  const int64_t batch_size = impl_->options.batch_size;
  if (index < 0 || index >= impl_->index.batches_per_epoch) return {};
  const auto plan = internal::PlanEpoch(impl_->index, impl_->options, epoch);
  std::vector<Sample> out;
  for (int64_t i = 0; i < batch_size; ++i) out.push_back(samples[plan[static_cast<size_t>(index * batch_size + i)]]);
  return out;
}

void Loader::Stop() { impl_->renderer->Stop(); }

CacheStats Loader::cache_stats() const { return impl_->cache->stats(); }

std::vector<int64_t> Loader::class_counts() const { return impl_->renderer->class_counts(); }

nlohmann::ordered_json Loader::Report() const {
  using nlohmann::ordered_json;
  const auto& index = impl_->index;
  const auto& o = impl_->options;
  const auto num_classes = static_cast<size_t>(index.num_classes);
  const auto names_of = [&index](const std::vector<int64_t>& counts) {
    ordered_json out = ordered_json::object();
    for (size_t s = 0; s < counts.size(); ++s) out[index.names[s]] = counts[s];
    return out;
  };
  std::vector<int64_t> per_symbol(index.names.size(), 0), per_class(num_classes, 0);
  for (const auto& sample : index.samples) {
    ++per_symbol[static_cast<size_t>(sample.symbol)];
    ++per_class[sample.label];
  }
  // The share of each class the sampling aims at: the index's own shares under natural
  // sampling, else an equal share of each class this rank holds.
  std::vector<double> target(num_classes, 0);
  const auto present = std::count_if(per_class.begin(), per_class.end(), [](int64_t n) { return n > 0; });
  for (size_t c = 0; c < num_classes; ++c) {
    if (o.sampling == Sampling::kNatural) {
      target[c] = index.samples.empty() ? 0 : static_cast<double>(per_class[c]) / static_cast<double>(index.samples.size());
    } else if (per_class[c] > 0) {
      target[c] = 1.0 / static_cast<double>(present);
    }
  }
  ordered_json epochs = ordered_json::array();
  for (const auto& [epoch, counts] : impl_->renderer->epoch_counts()) {
    const int64_t samples = counts.batches * o.batch_size;
    ordered_json expected = ordered_json::array();
    for (double share : target) expected.push_back(share * static_cast<double>(samples));
    epochs.push_back({{"epoch", epoch},
                      {"batches", counts.batches},
                      {"samples", samples},
                      {"class_target", expected},
                      {"class_actual", counts.classes},
                      {"samples_per_symbol", names_of(counts.symbols)}});
  }
  const auto cache = cache_stats();
  ordered_json skipped = ordered_json::array();
  for (const auto& s : index.skipped) skipped.push_back({{"path", s.path}, {"reason", s.reason}});
  const auto& table = LoaderConfigTable();
  LoaderConfig config;
  config.engine = o;
  const auto keys = table.ToJson(config);
  ordered_json normalization = {{"mode", keys["normalization"]}};
  if (impl_->zscore) {
    ordered_json planes = ordered_json::array();
    for (const auto& p : impl_->zscore->planes) planes.push_back({{"feature", p.feature}, {"mean", p.mean}, {"std", p.std}});
    normalization["stats_path"] = impl_->zscore->path;
    normalization["fitted"] = impl_->zscore->fitted;
    normalization["samples"] = impl_->zscore->samples;
    normalization["planes"] = planes;
  }
  return {{"sampling", keys["sampling"]},
          {"strictness", keys["strictness"]},
          {"normalization", normalization},
          {"samples", static_cast<int64_t>(index.samples.size())},
          {"samples_per_symbol", names_of(per_symbol)},
          {"samples_per_class", per_class},
          {"class_target_share", target},
          {"epochs", epochs},
          {"cache",
           {{"hits", cache.hits},
            {"misses", cache.misses},
            {"bytes", cache.bytes},
            {"entries", cache.entries},
            {"evictions", cache.evictions}}},
          {"skipped", skipped},
          {"micro_pip_size", o.image.micro_pip_size},
          {"warnings", index.warnings}};
}

}  // namespace tickforge::loader
