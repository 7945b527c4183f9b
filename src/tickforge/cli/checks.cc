#include "tickforge/cli/checks.h"

#include <charconv>
#include <string>

namespace tickforge::cli {
namespace {

CLI::Validator AtLeast(int least, const std::string& description) {
  const std::string rule = std::to_string(least) + " or more";
  return CLI::Validator(
      [least, rule](std::string& text) -> std::string {
        double value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size()) return "'" + text + "' is not a number";
        return value >= least ? std::string() : "'" + text + "' must be " + rule;
      },
      description);
}

}  // namespace

CLI::Validator NonNegative() { return AtLeast(0, "NONNEGATIVE"); }

CLI::Validator Positive() { return AtLeast(1, "POSITIVE"); }

}  // namespace tickforge::cli
