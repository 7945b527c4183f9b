// Writing rendered images for people and for numpy: .npy arrays and PNG heat maps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge::features {

/// Write a float32 C-order array with the given shape as a .npy file (atomically).
[[nodiscard]] Status WriteNpy(const std::filesystem::path& path, const float* data,
                              const std::vector<int64_t>& shape);

/// Write `planes` images of rows × cols values in [-1, 1] as one PNG, side by side with a gap,
/// on a diverging palette: negative (bid-heavy) blue, zero white, positive (ask-heavy) red.
/// Grid row 0 is the top pixel row.
[[nodiscard]] Status WriteHeatmapPng(const std::filesystem::path& path, const float* data, int planes, int rows,
                                     int cols);

}  // namespace tickforge::features
