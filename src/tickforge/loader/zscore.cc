#include "tickforge/loader/zscore_internal.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <system_error>

#include <arrow/io/file.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tickforge/loader/render_internal.h"
#include "tickforge/loader/segment_cache_internal.h"
#include "tickforge/util/io.h"
#include "tickforge/util/random.h"

namespace tickforge::loader::internal {
namespace {

constexpr const char* kFormat = "tickforge.zscore/1";

// The planes an image stacks, by name, in their fixed order.
std::vector<std::string> PlaneNames(const features::ImageOptions& image) {
  std::vector<std::string> out;
  for (auto feature : {features::Feature::kVolume, features::Feature::kVariance, features::Feature::kTradeCounts}) {
    if (std::find(image.features.begin(), image.features.end(), feature) != image.features.end()) {
      out.push_back(features::FeatureName(feature));
    }
  }
  return out;
}

nlohmann::ordered_json ImageJson(const LoaderOptions& options) {
  return {{"features", PlaneNames(options.image)},
          {"time_bins", options.image.time_bins},
          {"ticks_per_bin", options.image.ticks_per_bin},
          {"micro_pip_size", options.image.micro_pip_size}};
}

// What identifies the statistics: each dataset's file name, size and modification time, the
// image options and the split fractions that cut the training split.
Result<nlohmann::ordered_json> IdentityJson(const SampleIndex& index, const LoaderOptions& options) {
  auto datasets = nlohmann::ordered_json::array();
  for (const auto& dataset : index.datasets) {
    std::error_code ec;
    const std::filesystem::path path(dataset.path);
    const auto bytes = std::filesystem::file_size(path, ec);
    if (ec) return Status::IOError(dataset.path, ": cannot read its size: ", ec.message());
    const auto mtime = std::filesystem::last_write_time(path, ec);
    if (ec) return Status::IOError(dataset.path, ": cannot read its modification time: ", ec.message());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
    datasets.push_back({{"file", path.filename().string()}, {"bytes", bytes}, {"mtime_ns", static_cast<int64_t>(ns)}});
  }
  return nlohmann::ordered_json{{"datasets", datasets},
                                {"image", ImageJson(options)},
                                {"split_fractions", options.split_fractions},
                                {"normalization_samples", options.normalization_samples}};
}

// Merge one image plane's pixels into a running (count, mean, M2), float64 throughout.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
  void Add(const float* x, int64_t count) {
    double sum = 0;
    for (int64_t i = 0; i < count; ++i) sum += x[i];
    const double mean_b = sum / static_cast<double>(count);
    double m2_b = 0;
    for (int64_t i = 0; i < count; ++i) m2_b += (x[i] - mean_b) * (x[i] - mean_b);
    const double n_b = static_cast<double>(count);
    const double total = n + n_b;
    const double delta = mean_b - mean;
    mean += delta * n_b / total;
    m2 += m2_b + delta * delta * n * n_b / total;
    n = total;
  }
};

}  // namespace

Result<std::string> DefaultStatsPath(const SampleIndex& index, const LoaderOptions& options) {
  ARROW_ASSIGN_OR_RAISE(const auto identity, IdentityJson(index, options));
  const uint64_t key = Fnv1a64(identity.dump());
  return (std::filesystem::path(options.StatsDir()) / fmt::format("tickforge_zscore_{:016x}.json", key)).string();
}

Result<ZScoreStats> FitZScore(const SampleIndex& index, const LoaderOptions& options) {
  LoaderOptions fit = options;
  fit.split = "train";
  fit.symbols = index.names;
  fit.sample_fraction = 1;
  fit.rank = 0;
  fit.world_size = 1;
  fit.stride = options.image.ticks_per_bin;
  fit.batch_size = 1;
  fit.sampling = Sampling::kClassUniform;
  fit.normalization = Normalization::kNone;
  ARROW_ASSIGN_OR_RAISE(const SampleIndex train, BuildIndex(fit));
  const auto n = static_cast<int64_t>(train.samples.size());
  if (n == 0) {
    return Status::Invalid(options.parquet_dir, ": the training split has no samples to fit zscore statistics on");
  }
  const int64_t N = std::min(n, std::max<int64_t>(1, options.normalization_samples));
  std::vector<uint32_t> chosen(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) chosen[static_cast<size_t>(i)] = static_cast<uint32_t>(i * n / N);

  ZScoreStats stats;
  for (const auto& name : PlaneNames(options.image)) stats.planes.push_back({name, 0, 1});
  std::vector<Moments> moments(stats.planes.size());
  const int64_t plane_floats = int64_t{features::kImageRows} * options.image.time_bins;
  // A cache of its own, released when the fit is done: half the loader's budget.
  SegmentCache cache(options.cache_bytes / 2);
  constexpr int64_t kChunk = 64;
  Batch batch;
  for (int64_t first = 0; first < N; first += kChunk) {
    fit.batch_size = std::min(kChunk, N - first);
    ARROW_RETURN_NOT_OK(RenderBatch(train, fit, cache, chosen.data() + first, batch));
    for (int64_t i = 0; i < batch.size; ++i) {
      const float* image = batch.features.data() + i * fit.image.image_floats();
      for (size_t p = 0; p < moments.size(); ++p) {
        moments[p].Add(image + static_cast<int64_t>(p) * plane_floats, plane_floats);
      }
    }
  }
  for (size_t p = 0; p < moments.size(); ++p) {
    stats.planes[p].mean = moments[p].mean;
    stats.planes[p].std = std::sqrt(moments[p].m2 / moments[p].n);
  }
  stats.samples = N;
  stats.fitted = true;
  return stats;
}

Result<ZScoreStats> ReadZScore(const std::string& path, const LoaderOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path));
  ARROW_ASSIGN_OR_RAISE(const int64_t size, file->GetSize());
  ARROW_ASSIGN_OR_RAISE(auto buffer, file->Read(size));
  const auto json = nlohmann::json::parse(buffer->data(), buffer->data() + buffer->size(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) return Status::Invalid(path, ": not a JSON object of zscore statistics");
  const auto bad = [&path](const std::string& what) {
    return Status::Invalid(path, ": zscore statistics ", what);
  };
  if (json.value("format", "") != kFormat) return bad(std::string("are not of format ") + kFormat);
  const nlohmann::json want = ImageJson(options);
  if (!json.contains("image") || json["image"] != want) {
    return bad("were fit for image options " + (json.contains("image") ? json["image"].dump() : "(none)") +
               ", not this loader's " + want.dump());
  }
  ZScoreStats stats;
  stats.path = path;
  const auto planes = json.find("planes");
  if (planes == json.end() || !planes->is_array()) return bad("have no 'planes' list");
  for (const auto& plane : *planes) {
    if (!plane.is_object() || !plane.contains("feature") || !plane["feature"].is_string() ||
        !plane.contains("mean") || !plane["mean"].is_number() || !plane.contains("std") ||
        !plane["std"].is_number()) {
      return bad("have a plane without feature, mean and std: " + plane.dump());
    }
    stats.planes.push_back({plane["feature"].get<std::string>(), plane["mean"].get<double>(), plane["std"].get<double>()});
  }
  std::vector<std::string> names;
  for (const auto& plane : stats.planes) names.push_back(plane.feature);
  if (names != PlaneNames(options.image)) return bad("list other planes than this loader's features");
  stats.samples = json.value("samples", int64_t{0});
  return stats;
}

Status WriteZScore(const ZScoreStats& stats, const SampleIndex& index, const LoaderOptions& options,
                   const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto identity, IdentityJson(index, options));
  nlohmann::ordered_json out;
  out["format"] = kFormat;
  out["fit_on"] = "split train";
  out["samples"] = stats.samples;
  out["image"] = identity["image"];
  out["split_fractions"] = identity["split_fractions"];
  out["datasets"] = identity["datasets"];
  auto planes = nlohmann::ordered_json::array();
  for (const auto& plane : stats.planes) planes.push_back({{"feature", plane.feature}, {"mean", plane.mean}, {"std", plane.std}});
  out["planes"] = planes;
  const std::string text = out.dump(2) + "\n";
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(path));
  ARROW_RETURN_NOT_OK(WithPath(file->stream()->Write(text.data(), static_cast<int64_t>(text.size())), path));
  return WithPath(file->Commit(), path);
}

Result<ZScoreStats> ResolveZScore(const SampleIndex& index, const LoaderOptions& options) {
  std::string path = options.normalization_stats;
  if (path.empty()) {
    ARROW_ASSIGN_OR_RAISE(path, DefaultStatsPath(index, options));
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return ReadZScore(path, options);
  if (options.split == "val" || options.split == "test") {
    return Status::Invalid("normalization='zscore' with split='", options.split, "': no training statistics at ", path,
                           "; open the training loader (split='train', normalization='zscore') on these datasets "
                           "first, or pass normalization_stats=PATH (statistics are never fit on ", options.split,
                           " data)");
  }
  ARROW_ASSIGN_OR_RAISE(auto stats, FitZScore(index, options));
  stats.path = path;
  ARROW_RETURN_NOT_OK(WriteZScore(stats, index, options, path));
  return stats;
}

void ApplyZScore(const ZScoreStats& stats, int64_t plane_floats, float* image) {
  for (size_t p = 0; p < stats.planes.size(); ++p) {
    const double mean = stats.planes[p].mean;
    const double std = stats.planes[p].std > 0 ? stats.planes[p].std : 1.0;
    float* x = image + static_cast<int64_t>(p) * plane_floats;
    for (int64_t i = 0; i < plane_floats; ++i) x[i] = static_cast<float>((static_cast<double>(x[i]) - mean) / std);
  }
}

}  // namespace tickforge::loader::internal
