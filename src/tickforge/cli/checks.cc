#include "tickforge/cli/checks.h"

#include <charconv>
#include <string>

namespace tickforge::cli {
namespace {

CLI::Validator AtLeast(double least, const std::string& rule, const std::string& description) {
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

CLI::Validator NonNegative() { return AtLeast(0, "0 or more", "NONNEGATIVE"); }

CLI::Validator Positive() { return AtLeast(1, "1 or more", "POSITIVE"); }

}  // namespace tickforge::cli
