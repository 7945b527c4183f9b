"""The end-to-end demo `make demo` runs on generated data:

1. write multi-symbol, multi-day MBP-10 DBN files (`tickforge synth dbn`);
2. convert one day to Parquet and inspect it (`tickforge dbn inspect / to-parquet`);
3. `tickforge pipeline run pipeline.yaml`: ingest three days and generated Binance dumps into
   the unified store, fit thresholds on the early days of its mbp10 snapshot and commit labeled
   symbol datasets back as `labeled/fx` with their lineage; run it again (nothing to do); then
   a fourth day lands and the next run ingests it and extends `labeled/fx` with the recorded
   thresholds (`label update`); scan one symbol back (`tickforge store ...`);
4. order-level flow to labels: generate Databento MBO days (`tickforge synth mbo`), rebuild
   their books into MBP-10 rows (`tickforge book build`), label those rows and draw a few
   batches of depth images from them;
5. train a small CNN on depth images through the class-uniform loader for a few hundred steps
   on the CPU, printing loss, throughput and per-batch class balance;
6. write PNGs of sample depth images and of the class distribution.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path("demo-output")
STEPS = 200
IMAGE = dict(time_bins=100, ticks_per_bin=50)  # 402 x 100 images over 5,000-row windows
LABEL = dict(lookback_rows=2000, lookforward_input=2000, lookforward_offset=200, nbins=5,
             jump_size=50, min_symbol_samples=10_000, currency="FX")


def run(*args: str) -> None:
    print("$", " ".join(args), flush=True)
    subprocess.run(args, check=True)


def main() -> None:
    global OUT, STEPS
    parser = argparse.ArgumentParser(description="The end-to-end demo on generated data.")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (replaced)")
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps")
    args = parser.parse_args()
    OUT, STEPS = args.out, args.steps

    import numpy as np
    import torch
    from torch import nn

    import tickforge

    shutil.rmtree(OUT, ignore_errors=True)
    cli = str(tickforge.native_cli())  # $TICKFORGE_CLI for a development build
    start = time.perf_counter()
    run(cli, "synth", "dbn", "--symbols", "4", "--days", "4", "--rows-per-day", "200000",
        "--seed", "42", "--out", str(OUT / "dbn"))
    files = sorted(str(p) for p in (OUT / "dbn").glob("*.dbn.zst"))
    run(cli, "dbn", "inspect", files[0])
    run(cli, "dbn", "to-parquet", files[0], "--out", str(OUT / "parquet"))
    run(cli, "synth", "binance", "--out", str(OUT / "binance"), "--symbols", "3", "--days", "2",
        "--kinds", "klines,aggtrades", "--aggtrades-per-minute", "10", "--seed", "7")
    # The pipeline file: what lands in inbox/ is ingested into the store, and labeled/fx is
    # built from the store's mbp10 snapshot (first run) or updated with its thresholds.
    inbox = OUT / "inbox"
    inbox.mkdir(parents=True)
    for f in files[:3]:
        shutil.copy(f, inbox)
    (OUT / "label.json").write_text(json.dumps(LABEL, indent=2))
    pipeline = OUT / "pipeline.yaml"
    pipeline.write_text("store: store\ningest: [inbox, binance]\nname: fx\ndataset: mbp10\nlabel_config: label.json\n")
    run(cli, "pipeline", "run", str(pipeline))  # ingest three days, fit and build labeled/fx
    run(cli, "pipeline", "run", str(pipeline))  # again: nothing new, nothing to do
    shutil.copy(files[3], inbox)  # a new day lands
    run(cli, "pipeline", "run", str(pipeline))  # ingest it, extend labeled/fx (no refit)
    store = OUT / "store"
    run(cli, "store", "info", str(store))
    run(cli, "store", "scan", str(store), "klines", "--columns", "timestamp,close,symbol",
        "--filter", "symbol=BTCUSDT", "--limit", "3")
    run(cli, "store", "log", str(store))
    labeled = dict(store=store, dataset="labeled/fx")

    # Order-level flow: MBO -> books -> labels -> the loader, on two generated instruments.
    run(cli, "synth", "mbo", "--symbols", "2", "--publishers", "1", "--days", "3", "--messages-per-day", "300000",
        "--seed", "5", "--out", str(OUT / "mbo"))
    run(cli, "book", "build", *sorted(str(p) for p in (OUT / "mbo").glob("*.mbo.dbn.zst")), "--out", str(OUT / "books"))
    (OUT / "label_mbo.json").write_text(json.dumps(dict(lookback_rows=500, lookforward_input=500,
                                                        lookforward_offset=50, nbins=3, min_symbol_samples=1000)))
    run(cli, "label", "run", "--config", str(OUT / "label_mbo.json"), "--input", str(OUT / "books"),
        "--out", str(OUT / "labeled-mbo"))
    from_books = tickforge.RepresentDataLoader(OUT / "labeled-mbo", 16, "volume", seed=1, **IMAGE)
    for i, (features, labels) in zip(range(3), from_books):
        print(f"books -> labels -> loader: batch {i} images {tuple(features.shape)} "
              f"classes {np.bincount(labels.numpy(), minlength=from_books.num_classes).tolist()}")

    torch.manual_seed(0)
    train = tickforge.RepresentDataLoader(batch_size=32, features=["volume", "trade_counts"],
                                          split="train", seed=0, **labeled, **IMAGE)
    print(f"training on labeled/fx version {train.store_version}: lineage config sha256 "
          f"{train.lineage['config_sha256'][:12]}, source {train.lineage['source']['dataset']}"
          f"@{train.lineage['source']['version']}")
    nbins = train.num_classes
    model = nn.Sequential(
        nn.Conv2d(2, 8, kernel_size=5, stride=2), nn.ReLU(),
        nn.Conv2d(8, 16, kernel_size=5, stride=2), nn.ReLU(),
        nn.AdaptiveAvgPool2d((8, 4)), nn.Flatten(),
        nn.Linear(16 * 8 * 4, 64), nn.ReLU(), nn.Linear(64, nbins),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    print(f"\ntraining a small CNN for {STEPS} steps: {len(train)} batches per epoch, "
          f"{nbins} classes, images (2, 402, {IMAGE['time_bins']})")
    step, waited, trained = 0, 0.0, 0.0
    while step < STEPS:
        batches = iter(train)
        while step < STEPS:
            t0 = time.perf_counter()
            try:
                features, labels = next(batches)
            except StopIteration:
                break
            t1 = time.perf_counter()
            loss = loss_fn(model(features), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            waited += t1 - t0
            trained += time.perf_counter() - t1
            step += 1
            if step % 50 == 0 or step == 1:
                counts = np.bincount(labels.numpy(), minlength=nbins)
                print(f"step {step:4d}  loss {loss.item():.3f}  class counts {counts.tolist()}  "
                      f"loader wait {1000 * waited / step:5.1f} ms/batch")
    print(f"loader delivered {32 * step / max(waited, 1e-9):,.0f} samples/s of waiting time; "
          f"training took {trained:.1f} s; cache {train.cache_stats()}")

    val = tickforge.RepresentDataLoader(batch_size=64, features=["volume", "trade_counts"],
                                        split="val", seed=0, shuffle=False, **labeled, **IMAGE)
    correct = total = 0
    with torch.no_grad():
        for features, labels in val:
            correct += (model(features).argmax(1) == labels).sum().item()
            total += len(labels)
    print(f"validation accuracy {correct / max(total, 1):.3f} on {total} samples "
          f"(chance {1 / nbins:.3f}; the generated prices are a random walk)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    features, labels, index = next(iter(tickforge.RepresentDataLoader(
        batch_size=6, features=["volume"], seed=3, return_index=True, **labeled, **IMAGE)))
    fig, axes = plt.subplots(2, 3, figsize=(12, 7))
    for ax, image, label, symbol in zip(axes.flat, features, labels, index["symbol"]):
        ax.imshow(image.numpy(), aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_title(f"{symbol}  class {label.item()}")
        ax.set_xlabel("time bin")
        ax.set_ylabel("price row")
    fig.tight_layout()
    fig.savefig(OUT / "depth_images.png", dpi=80)
    report = json.loads((store / "labeled" / "fx" / f"v{train.store_version:06d}" / "build_report.json").read_text())
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.4
    fit = np.sum([s["classes_fit"] for s in report["symbols"].values() if "classes_fit" in s], axis=0)
    rest = np.sum([s["classes_rest"] for s in report["symbols"].values() if "classes_rest" in s], axis=0)
    x = np.arange(len(fit))
    ax.bar(x - width / 2, fit / fit.sum(), width, label="fit files")
    ax.bar(x + width / 2, rest / rest.sum(), width, label="later files")
    ax.axhline(1 / len(fit), color="gray", linestyle="--", label="uniform")
    ax.set_xlabel("class")
    ax.set_ylabel("share of labeled rows")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "class_distribution.png", dpi=80)
    print(f"\nwrote {OUT}/depth_images.png and {OUT}/class_distribution.png")
    print(f"demo finished in {time.perf_counter() - start:.1f} s; outputs in {OUT}/")


if __name__ == "__main__":
    main()
