#include "tickforge/loader/options.h"

#include "tickforge/features/options.h"

#include <string>
#include <utility>
#include <vector>

namespace tickforge::loader {

const config::Table<LoaderConfig>& LoaderConfigTable() {
  static const auto* table = [] {
    using config::Null;
    using nlohmann::json;
    auto* t = new config::Table<LoaderConfig>();
    const auto engine = [](auto member) {
      return [member](LoaderConfig& c) -> auto& { return c.engine.*member; };
    };
    t->Field("parquet_dir", engine(&LoaderOptions::parquet_dir), "folder of labeled datasets")
        .Field("dataset_files", engine(&LoaderOptions::dataset_files),
               "labeled dataset files to read instead of parquet_dir's (a store snapshot's)")
        .Field("batch_size", engine(&LoaderOptions::batch_size), "samples per batch")
        .Include(features::ImageOptionsTable(), [](LoaderConfig& c) -> auto& { return c.engine.image; })
        .Custom(
            "shuffle",
            [](const json& value, LoaderConfig* c, std::string_view source, std::string_view key) -> Status {
              if (value.is_string() && value.get<std::string>() == "local") {
                c->engine.shuffle = c->engine.locality = true;
                return Status::OK();
              }
              if (!value.is_boolean()) return config::WrongType(source, key, "true, false or 'local'", value);
              c->engine.shuffle = value.get<bool>();
              c->engine.locality = false;
              return Status::OK();
            },
            [](const LoaderConfig& c) -> nlohmann::ordered_json {
              if (c.engine.locality) return "local";
              return c.engine.shuffle;
            },
            "seeded order; 'local' draws segment block by segment block")
        .Field("sample_fraction", engine(&LoaderOptions::sample_fraction), "share of the samples kept")
        .Field("symbols", engine(&LoaderOptions::symbols), "symbols to serve (null: all)", Null::kClear)
        .Field("seed", engine(&LoaderOptions::seed), "seed of the sampling and the plans")
        .Field("split", engine(&LoaderOptions::split), "train, val or test (null: all samples)", Null::kClear)
        .Custom(
            "split_fractions",
            [](const json& value, LoaderConfig* c, std::string_view source, std::string_view key) -> Status {
              std::vector<double> shares;
              ARROW_RETURN_NOT_OK(config::Read(value, source, key, &shares));
              if (shares.size() != 3) {
                return config::WrongType(source, key, "three shares (train, val, test)", value);
              }
              c->engine.split_fractions = {shares[0], shares[1], shares[2]};
              return Status::OK();
            },
            [](const LoaderConfig& c) -> nlohmann::ordered_json { return c.engine.split_fractions; },
            "train, val and test shares of each symbol's time")
        .Field("stride", engine(&LoaderOptions::stride), "rows between samples (null: ticks_per_bin)", Null::kClear)
        .Field("rank", engine(&LoaderOptions::rank), "this process's rank")
        .Field("world_size", engine(&LoaderOptions::world_size), "processes sharing the samples")
        .Field("cache_bytes", engine(&LoaderOptions::cache_bytes), "memory budget of the loader")
        .Field("threads", engine(&LoaderOptions::threads), "render threads")
        .Field("prefetch", engine(&LoaderOptions::prefetch), "batches rendered ahead")
        .Field("representation", engine(&LoaderOptions::representation),
               "depth_image, or snapshots: (window, 4*levels) book matrices")
        .Field("window", engine(&LoaderOptions::window), "snapshots: rows per window (T)")
        .Field("levels", engine(&LoaderOptions::levels), "snapshots: book levels per row (L)")
        .Field("label_column", engine(&LoaderOptions::label_column),
               "label served, e.g. label_deeplob_k50 (null: classification_label)", Null::kClear)
        .Field("channel_dim", engine(&LoaderOptions::channel_dim), "snapshots: batches (B, 1, T, 4*L)")
        .Choice("normalization", engine(&LoaderOptions::normalization),
                std::vector<std::pair<std::string, Normalization>>{{"max_abs", Normalization::kMaxAbs},
                                                                   {"none", Normalization::kNone},
                                                                   {"zscore", Normalization::kZScore},
                                                                   {"zscore_5d", Normalization::kZScore5d}},
                "depth images: max_abs, none or zscore (training-split statistics); snapshots: zscore, "
                "zscore_5d (previous 5 days') or none")
        .Field("normalization_stats", engine(&LoaderOptions::normalization_stats),
               "zscore statistics file (null: the one beside the datasets)", Null::kClear)
        .Field("stats_dir", engine(&LoaderOptions::stats_dir),
               "folder of the statistics fit on the training split (null: parquet_dir)", Null::kClear)
        .Field("normalization_samples", engine(&LoaderOptions::normalization_samples),
               "training samples rendered to fit zscore statistics")
        .Choice("sampling", engine(&LoaderOptions::sampling),
                std::vector<std::pair<std::string, Sampling>>{{"class_uniform", Sampling::kClassUniform},
                                                              {"natural", Sampling::kNatural},
                                                              {"class_symbol_uniform", Sampling::kClassSymbolUniform}},
                "class_uniform, natural or class_symbol_uniform")
        .Choice("strictness", engine(&LoaderOptions::strictness),
                std::vector<std::pair<std::string, Strictness>>{{"strict", Strictness::kStrict},
                                                                {"lenient", Strictness::kLenient}},
                "strict (a bad dataset fails) or lenient (skipped, reported)")
        .Field("return_index", &LoaderConfig::return_index, "yield each batch's index too")
        .Field("pin_memory", &LoaderConfig::pin_memory, "pin batches when CUDA is available");
    return t;
  }();
  return *table;
}

Status ApplyLoaderJson(const nlohmann::json& json, LoaderConfig* config, std::string_view source) {
  if (!json.is_object()) return Status::Invalid(source, ": loader options must be a mapping of keys to values");
  nlohmann::json rest = json;
  if (const auto file = rest.find("config"); file != rest.end()) {
    if (!file->is_null()) {
      if (!file->is_string()) return config::WrongType(source, "config", "a file path", *file);
      const std::string path = file->get<std::string>();
      ARROW_ASSIGN_OR_RAISE(auto keys, config::LoadFile(path));
      ARROW_RETURN_NOT_OK(LoaderConfigTable().Apply(keys, config, path, &config->engine.explicit_keys));
    }
    rest.erase(file);
  }
  return LoaderConfigTable().Apply(rest, config, source, &config->engine.explicit_keys);
}

}  // namespace tickforge::loader
