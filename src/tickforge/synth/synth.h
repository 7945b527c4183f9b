// Synthetic MBP-10 market data shaped like CME Globex FX futures (GLBX.MDP3), written as DBN
// files the way a vendor delivers them: one file per trading day, several instruments each.
// The output is a deterministic function of the options, so tests and benchmarks can
// regenerate the same bytes anywhere instead of shipping licensed data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge::synth {

/// The most instruments one generator run can produce (16 products times 4 expiries).
inline constexpr int kMaxSymbols = 64;

struct SynthOptions {
  /// Instruments per file, 1 to kMaxSymbols; see SymbolNames() for which.
  int symbols = 4;
  /// Trading days (Monday to Friday; weekends are skipped), one file per day.
  int days = 2;
  /// MBP-10 records per file, shared unevenly among the instruments by their liquidity.
  int64_t rows_per_day = 100000;
  uint64_t seed = 1;
  /// First day as YYYYMMDD; a Saturday or Sunday moves to the next Monday.
  uint32_t start_date = 20240401;
  std::string dataset = "GLBX.MDP3";
  bool zstd = true;
};

/// One written file.
struct SynthFile {
  std::string path;
  uint32_t date = 0;  ///< the trading day as YYYYMMDD
  int64_t rows = 0;
};

/// Write one MBP-10 DBN v3 file per trading day into `out_dir` (created if missing), named
/// like "glbx-mdp3-20240401.mbp-10.dbn.zst"; return them in date order.
///
/// Each file holds exactly `rows_per_day` records sorted by ts_recv. The order books carry
/// over from one day to the next, so the first k files of a run do not depend on `days`.
[[nodiscard]] arrow::Result<std::vector<SynthFile>> WriteMbp10Days(
    const std::filesystem::path& out_dir, const SynthOptions& options);

/// Return the raw symbols the generator uses for `n` instruments (clamped to 0..kMaxSymbols):
/// front-month contracts of the FX products first ("M6AM4", "M6EM4", "6AM4", "6EM4", ...),
/// then the same products' deferred expiries.
[[nodiscard]] std::vector<std::string> SymbolNames(int n);

}  // namespace tickforge::synth
