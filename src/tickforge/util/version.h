// The tickforge version, defined once: CMake's project(VERSION) passes it to every target, and
// the wheel's metadata reads the same line of CMakeLists.txt.
#pragma once

#include <string_view>

#ifndef TICKFORGE_VERSION
#error "TICKFORGE_VERSION is set by the build (CMakeLists.txt project VERSION)"
#endif

namespace tickforge {

inline constexpr std::string_view kVersion = TICKFORGE_VERSION;

}  // namespace tickforge
