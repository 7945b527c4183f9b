// The threshold fit (DESIGN.md §3.3, docs/labeling.md "Fit set", "Boundaries"): which files
// the fit reads and samples (seeded), the fit's movement pass over a symbol's series, the
// seeded per-file cap on candidates, and the thresholds document made from the pooled
// movements' quantiles.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/label/config.h"
#include "tickforge/label/split_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::label::internal {

/// Return n_fit = max(1, floor(files · fit_fraction)): the first files, by start time, that
/// global thresholds are fit on.
[[nodiscard]] int FitFileCount(int files, double fit_fraction);

/// Return, for each of `files` files, whether the global fit samples it: of the first `n_fit`,
/// the k = max(1, floor(n_fit · fraction)) with the smallest splitmix64(splitmix64(seed) ^ f)
/// (ties: smaller f); no later file.
[[nodiscard]] std::vector<bool> SampleFitFiles(int files, int n_fit, double fraction, uint64_t seed);

/// Return the key that orders a file's fit candidates for the cap:
/// splitmix64(splitmix64(splitmix64(seed + 1) ^ sym) ^ t).
[[nodiscard]] uint64_t CandidateKey(uint64_t seed, int sym, int64_t t);

/// A fit movement: symbol `sym` (its index among all symbols, sorted) at series row t.
struct Candidate {
  uint64_t key;
  int sym;
  int64_t t;
  double movement;
};

/// A pool of fit candidates by input file.
using FileCandidates = std::map<int, std::vector<Candidate>>;

/// Keep at most `cap` of `candidates`: those with the smallest (key, sym, t), in the order
/// they came (so a subset of a pool keeps its candidates in the pool's order).
void KeepSmallest(std::vector<Candidate>& candidates, int64_t cap);

/// Keep at most `cap` candidates of each file (KeepSmallest); return the kept movements, file
/// by file, each file's in the order they came.
[[nodiscard]] std::vector<double> CapPerFile(FileCandidates& by_file, int64_t cap);

/// Return the fit candidates of symbol `sym` (its index among all symbols, sorted) over
/// `files` inputs: its fit movements below max_abs_movement (global: of the sampled fit files;
/// per-symbol: of its first half), each file's already cut to the cap, in row order. A file's
/// cap over all symbols keeps only candidates each symbol's own cut keeps, so pooling these
/// (FitFromCandidates) gives what pooling every movement gives.
[[nodiscard]] Result<FileCandidates> SymbolFitCandidates(const SymbolInfo& info, int sym, int files,
                                                         const LabelConfig& config);

/// Fit the thresholds on `ws` from its symbols' candidates (SymbolFitCandidates, one entry per
/// symbol of ws.symbols, in that order) and return the thresholds.json document.
[[nodiscard]] Result<nlohmann::ordered_json> FitFromCandidates(const Workspace& ws, const LabelConfig& config,
                                                               std::vector<FileCandidates> per_symbol);

/// Call fn(t, movement(t), file of row t) for t = L, L+jump, ... <= m-1-O-F, where m is
/// min(`limit`, the rows of the symbol's series in files < max_file): the movements of a
/// series cut after its first `limit` rows.
[[nodiscard]] Status ForEachFitMovement(const SymbolInfo& info, int max_file, int64_t limit,
                                        const LabelConfig& config,
                                        const std::function<void(int64_t t, double movement, int32_t file)>& fn);

/// Return the s = bid_px_00 + ask_px_00 of the first `limit` rows of the symbol's series in
/// files < max_file.
[[nodiscard]] Result<std::vector<int64_t>> ReadMidSums(const SymbolInfo& info, int max_file, int64_t limit);

/// Return the "midprice" entry of thresholds.json: per mid-price column its spec and α, fixed
/// (config.midprice_alpha) or fit (BalancedAlpha) on the defined values of the fit part: the
/// series cut after the fit files' rows (global; pooled over symbols) or each symbol's first
/// half (per-symbol; one α per symbol), so no label window reaches past the fit cut.
[[nodiscard]] Result<nlohmann::ordered_json> FitMidprice(const Workspace& ws, const LabelConfig& config, int n_fit);

/// Fit the thresholds on `ws` and return the thresholds.json document.
[[nodiscard]] Result<nlohmann::ordered_json> FitOn(const Workspace& ws, const LabelConfig& config);

}  // namespace tickforge::label::internal
