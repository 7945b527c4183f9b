// The Python module's parts, one per engine module; module.cc calls each Bind function once.
// Each file converts types and parses its own options; errors go through errors.h, tables
// through arrow_stream.h.
#pragma once

#include <nanobind/nanobind.h>

#include <string>
#include <vector>

#include "tickforge/features/depth_image.h"

namespace tickforge::python {

/// open_dbn, read_dbn_metadata, dbn_to_parquet.
void BindDbn(nanobind::module_& m);
/// open_book, build_books, replay_book.
void BindBook(nanobind::module_& m);
/// synth_dbn, synth_binance.
void BindSynth(nanobind::module_& m);
/// label_fit, label_build, label_run, compute_labels.
void BindLabel(nanobind::module_& m);
/// render.
void BindFeatures(nanobind::module_& m);
/// open_binance.
void BindBinance(nanobind::module_& m);
/// The Loader class.
void BindLoader(nanobind::module_& m);
/// The PanelBuilder class.
void BindPanel(nanobind::module_& m);
/// The Store class, convert_consolidated, memory_pool_stats, write_flat_parquet.
void BindStore(nanobind::module_& m);
/// option_defaults: the defaults of every option struct.
void BindConfig(nanobind::module_& m);

}  // namespace tickforge::python
