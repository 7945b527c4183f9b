// The threshold fit (DESIGN.md §3.3): the fit files and their seeded sample, the movement pass
// over each symbol's fit series, the seeded cap per file, the quantile boundaries, and the
// thresholds.json document that records them.
#include "tickforge/label/fit_internal.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>

#include "tickforge/label/midprice.h"
#include "tickforge/label/movement.h"
#include "tickforge/label/series_internal.h"
#include "tickforge/util/random.h"

namespace tickforge::label::internal {
namespace {

nlohmann::ordered_json Stats(const std::vector<double>& values) {
  if (values.empty()) return {{"count", 0}};
  double sum = 0, min = values.front(), max = values.front();
  for (double v : values) {
    sum += v;
    min = std::min(min, v);
    max = std::max(max, v);
  }
  const double mean = sum / static_cast<double>(values.size());
  double sq = 0;
  for (double v : values) sq += (v - mean) * (v - mean);
  return {{"count", values.size()},
          {"mean", mean},
          {"std", std::sqrt(sq / static_cast<double>(values.size()))},
          {"min", min},
          {"max", max}};
}

void WarnTies(const std::vector<double>& b, const std::string& where, nlohmann::ordered_json& warnings) {
  for (size_t k = 1; k < b.size(); ++k) {
    if (b[k] == b[k - 1]) {
      warnings.push_back(fmt::format("{}boundaries {} and {} are equal ({}): class {} can only hold that value",
                                     where, k - 1, k, b[k], k - 1));
    }
  }
}

}  // namespace

int FitFileCount(int files, double fit_fraction) {
  return std::max(1, static_cast<int>(std::floor(files * fit_fraction)));
}

std::vector<bool> SampleFitFiles(int files, int n_fit, double fraction, uint64_t seed) {
  std::vector<bool> sampled(static_cast<size_t>(files), false);
  const int k = std::max(1, static_cast<int>(std::floor(n_fit * fraction)));
  std::vector<std::pair<uint64_t, int>> keys;
  for (int f = 0; f < n_fit; ++f) keys.emplace_back(SplitMix64(SplitMix64(seed) ^ static_cast<uint64_t>(f)), f);
  std::sort(keys.begin(), keys.end());
  for (int i = 0; i < k; ++i) sampled[static_cast<size_t>(keys[static_cast<size_t>(i)].second)] = true;
  return sampled;
}

uint64_t CandidateKey(uint64_t seed, int sym, int64_t t) {
  return SplitMix64(SplitMix64(SplitMix64(seed + 1) ^ static_cast<uint64_t>(sym)) ^ static_cast<uint64_t>(t));
}

void KeepSmallest(std::vector<Candidate>& candidates, int64_t cap) {
  if (static_cast<int64_t>(candidates.size()) <= cap) return;
  if (cap <= 0) {
    candidates.clear();
    return;
  }
  using Triple = std::tuple<uint64_t, int, int64_t>;
  std::vector<Triple> triples;
  triples.reserve(candidates.size());
  for (const auto& c : candidates) triples.emplace_back(c.key, c.sym, c.t);
  const auto cut = triples.begin() + (cap - 1);
  std::nth_element(triples.begin(), cut, triples.end());
  const Triple largest = *cut;  // the largest kept
  // Equal triples (possible only in tests) at the cut: the first ones, up to the cap.
  int64_t equal_left = cap - std::count_if(triples.begin(), triples.end(), [&](const Triple& x) { return x < largest; });
  size_t kept = 0;
  for (const auto& c : candidates) {
    const Triple x{c.key, c.sym, c.t};
    if (x < largest || (x == largest && equal_left-- > 0)) candidates[kept++] = c;
  }
  candidates.resize(kept);
}

std::vector<double> CapPerFile(FileCandidates& by_file, int64_t cap) {
  std::vector<double> pooled;
  for (auto& [file, candidates] : by_file) {
    KeepSmallest(candidates, cap);
    for (const auto& c : candidates) pooled.push_back(c.movement);
  }
  return pooled;
}

Status ForEachFitMovement(const SymbolInfo& info, int max_file, int64_t limit, const LabelConfig& config,
                          const std::function<void(int64_t t, double movement, int32_t file)>& fn) {
  MovementWindow window(config.lookback_rows, config.lookforward_offset, config.lookforward_input);
  const int64_t last = window.LastDefined(limit);
  if (last < config.lookback_rows) return Status::OK();
  const auto ring_size = std::bit_ceil(static_cast<uint64_t>(config.lookforward_offset + config.lookforward_input + 2));
  std::vector<int32_t> file_of(ring_size);
  int64_t next = config.lookback_rows;
  SeriesReader reader(info, max_file, {kBestBid, kBestAsk});
  while (window.size() < limit && next <= last) {
    ARROW_ASSIGN_OR_RAISE(auto chunk, reader.Next());
    if (!chunk) break;
    const auto& bid = Column<arrow::Int64Array>(*chunk->rows, kBestBid);
    const auto& ask = Column<arrow::Int64Array>(*chunk->rows, kBestAsk);
    for (int64_t i = 0; i < chunk->rows->num_rows() && window.size() < limit; ++i) {
      file_of[static_cast<size_t>(window.size()) & (ring_size - 1)] = chunk->file[static_cast<size_t>(i)];
      window.Push(bid.Value(i) + ask.Value(i));
      while (next <= last && window.Ready(next)) {
        fn(next, window.Movement(next), file_of[static_cast<size_t>(next) & (ring_size - 1)]);
        next += config.jump_size;
      }
    }
  }
  return Status::OK();
}

Result<std::vector<int64_t>> ReadMidSums(const SymbolInfo& info, int max_file, int64_t limit) {
  std::vector<int64_t> sums;
  sums.reserve(static_cast<size_t>(std::max<int64_t>(0, limit)));
  SeriesReader reader(info, max_file, {kBestBid, kBestAsk});
  while (static_cast<int64_t>(sums.size()) < limit) {
    ARROW_ASSIGN_OR_RAISE(auto chunk, reader.Next());
    if (!chunk) break;
    const auto& bid = Column<arrow::Int64Array>(*chunk->rows, kBestBid);
    const auto& ask = Column<arrow::Int64Array>(*chunk->rows, kBestAsk);
    for (int64_t i = 0; i < chunk->rows->num_rows() && static_cast<int64_t>(sums.size()) < limit; ++i) {
      sums.push_back(bid.Value(i) + ask.Value(i));
    }
  }
  return sums;
}

Result<nlohmann::ordered_json> FitMidprice(const Workspace& ws, const LabelConfig& config, int n_fit) {
  auto out = nlohmann::ordered_json::object();
  const auto specs = config.MidLabels();
  if (specs.empty()) return out;
  const bool global = config.mode == Mode::kGlobal;
  // Per spec: the pooled values (global) or each symbol's α (per-symbol).
  std::vector<std::vector<double>> pooled(specs.size());
  std::vector<nlohmann::ordered_json> per_symbol(specs.size(), nlohmann::ordered_json::object());
  std::vector<int64_t> samples(specs.size(), 0);
  if (!config.midprice_alpha) {
    for (const auto& [name, info] : ws.symbols) {
      const int64_t limit = global ? info.ValidIn(n_fit) : info.valid / 2;
      ARROW_ASSIGN_OR_RAISE(auto sums, ReadMidSums(info, global ? n_fit : static_cast<int>(ws.files.size()), limit));
      for (size_t c = 0; c < specs.size(); ++c) {
        std::vector<double> values;
        MidpriceSeries series(specs[c], static_cast<int64_t>(sums.size()));
        for (int64_t s : sums) {
          series.Push(s, [&](double l) {
            if (!std::isnan(l)) values.push_back(l);
          });
        }
        samples[c] += static_cast<int64_t>(values.size());
        if (global) {
          pooled[c].insert(pooled[c].end(), values.begin(), values.end());
        } else if (!values.empty()) {
          per_symbol[c][name] = BalancedAlpha(values);
        }
      }
    }
  }
  for (size_t c = 0; c < specs.size(); ++c) {
    const auto& spec = specs[c];
    nlohmann::ordered_json entry = {{"scheme", std::string(MidSchemeName(spec.scheme))},
                                    {"horizon", spec.horizon},
                                    {"smoothing", spec.h()},
                                    {"downsample", spec.downsample},
                                    {"fitted", !config.midprice_alpha.has_value()}};
    if (config.midprice_alpha) {
      entry["alpha"] = *config.midprice_alpha;
    } else if (global) {
      if (pooled[c].empty()) {
        return Status::Invalid("no fit rows for ", spec.Column(), ": every symbol's fit part is shorter than h + k rows");
      }
      entry["alpha"] = BalancedAlpha(pooled[c]);
    } else {
      if (per_symbol[c].empty()) return Status::Invalid("no symbol has fit rows for ", spec.Column());
      entry["alpha"] = per_symbol[c];
    }
    entry["fit_samples"] = samples[c];
    out[spec.Column()] = entry;
  }
  return out;
}

Result<FileCandidates> SymbolFitCandidates(const SymbolInfo& info, int sym, int files, const LabelConfig& config) {
  FileCandidates by_file;
  if (config.mode == Mode::kGlobal) {
    const int n_fit = FitFileCount(files, config.fit_fraction);
    const std::vector<bool> sampled = SampleFitFiles(files, n_fit, config.file_sample_fraction, config.seed);
    ARROW_RETURN_NOT_OK(ForEachFitMovement(info, n_fit, info.ValidIn(n_fit), config,
                                           [&](int64_t t, double m, int32_t file) {
                                             if (!sampled[static_cast<size_t>(file)] ||
                                                 !(std::abs(m) < config.max_abs_movement)) {
                                               return;
                                             }
                                             by_file[file].push_back({CandidateKey(config.seed, sym, t), sym, t, m});
                                           }));
  } else {
    ARROW_RETURN_NOT_OK(ForEachFitMovement(info, files, info.valid / 2, config, [&](int64_t t, double m, int32_t file) {
      if (std::abs(m) < config.max_abs_movement) by_file[file].push_back({CandidateKey(config.seed, sym, t), sym, t, m});
    }));
  }
  for (auto& [file, candidates] : by_file) KeepSmallest(candidates, config.max_samples_per_file);
  return by_file;
}

Result<nlohmann::ordered_json> FitOn(const Workspace& ws, const LabelConfig& config) {
  std::vector<FileCandidates> per_symbol;
  int sym = 0;
  for (const auto& [name, info] : ws.symbols) {
    ARROW_ASSIGN_OR_RAISE(auto candidates, SymbolFitCandidates(info, sym++, static_cast<int>(ws.files.size()), config));
    per_symbol.push_back(std::move(candidates));
  }
  return FitFromCandidates(ws, config, std::move(per_symbol));
}

Result<nlohmann::ordered_json> FitFromCandidates(const Workspace& ws, const LabelConfig& config,
                                                 std::vector<FileCandidates> per_symbol) {
  const int n = static_cast<int>(ws.files.size());
  const int n_fit = FitFileCount(n, config.fit_fraction);
  if (per_symbol.size() != ws.symbols.size()) {
    return Status::Invalid("fit candidates for ", per_symbol.size(), " symbols, but the inputs hold ", ws.symbols.size());
  }
  nlohmann::ordered_json doc;
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  const std::vector<bool> sampled = config.mode == Mode::kGlobal
                                        ? SampleFitFiles(n, n_fit, config.file_sample_fraction, config.seed)
                                        : std::vector<bool>(static_cast<size_t>(n), true);

  std::vector<double> all_pooled;
  if (config.mode == Mode::kGlobal) {
    // Each file's pool holds its candidates symbol by symbol, each symbol's in row order.
    FileCandidates by_file;
    for (auto& candidates : per_symbol) {
      for (auto& [file, list] : candidates) by_file[file].insert(by_file[file].end(), list.begin(), list.end());
    }
    all_pooled = CapPerFile(by_file, config.max_samples_per_file);
    if (all_pooled.empty()) {
      return Status::Invalid("no fit samples: every symbol needs more than lookback_rows + lookforward_offset + "
                             "lookforward_input valid rows in the fit files, and movements below max_abs_movement");
    }
    auto pooled = all_pooled;
    auto boundaries = Quantiles(pooled, config.nbins);
    WarnTies(boundaries, "", warnings);
    doc["boundaries"] = boundaries;
  } else {
    auto boundaries_of = nlohmann::ordered_json::object();
    auto fit_rows = nlohmann::ordered_json::object();
    size_t sym = 0;
    for (const auto& [name, info] : ws.symbols) {
      const int64_t half = info.valid / 2;
      auto pooled = CapPerFile(per_symbol[sym++], config.max_samples_per_file);
      fit_rows[name] = half;
      if (pooled.empty()) {
        warnings.push_back(fmt::format("{}: no fit samples in its first {} rows; it gets no dataset", name, half));
        continue;
      }
      all_pooled.insert(all_pooled.end(), pooled.begin(), pooled.end());
      auto boundaries = Quantiles(pooled, config.nbins);
      WarnTies(boundaries, name + ": ", warnings);
      boundaries_of[name] = boundaries;
    }
    if (boundaries_of.empty()) return Status::Invalid("no symbol has enough rows to fit thresholds on");
    doc["boundaries"] = boundaries_of;
    doc["fit_rows"] = fit_rows;
  }
  doc["nbins"] = config.nbins;
  doc["mode"] = std::string(ModeName(config.mode));
  doc["seed"] = config.seed;
  auto fit_files = nlohmann::ordered_json::array();
  const int listed = config.mode == Mode::kGlobal ? n_fit : n;
  for (int f = 0; f < listed; ++f) {
    const auto& file = ws.files[static_cast<size_t>(f)];
    fit_files.push_back({{"name", file.name},
                         {"start", file.start},
                         {"end", file.end},
                         {"rows", ws.file_valid[static_cast<size_t>(f)]},
                         {"sampled", static_cast<bool>(sampled[static_cast<size_t>(f)])}});
  }
  doc["fit_files"] = fit_files;
  ARROW_ASSIGN_OR_RAISE(auto midprice, FitMidprice(ws, config, n_fit));
  if (!midprice.empty()) doc["midprice"] = std::move(midprice);
  doc["files_total"] = n;
  doc["sample_size"] = all_pooled.size();
  doc["movement_stats"] = Stats(all_pooled);
  doc["warnings"] = warnings;
  doc["config"] = config.ToJson();
  return doc;
}

}  // namespace tickforge::label::internal
