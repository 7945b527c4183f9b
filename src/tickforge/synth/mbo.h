// Synthetic order-level flow as Databento MBO DBN files (`tickforge synth mbo`): for tests,
// benchmarks and the demo, a deterministic function of the options.
//
// One book per (instrument, publisher): the instruments are those of `synth dbn` (SymbolNames,
// their ticks and prices), each publisher a venue quoting around the instrument's moving mid.
// Each file (one per trading day, one UTC day) starts with a snapshot of every book (a Clear,
// then an Add per resting order, all F_SNAPSHOT, the book's last record F_LAST), then
// `messages_per_day` records of live flow: adds around the mid (never crossing the other
// side), full and partial cancels and modifies of live orders, trades (a Trade of the
// aggressor, then a Fill and a Cancel of each resting order it takes at the best level), and
// once a day a Clear of one book mid-session, rebuilt by the adds after it. Every Cancel,
// Modify and Fill names a live order; sizes are positive; F_LAST marks each event's last
// record; ts_recv never decreases. The books carry over from day to day.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tickforge/synth/synth.h"
#include "tickforge/util/status.h"

namespace tickforge::synth {

/// The most publishers (venues) one run can have.
inline constexpr int kMaxPublishers = 16;

struct MboSynthOptions {
  /// Instruments per file, 1 to kMaxSymbols (SymbolNames order).
  int symbols = 2;
  /// Publishers (venues) per instrument, ids 1..publishers, 1 to kMaxPublishers.
  int publishers = 2;
  /// Days, one file each (every calendar day: the flow runs around the clock).
  int days = 1;
  /// MBO records of live flow per file, after the start-of-day snapshot.
  int64_t messages_per_day = 100000;
  uint64_t seed = 1;
  /// First day as YYYYMMDD.
  uint32_t start_date = 20240401;
  std::string dataset = "GLBX.MDP3";
  bool zstd = true;
};

/// Write one MBO DBN v3 file per day into `out_dir` (created if missing), named like
/// "glbx-mdp3-20240401.mbo.dbn.zst"; return them in date order, rows = every record written
/// (snapshot included).
[[nodiscard]] Result<std::vector<SynthFile>> WriteMboDays(const std::filesystem::path& out_dir,
                                                          const MboSynthOptions& options);

}  // namespace tickforge::synth
