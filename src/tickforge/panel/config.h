// Panel settings from a pipeline YAML file (docs/panel.md): the seed's
// `intelligent_training.lazy_loading` keys `use_float32` and `streaming_collect`, and an optional
// `panel:` section with every PanelOptions key.
#pragma once

#include <string>

#include "tickforge/panel/panel.h"
#include "tickforge/util/config.h"
#include "tickforge/util/status.h"

namespace tickforge::panel {

/// Apply the panel keys of the YAML (or JSON) file at `path` onto `options`. Other sections of a
/// pipeline file are left alone; an unknown key inside `panel:` is an error naming it.
[[nodiscard]] Status ApplyPipelineConfig(const std::string& path, PanelOptions* options);

/// Return the table of the keys a `panel:` section (and the Python keywords) accept.
[[nodiscard]] const config::Table<PanelOptions>& PanelOptionsTable();

/// Apply one `key=value` setting (a `panel:` key; the value is read as YAML).
[[nodiscard]] Status ApplyPanelSetting(const std::string& assignment, PanelOptions* options);

}  // namespace tickforge::panel
