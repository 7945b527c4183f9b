// A price-level book of one instrument at one venue: (instrument_id, publisher_id) and its two
// sides. Multi-venue datasets keep one book per venue, as Databento's own example does.
#pragma once

#include <cstdint>

#include "tickforge/book/price_levels.h"

namespace tickforge::book {

struct Book {
  uint32_t instrument_id = 0;
  uint16_t publisher_id = 0;
  PriceLevels bids{Side::kBid};
  PriceLevels asks{Side::kAsk};

  [[nodiscard]] PriceLevels& side(Side s) { return s == Side::kBid ? bids : asks; }
  [[nodiscard]] const PriceLevels& side(Side s) const { return s == Side::kBid ? bids : asks; }

  /// Return true when both sides have a level and the best bid is at or above the best ask.
  [[nodiscard]] bool crossed() const { return !bids.empty() && !asks.empty() && bids[0].price >= asks[0].price; }

  /// Remove every level of both sides.
  void Clear() {
    bids.Clear();
    asks.Clear();
  }
};

}  // namespace tickforge::book
