#include "tickforge/book/anomaly.h"

namespace tickforge::book {
namespace {

struct Names {
  std::string_view name;
  std::string_view description;
};

constexpr std::array<Names, kAnomalyKinds> kNames = {{
    {"", ""},
    {"unknown_cancel", "a Cancel of an order id the book does not hold"},
    {"unknown_modify", "a Modify of an order id the book does not hold"},
    {"negative_level", "a Cancel of more than the order holds"},
    {"sequence_backwards", "a sequence number below the book's previous one"},
    {"duplicate_add", "an Add of an order id the book already holds"},
    {"side_change", "a Modify that moves an order to the other side"},
    {"no_side", "an Add or Modify without a side"},
    {"unknown_action", "an unknown action"},
    {"lobster_mismatch", "a LOBSTER message whose levels differ from the orderbook file's row"},
}};

}  // namespace

std::string_view AnomalyName(Anomaly anomaly) { return kNames[static_cast<size_t>(anomaly)].name; }

std::string_view AnomalyDescription(Anomaly anomaly) { return kNames[static_cast<size_t>(anomaly)].description; }

int64_t AnomalyCounts::total() const {
  int64_t n = 0;
  for (size_t i = 1; i < by_kind.size(); ++i) n += by_kind[i];
  return n;
}

nlohmann::ordered_json AnomalyCounts::ToJson() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (int i = 1; i < kAnomalyKinds; ++i) out[std::string(kNames[static_cast<size_t>(i)].name)] = by_kind[static_cast<size_t>(i)];
  return out;
}

}  // namespace tickforge::book
