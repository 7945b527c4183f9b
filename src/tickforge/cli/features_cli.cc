// `tickforge features render`: one depth image of a labeled dataset, as .npy and PNG.
#include "tickforge/cli/features_cli.h"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "tickforge/cli/checks.h"
#include "tickforge/cli/format.h"
#include "tickforge/features/depth_image.h"
#include "tickforge/features/image_io.h"

namespace tickforge::cli {
namespace {

struct RenderArgs {
  std::string dataset, out_prefix;
  int64_t row = -1, ts = -1;
  std::vector<std::string> feature_names;  ///< empty: ImageOptions' default features
  features::ImageOptions image_options;
};

Status Render(RenderArgs& args) {
  auto& image_options = args.image_options;
  if (args.feature_names.empty()) {
    ARROW_ASSIGN_OR_RAISE(const auto recorded, features::DatasetImageOptions(args.dataset));
    image_options.features = recorded.features;
  } else {
    image_options.features.clear();
  }
  for (const auto& name : args.feature_names) {
    ARROW_ASSIGN_OR_RAISE(auto feature, features::FeatureFromName(name));
    image_options.features.push_back(feature);
  }
  if (args.row < 0 && args.ts < 0) return Status::Invalid("give --row or --ts");
  int64_t row = args.row;
  if (args.ts >= 0) {
    ARROW_ASSIGN_OR_RAISE(row, features::RowAtOrBefore(args.dataset, args.ts));
  }
  ARROW_ASSIGN_OR_RAISE(auto image, features::RenderDatasetRow(args.dataset, row, image_options));
  const auto planes = static_cast<int64_t>(image_options.features.size());
  std::vector<int64_t> shape = {features::kImageRows, image_options.time_bins};
  if (planes > 1) shape.insert(shape.begin(), planes);
  const auto& out_prefix = args.out_prefix;
  ARROW_RETURN_NOT_OK(features::WriteNpy(out_prefix + ".npy", image.data(), shape));
  ARROW_RETURN_NOT_OK(features::WriteHeatmapPng(out_prefix + ".png", image.data(), static_cast<int>(planes),
                                                features::kImageRows, image_options.time_bins));
  fmt::print("row {}: wrote {}.npy and {}.png\n", row, out_prefix, out_prefix);
  return Status::OK();
}

}  // namespace

void AddFeaturesCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<RenderArgs>();
  auto* features_cmd = app.add_subcommand("features", "Depth images");
  features_cmd->require_subcommand(1);
  auto* render = features_cmd->add_subcommand("render", "Write one depth image as .npy and as a PNG heat map");
  auto& image_options = args->image_options;
  render->add_option("dataset", args->dataset, "A labeled symbol dataset (label build output)")->required()->check(CLI::ExistingFile);
  auto* row_option =
      render->add_option("--row", args->row, "Last row of the sample's window")->check(NonNegative());
  render->add_option("--ts", args->ts, "Use the last row at or before this ts_event (ns since the epoch)")
      ->check(NonNegative())
      ->excludes(row_option);
  std::string default_features;
  for (auto feature : image_options.features) {
    default_features += (default_features.empty() ? "" : ",") + features::FeatureName(feature);
  }
  render->add_option("--features", args->feature_names,
                     "volume, variance, trade_counts (default: those the dataset was labeled for, else " +
                         default_features + ")")
      ->delimiter(',');
  render->add_option("--time-bins", image_options.time_bins, "T")->capture_default_str();
  render->add_option("--ticks-per-bin", image_options.ticks_per_bin, "Rows per time bin")->capture_default_str();
  render->add_option("--micro-pip-size", image_options.micro_pip_size, "Price grid step")->capture_default_str();
  render->add_option("--out", args->out_prefix, "Output path without extension (writes .npy and .png)")->required();
  render->callback(RunCommand(exit_code, [args] { return Render(*args); }));
}

}  // namespace tickforge::cli
