// Label's public face: Fit, Build and Run over the inputs' split (split_internal.h), the build
// report that gathers the per-symbol builds, the config check against thresholds.json, and
// the summary a person reads.
#include "tickforge/label/label.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <atomic>
#include <chrono>
#include <set>

#include "tickforge/dataset/dataset.h"
#include "tickforge/label/build_internal.h"
#include "tickforge/label/fit_internal.h"
#include "tickforge/label/split_internal.h"
#include "tickforge/util/io.h"

namespace tickforge::label {
namespace internal {

// Return the boundaries `thresholds` holds for `symbol`: the global set, or the symbol's own.
Result<std::vector<double>> BoundariesFrom(const nlohmann::ordered_json& thresholds, const std::string& symbol) {
  const auto& b = thresholds.at("boundaries");
  if (b.is_array()) return b.get<std::vector<double>>();
  if (b.contains(symbol)) return b.at(symbol).get<std::vector<double>>();
  return Status::KeyError("no thresholds for ", symbol);
}

// Return the mid-price columns `thresholds` records, with `symbol`'s α; none when the symbol
// has no α of its own (per-symbol mode, too few fit rows).
Result<std::vector<MidColumn>> MidColumnsFrom(const nlohmann::ordered_json& thresholds,
                                                        const LabelConfig& config, const std::string& symbol) {
  std::vector<MidColumn> out;
  const auto specs = config.MidLabels();
  if (specs.empty()) return out;
  if (!thresholds.contains("midprice")) return Status::Invalid("thresholds.json has no mid-price labels (refit it)");
  const auto& mid = thresholds.at("midprice");
  for (const auto& spec : specs) {
    if (!mid.contains(spec.Column())) return Status::Invalid("thresholds.json has no ", spec.Column(), " (refit it)");
    const auto& alpha = mid.at(spec.Column()).at("alpha");
    if (alpha.is_number()) {
      out.push_back({spec, alpha.get<double>()});
    } else if (alpha.contains(symbol)) {
      out.push_back({spec, alpha.at(symbol).get<double>()});
    } else {
      return Status::KeyError("no mid-price α for ", symbol);
    }
  }
  return out;
}

// Thresholds decide how movements and classes are computed; a config that says otherwise is
// an error rather than silently losing to one side.
Result<LabelConfig> ConfigForThresholds(const nlohmann::ordered_json& thresholds, const LabelConfig& given) {
  LabelConfig fitted;
  ARROW_RETURN_NOT_OK(ApplyJson(thresholds.at("config"), &fitted, "thresholds.json config"));
  LabelConfig out = given;
  for (const char* key : {"lookback_rows", "lookforward_input", "lookforward_offset", "nbins", "mode",
                          "min_price", "max_price", "midprice_labels", "midprice_horizons", "midprice_alpha",
                          "midprice_smoothing", "midprice_downsample"}) {
    const auto theirs = fitted.ToJson()[key];
    if (given.explicit_keys.count(key) && given.ToJson()[key] != theirs) {
      return Status::Invalid("config sets ", key, " = ", given.ToJson()[key].dump(), " but thresholds.json was fitted with ",
                             theirs.dump(), "; labels must use the fitted value");
    }
  }
  out.lookback_rows = fitted.lookback_rows;
  out.lookforward_input = fitted.lookforward_input;
  out.lookforward_offset = fitted.lookforward_offset;
  out.nbins = fitted.nbins;
  out.mode = fitted.mode;
  out.min_price = fitted.min_price;
  out.max_price = fitted.max_price;
  out.midprice_labels = fitted.midprice_labels;
  out.midprice_horizons = fitted.midprice_horizons;
  out.midprice_alpha = fitted.midprice_alpha;
  out.midprice_smoothing = fitted.midprice_smoothing;
  out.midprice_downsample = fitted.midprice_downsample;
  return out;
}

std::vector<bool> FitFileFlags(const Workspace& ws, const nlohmann::ordered_json& thresholds) {
  std::set<std::string> fit_names;
  for (const auto& f : thresholds.at("fit_files")) fit_names.insert(f.at("name").get<std::string>());
  std::vector<bool> file_in_fit(ws.files.size());
  for (const auto& f : ws.files) file_in_fit[static_cast<size_t>(f.index)] = fit_names.count(f.name) > 0;
  return file_in_fit;
}

Result<nlohmann::ordered_json> BuildSymbolEntry(const Workspace& ws, const SymbolInfo& info,
                                                const nlohmann::ordered_json& thresholds, const LabelConfig& config,
                                                const std::vector<bool>& file_in_fit,
                                                const std::filesystem::path& out_dir) {
  const std::string& name = info.symbol;
  const bool per_symbol = config.mode == Mode::kPerSymbol;
  nlohmann::ordered_json entry = {{"rows_in", info.rows_in}, {"valid", info.valid}};
  if (info.valid > 0) {
    entry["first_ts_event"] = info.first_ts;
    entry["last_ts_event"] = info.last_ts;
  }
  auto boundaries = BoundariesFrom(thresholds, name);
  auto mid = MidColumnsFrom(thresholds, config, name);
  if (info.valid < config.min_symbol_samples) {
    entry["skipped"] = fmt::format("{} valid rows, fewer than min_symbol_samples {}", info.valid,
                                   config.min_symbol_samples);
  } else if (!boundaries.ok()) {
    entry["skipped"] = "no thresholds were fitted for this symbol";
  } else if (!mid.ok() && mid.status().IsKeyError()) {
    entry["skipped"] = "no mid-price α was fitted for this symbol";
  } else if (!mid.ok()) {
    return mid.status();
  } else {
    int64_t fit_rows = 0;
    if (per_symbol && thresholds.contains("fit_rows") && thresholds["fit_rows"].contains(name)) {
      fit_rows = thresholds["fit_rows"][name].get<int64_t>();
    }
    const auto in_fit = [&](int32_t file, int64_t t) {
      return per_symbol ? t < fit_rows : static_cast<bool>(file_in_fit[static_cast<size_t>(file)]);
    };
    const auto file_name = dataset::FileName(config.currency, name);
    ARROW_ASSIGN_OR_RAISE(auto result,
                          BuildSymbol(info, *boundaries, config, in_fit, ws.schema, out_dir / file_name, *mid, ws.size_scale));
    entry["labeled"] = result.labeled;
    entry["classes_fit"] = result.classes_fit;
    entry["classes_rest"] = result.classes_rest;
    if (!mid->empty()) {
      auto fit = nlohmann::ordered_json::object(), rest = nlohmann::ordered_json::object();
      for (size_t c = 0; c < mid->size(); ++c) {
        fit[(*mid)[c].spec.Column()] = result.mid_fit[c];
        rest[(*mid)[c].spec.Column()] = result.mid_rest[c];
      }
      entry["midprice_classes_fit"] = fit;
      entry["midprice_classes_rest"] = rest;
    }
    entry["output"] = file_name;
    entry["output_bytes"] = result.output_bytes;
  }
  return entry;
}

nlohmann::ordered_json BuildReport(const Workspace& ws, const nlohmann::ordered_json& thresholds,
                                   const LabelConfig& config, nlohmann::ordered_json symbols, double seconds) {
  std::set<std::string> fit_names;
  for (const auto& f : thresholds.at("fit_files")) fit_names.insert(f.at("name").get<std::string>());
  const std::vector<bool> file_in_fit = FitFileFlags(ws, thresholds);
  int64_t rows_in = 0, valid = 0, labeled = 0, datasets = 0;
  for (const auto& [name, info] : ws.symbols) {
    rows_in += info.rows_in;
    valid += info.valid;
  }
  for (const auto& [name, entry] : symbols.items()) {
    if (!entry.contains("output")) continue;
    labeled += entry.at("labeled").get<int64_t>();
    ++datasets;
  }
  nlohmann::ordered_json report;
  report["mode"] = std::string(ModeName(config.mode));
  report["nbins"] = config.nbins;
  report["files"] = nlohmann::ordered_json::array();
  for (const auto& f : ws.files) {
    report["files"].push_back({{"name", f.name}, {"start", f.start}, {"fit", static_cast<bool>(file_in_fit[static_cast<size_t>(f.index)])}});
  }
  auto bad = nlohmann::ordered_json::array();
  for (const auto& b : ws.bad_files) bad.push_back({{"path", b.path}, {"error", b.error}});
  report["bad_files"] = bad;
  report["fit_files"] = std::vector<std::string>(fit_names.begin(), fit_names.end());
  report["symbols"] = std::move(symbols);
  report["totals"] = {{"rows_in", rows_in}, {"valid", valid}, {"labeled", labeled}, {"datasets", datasets}};
  report["seconds"] = seconds;
  report["rows_per_second"] = seconds > 0 ? static_cast<double>(rows_in) / seconds : 0.0;
  report["config"] = config.ToJson();
  return report;
}

}  // namespace internal

namespace {

using internal::ConfigForThresholds;
using internal::FitOn;
using internal::Split;
using internal::Workspace;

using Clock = std::chrono::steady_clock;

// Remove `paths` (what a stopped build wrote) and return `status`.
Status RemoveWritten(const std::vector<std::filesystem::path>& paths, const Status& status) {
  std::error_code ec;
  for (const auto& path : paths) std::filesystem::remove(path, ec);
  return status;
}

// Build the dataset of every symbol with enough valid rows and thresholds; return the report.
Result<nlohmann::ordered_json> BuildOn(const Workspace& ws, const nlohmann::ordered_json& thresholds,
                                       const LabelConfig& config, const std::filesystem::path& out_dir,
                                       Clock::time_point start, const BuildOptions& options) {
  const std::vector<bool> file_in_fit = internal::FitFileFlags(ws, thresholds);
  auto symbols = nlohmann::ordered_json::object();
  ProgressReporter progress(options.progress);
  // A stop asked for by the progress callback takes back the datasets this build wrote.
  std::vector<std::filesystem::path> written;
  if (progress.enabled()) {
    int64_t valid_total = 0;
    for (const auto& [name, info] : ws.symbols) valid_total += info.valid;
    ARROW_RETURN_NOT_OK(progress.Begin("build", static_cast<int64_t>(ws.symbols.size()), valid_total));
  }
  for (const auto& [name, info] : ws.symbols) {
    ARROW_ASSIGN_OR_RAISE(auto entry, internal::BuildSymbolEntry(ws, info, thresholds, config, file_in_fit, out_dir));
    if (entry.contains("output")) written.push_back(out_dir / entry["output"].get<std::string>());
    symbols[name] = std::move(entry);
    if (Status status = progress.Add(info.valid, 0, 1); !status.ok()) return RemoveWritten(written, status);
  }
  if (Status status = progress.End(); !status.ok()) return RemoveWritten(written, status);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return internal::BuildReport(ws, thresholds, config, std::move(symbols), seconds);
}

// Fit the thresholds as a "fit" stage: its rows are the fit samples.
Result<nlohmann::ordered_json> FitStage(const Workspace& ws, const LabelConfig& config, const BuildOptions& options) {
  ProgressReporter progress(options.progress);
  ARROW_RETURN_NOT_OK(progress.Begin("fit"));
  ARROW_ASSIGN_OR_RAISE(auto doc, FitOn(ws, config));
  ARROW_RETURN_NOT_OK(progress.Add(doc.value("sample_size", int64_t{0})));
  ARROW_RETURN_NOT_OK(progress.End());
  return doc;
}

Status WriteJson(const std::filesystem::path& path, const nlohmann::ordered_json& doc) {
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(path));
  const std::string text = doc.dump(2) + "\n";
  ARROW_RETURN_NOT_OK(file->stream()->Write(text.data(), static_cast<int64_t>(text.size())));
  return file->Commit();
}

constexpr std::string_view kScratchPrefix = "_tickforge-label-";

// Return whether process `pid` is gone (so what it named after itself is left over).
bool ProcessGone(long pid) { return pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH); }

// Remove what processes no longer running left beside `near` (killed runs): scratch folders
// and the hidden temporary files of outputs they were writing (AtomicFile's ".NAME.tmp-PID-N").
void RemoveStaleScratch(const std::filesystem::path& near) {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(near, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    long pid = 0;
    if (name.starts_with(kScratchPrefix)) {
      pid = std::strtol(name.c_str() + kScratchPrefix.size(), nullptr, 10);
    } else if (const auto tmp = name.rfind(".tmp-"); name.starts_with(".") && tmp != std::string::npos) {
      pid = std::strtol(name.c_str() + tmp + 5, nullptr, 10);
    } else {
      continue;
    }
    if (ProcessGone(pid)) {
      std::error_code ignored;
      std::filesystem::remove_all(it->path(), ignored);
    }
  }
}

std::filesystem::path ScratchDir(const std::filesystem::path& near) { return ScratchDirNear(near); }

// The build's scratch folder inside `out_dir`: `_intermediate` when kept (the previous one
// replaced), else one per process, so a run killed before it could remove its own leaves a
// folder the next run into `out_dir` removes.
std::filesystem::path IntermediateDir(const std::filesystem::path& out_dir, bool keep) {
  std::error_code ec;
  std::filesystem::remove_all(out_dir / "_intermediate", ec);
  RemoveStaleScratch(out_dir);
  return keep ? out_dir / "_intermediate" : ScratchDir(out_dir);
}

}  // namespace


Result<nlohmann::ordered_json> FitInputs(const std::vector<InputFile>& files, const LabelConfig& config,
                                         const std::filesystem::path& thresholds_path, const BuildOptions& options) {
  ARROW_RETURN_NOT_OK(config.Validate());
  // Every file is split, not only the fit files: the seeded draws number symbols over all inputs.
  // The fit reads only the columns labeling needs: no book beyond the best prices.
  LabelConfig scratch = config;
  scratch.keep_intermediate = false;
  const auto parent = thresholds_path.has_parent_path() ? thresholds_path.parent_path() : ".";
  ARROW_ASSIGN_OR_RAISE(auto ws, Split(files, scratch, ScratchDir(parent), options, internal::LabelColumns()));
  ARROW_ASSIGN_OR_RAISE(auto doc, FitStage(*ws, config, options));
  ARROW_RETURN_NOT_OK(WriteJson(thresholds_path, doc));
  return doc;
}

Result<nlohmann::ordered_json> BuildInputs(const std::vector<InputFile>& files, const nlohmann::ordered_json& thresholds,
                                           const LabelConfig& given, const std::filesystem::path& out_dir,
                                           const BuildOptions& options) {
  const auto start = Clock::now();
  ARROW_ASSIGN_OR_RAISE(auto config, ConfigForThresholds(thresholds, given));
  ARROW_RETURN_NOT_OK(config.Validate());
  ARROW_ASSIGN_OR_RAISE(auto ws, Split(files, config, IntermediateDir(out_dir, config.keep_intermediate), options));
  ARROW_ASSIGN_OR_RAISE(auto report, BuildOn(*ws, thresholds, config, out_dir, start, options));
  ARROW_RETURN_NOT_OK(WriteJson(out_dir / "build_report.json", report));
  return report;
}

Result<nlohmann::ordered_json> RunInputs(const std::vector<InputFile>& files, const LabelConfig& config,
                                         const std::filesystem::path& out_dir, const BuildOptions& options) {
  const auto start = Clock::now();
  ARROW_RETURN_NOT_OK(config.Validate());
  ARROW_ASSIGN_OR_RAISE(auto ws, Split(files, config, IntermediateDir(out_dir, config.keep_intermediate), options));
  ARROW_ASSIGN_OR_RAISE(auto thresholds, FitStage(*ws, config, options));
  ARROW_RETURN_NOT_OK(WriteJson(out_dir / "thresholds.json", thresholds));
  ARROW_ASSIGN_OR_RAISE(auto report, BuildOn(*ws, thresholds, config, out_dir, start, options));
  report["thresholds"] = "thresholds.json";
  ARROW_RETURN_NOT_OK(WriteJson(out_dir / "build_report.json", report));
  return report;
}

Result<nlohmann::ordered_json> Fit(const std::vector<std::string>& inputs, const LabelConfig& config,
                                   const std::filesystem::path& thresholds_path, const BuildOptions& options) {
  ARROW_RETURN_NOT_OK(config.Validate());
  ARROW_ASSIGN_OR_RAISE(auto files, ListInputs(inputs));
  return FitInputs(files, config, thresholds_path, options);
}

Result<nlohmann::ordered_json> Build(const std::vector<std::string>& inputs, const nlohmann::ordered_json& thresholds,
                                     const LabelConfig& given, const std::filesystem::path& out_dir,
                                     const BuildOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto files, ListInputs(inputs));
  return BuildInputs(files, thresholds, given, out_dir, options);
}

Result<nlohmann::ordered_json> Run(const std::vector<std::string>& inputs, const LabelConfig& config,
                                   const std::filesystem::path& out_dir, const BuildOptions& options) {
  ARROW_RETURN_NOT_OK(config.Validate());
  ARROW_ASSIGN_OR_RAISE(auto files, ListInputs(inputs));
  return RunInputs(files, config, out_dir, options);
}

std::filesystem::path ScratchDirNear(const std::filesystem::path& near) {
  static std::atomic<int> counter{0};
  RemoveStaleScratch(near);
  return near / fmt::format("{}{}-{}", kScratchPrefix, ::getpid(), counter++);
}

std::string Summarize(const nlohmann::ordered_json& report) {
  std::string out;
  const auto& totals = report.at("totals");
  out += fmt::format("{} rows in, {} valid, {} labeled; {} datasets in {:.2f} s ({:.0f} rows/s)\n",
                     totals.at("rows_in").get<int64_t>(), totals.at("valid").get<int64_t>(),
                     totals.at("labeled").get<int64_t>(), totals.at("datasets").get<int64_t>(),
                     report.at("seconds").get<double>(), report.at("rows_per_second").get<double>());
  const auto share = [](const std::vector<int64_t>& counts) {
    int64_t total = 0;
    for (auto c : counts) total += c;
    std::string s;
    for (auto c : counts) s += fmt::format("{:>5.1f}", total ? 100.0 * static_cast<double>(c) / static_cast<double>(total) : 0.0);
    return s;
  };
  for (const auto& [name, entry] : report.at("symbols").items()) {
    if (entry.contains("skipped")) {
      out += fmt::format("  {:<10} skipped: {}\n", name, entry.at("skipped").get<std::string>());
      continue;
    }
    out += fmt::format("  {:<10} {:>10} rows  class % fit:  {}\n", name, entry.at("labeled").get<int64_t>(),
                       share(entry.at("classes_fit").get<std::vector<int64_t>>()));
    out += fmt::format("  {:<10} {:>10}       class % rest: {}\n", "", "",
                       share(entry.at("classes_rest").get<std::vector<int64_t>>()));
  }
  for (const auto& bad : report.at("bad_files")) {
    out += fmt::format("  skipped bad file {}: {}\n", bad.at("path").get<std::string>(), bad.at("error").get<std::string>());
  }
  return out;
}

}  // namespace tickforge::label
