// Everything the engine offers to C++ callers, in pipeline order (src/README.md walks it):
// include this one header to use tickforge as a library.
#pragma once

#include "tickforge/util/config.h"
#include "tickforge/util/files.h"
#include "tickforge/util/io.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/prefetch.h"
#include "tickforge/util/random.h"
#include "tickforge/util/status.h"
#include "tickforge/util/time.h"
#include "tickforge/util/version.h"

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/encoder.h"
#include "tickforge/dbn/metadata.h"
#include "tickforge/dbn/records.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/dbn/to_parquet.h"

#include "tickforge/book/anomaly.h"
#include "tickforge/book/book.h"
#include "tickforge/book/build.h"
#include "tickforge/book/mbo.h"
#include "tickforge/book/mbo_reader.h"
#include "tickforge/book/mbp_rows.h"
#include "tickforge/book/options.h"
#include "tickforge/book/order_map.h"
#include "tickforge/book/price_levels.h"

#include "tickforge/binance/binance.h"

#include "tickforge/synth/binance.h"
#include "tickforge/synth/options.h"
#include "tickforge/synth/synth.h"

#include "tickforge/store/convert.h"
#include "tickforge/store/ingest.h"
#include "tickforge/store/manifest.h"
#include "tickforge/store/options.h"
#include "tickforge/store/store.h"

#include "tickforge/label/config.h"
#include "tickforge/label/label.h"
#include "tickforge/label/movement.h"

#include "tickforge/dataset/dataset.h"

#include "tickforge/features/depth_image.h"
#include "tickforge/features/image_io.h"
#include "tickforge/features/options.h"

#include "tickforge/loader/loader.h"
#include "tickforge/loader/options.h"

#include "tickforge/panel/config.h"
#include "tickforge/panel/panel.h"

