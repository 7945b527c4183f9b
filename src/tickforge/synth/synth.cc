// The generator's public face: the symbols it names, and the file writer that runs the day
// loop (weekends skipped, the day's market from day.cc, each instrument's share of the rows)
// and merges the instruments' record streams (stream_internal.h) into one DBN file per day.
#include "tickforge/synth/synth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "tickforge/dbn/encoder.h"
#include "tickforge/dbn/metadata.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/synth/day_internal.h"
#include "tickforge/synth/stream_internal.h"
#include "tickforge/synth/synth_internal.h"
#include "tickforge/synth/universe_internal.h"
#include "tickforge/util/random.h"
#include "tickforge/util/time.h"

namespace tickforge::synth {
namespace internal {

std::vector<int64_t> SplitRows(int64_t rows, const std::vector<double>& weights) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<int64_t> shares(weights.size());
  std::vector<double> remainder(weights.size());
  int64_t assigned = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double exact = static_cast<double>(rows) * weights[i] / total;
    shares[i] = static_cast<int64_t>(std::floor(exact));
    remainder[i] = exact - static_cast<double>(shares[i]);
    assigned += shares[i];
  }
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t i = 0; assigned < rows; i = (i + 1) % order.size(), ++assigned) ++shares[order[i]];
  // Floating-point rounding can overshoot by a row; take it back from the largest share.
  while (assigned > rows) {
    --*std::max_element(shares.begin(), shares.end());
    --assigned;
  }
  return shares;
}

// 1970-01-01 was a Thursday.
int Weekday(int64_t days) { return static_cast<int>(((days % 7) + 7 + 4) % 7); }

uint64_t DeriveSeed(uint64_t seed, uint64_t a, uint64_t b) {
  return SplitMix64(SplitMix64(SplitMix64(seed) ^ (a * 0xD1B54A32D192ED03ULL)) ^ (b * 0x8CB92BA72F3D8DD7ULL));
}

std::string FilePrefix(const std::string& dataset) {
  std::string prefix = dataset;
  for (char& c : prefix) {
    if (c == '.') {
      c = '-';
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return prefix;
}

}  // namespace internal

namespace {

using internal::BuildDay;
using internal::DeriveSeed;
using internal::FilePrefix;
using internal::DayContext;
using internal::InstrumentId;
using internal::kExpiries;
using internal::kProducts;
using internal::kUnderlyingCount;
using internal::kUnderlyings;
using internal::MarketState;
using internal::Rng;
using internal::SplitRows;
using internal::SymbolStream;
using internal::Weekday;

constexpr uint8_t kStypeRawSymbol = 1;
constexpr uint8_t kStypeInstrumentId = 0;
// The sequence field is 32 bits and gaps are added between records, so cap the row count
// well below 2^32.
constexpr int64_t kMaxRowsPerDay = 1'000'000'000;

[[nodiscard]] Status ValidateOptions(const SynthOptions& options) {
  if (options.symbols < 1 || options.symbols > kMaxSymbols) {
    return Status::Invalid("synth: symbols must be between 1 and ", kMaxSymbols, ", got ",
                           options.symbols);
  }
  if (options.days < 1) {
    return Status::Invalid("synth: days must be at least 1, got ", options.days);
  }
  if (options.rows_per_day < 1 || options.rows_per_day > kMaxRowsPerDay) {
    return Status::Invalid("synth: rows_per_day must be between 1 and ", kMaxRowsPerDay,
                           ", got ", options.rows_per_day);
  }
  using namespace std::chrono;
  const year_month_day date{year(static_cast<int>(options.start_date / 10000)),
                            month(options.start_date / 100 % 100), day(options.start_date % 100)};
  if (!date.ok() || date.year() < year(1970) || date.year() > year(2200)) {
    return Status::Invalid("synth: start_date must be a valid YYYYMMDD date, got ",
                           options.start_date);
  }
  if (options.dataset.empty()) return Status::Invalid("synth: dataset must not be empty");
  return Status::OK();
}

dbn::Metadata MakeMetadata(const SynthOptions& options, const std::vector<std::string>& names,
                           int64_t days) {
  const uint32_t date = YmdFromDays(days);
  const uint32_t next_date = YmdFromDays(days + 1);
  dbn::Metadata metadata;
  metadata.dataset = options.dataset;
  metadata.schema = dbn::Schema::kMbp10;
  metadata.start = static_cast<uint64_t>(days) * static_cast<uint64_t>(kNanosPerDay);
  metadata.end = metadata.start + static_cast<uint64_t>(kNanosPerDay);
  metadata.stype_in = kStypeRawSymbol;
  metadata.stype_out = kStypeInstrumentId;
  metadata.symbols = names;
  for (size_t k = 0; k < names.size(); ++k) {
    const uint32_t id = InstrumentId(static_cast<int>(k));
    metadata.mappings.push_back(
        dbn::SymbolMapping{names[k], {dbn::MappingInterval{date, next_date, std::to_string(id)}}});
  }
  return metadata;
}

// Merge the instruments' streams by ts_recv (ties by instrument order) into one file.
[[nodiscard]] Status WriteDay(const std::filesystem::path& path, const dbn::Metadata& metadata,
                              bool zstd, std::vector<SymbolStream>& streams, Rng& rng) {
  ARROW_ASSIGN_OR_RAISE(auto encoder,
                        dbn::Encoder::Open(path, metadata, dbn::EncoderOptions{.zstd = zstd}));
  auto later = [&streams](int a, int b) {
    const uint64_t ta = streams[a].ts_recv();
    const uint64_t tb = streams[b].ts_recv();
    return ta != tb ? ta > tb : a > b;
  };
  std::vector<int> heap;
  heap.reserve(streams.size());
  for (int k = 0; k < static_cast<int>(streams.size()); ++k) {
    if (streams[k].Advance()) heap.push_back(k);
  }
  std::make_heap(heap.begin(), heap.end(), later);
  // The channel's sequence numbers also count messages for instruments not in the file.
  uint32_t sequence = 1'000'000 + rng.Below(4'000'000);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    SymbolStream& stream = streams[heap.back()];
    stream.set_sequence(sequence);
    sequence += rng.Chance(0.03) ? 2 + rng.Below(3) : 1;
    ARROW_RETURN_NOT_OK(encoder->Write(stream.record()));
    if (stream.Advance()) {
      std::push_heap(heap.begin(), heap.end(), later);
    } else {
      heap.pop_back();
    }
  }
  return encoder->Close();
}

}  // namespace

std::vector<std::string> SymbolNames(int n) {
  n = std::clamp(n, 0, kMaxSymbols);
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    names.push_back(std::string(kProducts[k % kProducts.size()].root) +
                    kExpiries[k / kProducts.size()].code);
  }
  return names;
}

Result<std::vector<SynthFile>> WriteMbp10Days(const std::filesystem::path& out_dir,
                                              const SynthOptions& options) {
  ARROW_RETURN_NOT_OK(ValidateOptions(options));
  const std::vector<std::string> names = SymbolNames(options.symbols);
  const std::string prefix = FilePrefix(options.dataset);

  std::vector<SymbolStream> streams;
  streams.reserve(names.size());
  for (int k = 0; k < options.symbols; ++k) streams.emplace_back(k);

  MarketState market;
  for (int u = 0; u < kUnderlyingCount; ++u) market.price[u] = kUnderlyings[u].base_price;
  // Reused every day so that memory stays flat however many days are written.
  DayContext day;

  std::vector<SynthFile> files;
  int64_t days = DaysFromYmd(options.start_date);
  for (int i = 0; i < options.days; ++i, ++days) {
    while (Weekday(days) == 0 || Weekday(days) == 6) ++days;
    const uint32_t date = YmdFromDays(days);
    Rng rng(DeriveSeed(options.seed, date, 0x6d61726b6574));  // "market"
    BuildDay(static_cast<uint64_t>(days) * static_cast<uint64_t>(kNanosPerDay), Weekday(days) == 5, market, rng, day);

    // Volume shares wobble from day to day around each instrument's liquidity.
    std::vector<double> weights(streams.size());
    for (size_t k = 0; k < streams.size(); ++k) {
      weights[k] = streams[k].liquidity() * (0.8 + 0.4 * rng.Uniform());
    }
    const std::vector<int64_t> rows = SplitRows(options.rows_per_day, weights);
    for (size_t k = 0; k < streams.size(); ++k) {
      streams[k].BeginDay(day, rows[k], DeriveSeed(options.seed, date, k + 1));
    }

    const std::filesystem::path path =
        out_dir / fmt::format("{}-{}.mbp-10.dbn{}", prefix, date, options.zstd ? ".zst" : "");
    ARROW_RETURN_NOT_OK(
        WriteDay(path, MakeMetadata(options, names, days), options.zstd, streams, rng));
    files.push_back(SynthFile{path.string(), date, options.rows_per_day});
  }
  return files;
}

}  // namespace tickforge::synth
