// The generators' keys, as the Python keywords spell them, read through the one config layer
// onto SynthOptions and BinanceOptions, whose defaults are the only ones.
#pragma once

#include "tickforge/synth/binance.h"
#include "tickforge/synth/mbo.h"
#include "tickforge/synth/synth.h"
#include "tickforge/util/config.h"

namespace tickforge::synth {

/// Return the keys of `synth dbn`: symbols, days, rows_per_day, seed, start_date ("YYYY-MM-DD"),
/// dataset, zstd.
[[nodiscard]] const config::Table<SynthOptions>& SynthOptionsTable();

/// Return the keys of `synth binance`: symbols (a count or a list of names), days, start
/// ("YYYY-MM-DD"), market, kinds (a name or a list), interval, monthly, header (null: as
/// Binance), zip, aggtrades_per_minute, seed.
[[nodiscard]] const config::Table<BinanceOptions>& BinanceOptionsTable();

/// Return the keys of `synth mbo`: symbols, publishers, days, messages_per_day, seed,
/// start_date ("YYYY-MM-DD"), dataset, zstd.
[[nodiscard]] const config::Table<MboSynthOptions>& MboSynthOptionsTable();

}  // namespace tickforge::synth
