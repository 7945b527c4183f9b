// The keys of a depth image (features, time_bins, ticks_per_bin, micro_pip_size), as render(),
// the loader and their config files spell them, read onto ImageOptions, whose defaults are the
// only ones.
#pragma once

#include "tickforge/features/depth_image.h"
#include "tickforge/util/config.h"

namespace tickforge::features {

/// Return the table of the image keys; "features" takes a name or a list of names.
[[nodiscard]] const config::Table<ImageOptions>& ImageOptionsTable();

}  // namespace tickforge::features
