// What a book source can find wrong in its input: counted per file and reported, never a
// crash; a strict build turns the first one into an error.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tickforge::book {

enum class Anomaly : uint8_t {
  kNone,
  kUnknownCancel,      ///< a Cancel of an order id the book does not hold (ignored)
  kUnknownModify,      ///< a Modify of an order id the book does not hold (applied as an Add)
  kNegativeLevel,      ///< a Cancel of more than the order holds (the order is removed)
  kSequenceBackwards,  ///< a sequence number below the book's previous one (applied anyway)
  kDuplicateAdd,       ///< an Add of an order id the book already holds (replaces it)
  kSideChange,         ///< a Modify that moves an order to the other side (applied)
  kNoSide,             ///< an Add or Modify with side N (ignored)
  kUnknownAction,      ///< an action byte outside A, C, M, R, T, F, N (ignored)
  kLobsterMismatch,    ///< a LOBSTER message whose levels differ from its orderbook row (book/lobster.h)
};
inline constexpr int kAnomalyKinds = 10;

/// Return the anomaly's name as summaries and JSON spell it ("unknown_cancel"); "" for kNone.
[[nodiscard]] std::string_view AnomalyName(Anomaly anomaly);

/// Return a sentence for error messages ("a Cancel of an unknown order id").
[[nodiscard]] std::string_view AnomalyDescription(Anomaly anomaly);

/// How often each anomaly occurred.
struct AnomalyCounts {
  std::array<int64_t, kAnomalyKinds> by_kind{};

  void Count(Anomaly anomaly) { ++by_kind[static_cast<size_t>(anomaly)]; }
  [[nodiscard]] int64_t operator[](Anomaly anomaly) const { return by_kind[static_cast<size_t>(anomaly)]; }
  /// Return the number of anomalies of every kind together.
  [[nodiscard]] int64_t total() const;
  /// Return {name: count} for every kind, zeros included, in declaration order.
  [[nodiscard]] nlohmann::ordered_json ToJson() const;
};

}  // namespace tickforge::book
