#include "tickforge/label/midprice.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>

#include "tickforge/label/movement.h"

namespace tickforge::label {

std::string_view MidSchemeName(MidScheme scheme) { return scheme == MidScheme::kDeepLob ? "deeplob" : "fi2010"; }

Result<MidScheme> ParseMidScheme(std::string_view name) {
  if (name == "deeplob") return MidScheme::kDeepLob;
  if (name == "fi2010") return MidScheme::kFi2010;
  return Status::Invalid("unknown mid-price label scheme '", name, "' (deeplob, fi2010)");
}

std::string MidLabelSpec::Column() const { return fmt::format("label_{}_k{}", MidSchemeName(scheme), horizon); }

Status MidLabelSpec::Validate() const {
  if (horizon < 1) return Status::Invalid("config: midprice horizon must be >= 1, got ", horizon);
  if (smoothing < 0 || smoothing > horizon) {
    return Status::Invalid("config: midprice_smoothing must be in 0..k (k = ", horizon, "), got ", smoothing);
  }
  if (downsample < 1) return Status::Invalid("config: midprice_downsample must be >= 1, got ", downsample);
  return Status::OK();
}

MidpriceSeries::MidpriceSeries(const MidLabelSpec& spec, int64_t rows)
    : scheme_(spec.scheme), k_(spec.horizon), h_(spec.h()), n_(spec.downsample) {
  const int64_t kept = (rows + n_ - 1) / n_;
  last_ = kept - 1 - k_;
  // At emission of row j, kept_ = j+k+1 and the oldest prefix read is P[j-h+1]: k+h+1 entries.
  const auto capacity = std::bit_ceil(static_cast<uint64_t>(k_ + h_ + 2));
  ring_.assign(capacity, 0);
  last_s_.assign(capacity, 0);
  mask_ = capacity - 1;
}

double MidpriceSeries::Value(int64_t j) const {
  const auto plus_sum = static_cast<int64_t>(Prefix(j + k_ + 1) - Prefix(j + k_ + 1 - h_));
  const double plus = static_cast<double>(plus_sum) / static_cast<double>(2 * h_);
  double base;
  if (scheme_ == MidScheme::kDeepLob) {
    const auto minus_sum = static_cast<int64_t>(Prefix(j + 1) - Prefix(j + 1 - h_));
    base = static_cast<double>(minus_sum) / static_cast<double>(2 * h_);
  } else {
    base = static_cast<double>(last_s_[static_cast<size_t>(j) & mask_]) / 2.0;
  }
  return (plus - base) / base;
}

Result<std::vector<double>> ComputeMidValues(std::span<const int64_t> bid, std::span<const int64_t> ask,
                                             const MidLabelSpec& spec) {
  if (bid.size() != ask.size()) return Status::Invalid("bid and ask differ in length");
  ARROW_RETURN_NOT_OK(spec.Validate());
  std::vector<double> out;
  out.reserve(bid.size());
  MidpriceSeries series(spec, static_cast<int64_t>(bid.size()));
  for (size_t i = 0; i < bid.size(); ++i) series.Push(bid[i] + ask[i], [&](double l) { out.push_back(l); });
  if (out.size() != bid.size()) return Status::Invalid("internal: rows left without a mid-price label");
  return out;
}

double BalancedAlpha(std::vector<double>& values) {
  for (auto& v : values) v = std::abs(v);
  return Quantiles(values, 3)[1];
}

}  // namespace tickforge::label
