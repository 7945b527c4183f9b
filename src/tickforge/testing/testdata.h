// Where tests find the vendor files of shared/testdata: $TICKFORGE_TESTDATA, else the default
// the build recorded. Tests skip with a clear message when the folder is absent.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace tickforge::testing {

/// Return the test data folder, or an empty path when it does not exist.
inline std::filesystem::path TestDataDir() {
  const char* env = std::getenv("TICKFORGE_TESTDATA");
#ifdef TICKFORGE_DEFAULT_TESTDATA
  std::filesystem::path dir = env != nullptr ? env : TICKFORGE_DEFAULT_TESTDATA;
#else
  std::filesystem::path dir = env != nullptr ? env : "";
#endif
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) ? dir : std::filesystem::path();
}

/// Return the files under `sub` of the test data whose names contain `needle`, sorted.
inline std::vector<std::filesystem::path> TestDataFiles(const std::string& sub, const std::string& needle) {
  std::vector<std::filesystem::path> out;
  const auto dir = TestDataDir();
  if (dir.empty() || !std::filesystem::is_directory(dir / sub)) return out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / sub)) {
    if (entry.is_regular_file() && entry.path().filename().string().find(needle) != std::string::npos) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tickforge::testing

#define TICKFORGE_SKIP_WITHOUT_TESTDATA()                                                     \
  if (::tickforge::testing::TestDataDir().empty())                                            \
  GTEST_SKIP() << "shared test data not found: set TICKFORGE_TESTDATA or check out ../shared/testdata"
