# `make demo` and `make test` set everything up on a fresh machine, then run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build/py
ASAN_BUILD := build/asan
SOURCES := $(shell find src python cmake -type f) CMakeLists.txt pyproject.toml

.PHONY: setup build wheel test test-cpp test-python test-asan test-asan-python fuzz demo bench clean

setup: $(VENV)/.setup-stamp

$(VENV)/.setup-stamp: requirements-dev.txt scripts/setup-system.sh
	scripts/setup-system.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

build: $(VENV)/.build-stamp

# One CMake tree serves the wheel, the CLI and the C++ tests; rebuilds are incremental.
$(VENV)/.build-stamp: $(VENV)/.setup-stamp $(SOURCES)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps \
	  -C cmake.define.TICKFORGE_BUILD_TESTS=ON .
	touch $@

# A manylinux wheel in dist/ that installs next to any pyarrow 26.x (scripts/build_wheel.py).
# It builds in build/py with the defines of `build`, so neither undoes the other's work.
wheel: setup
	$(PY) scripts/build_wheel.py --out dist

# Ends with a short run of the demo's main job, so `make demo` cannot silently break.
test: build
	$(MAKE) --no-print-directory test-cpp test-python test-asan
	$(PY) scripts/demo.py --steps 20 --out build/demo-check

test-cpp: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

test-python: build
	$(PY) -m pytest -q tests

# The C++ tests again under AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer.
test-asan: setup
	$(VENV)/bin/cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DPython_EXECUTABLE=$(abspath $(PY)) -DTICKFORGE_BUILD_PYTHON=OFF \
	  -DTICKFORGE_SANITIZE=address,undefined -DTICKFORGE_UNITY_BUILD=ON > /dev/null
	$(VENV)/bin/cmake --build $(ASAN_BUILD)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j2

# The pytest suite against the Python module built with AddressSanitizer and UBSan (the
# sanitizer runtimes preloaded into the interpreter; leak checks off, CPython's own allocations
# would drown them). Not part of `test`: it takes about 20 minutes on 2 cores.
ASAN_PKG := build/asan-python
test-asan-python: setup
	$(VENV)/bin/cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DPython_EXECUTABLE=$(abspath $(PY)) -DTICKFORGE_BUILD_PYTHON=ON \
	  -DTICKFORGE_SANITIZE=address,undefined -DTICKFORGE_UNITY_BUILD=ON > /dev/null
	$(VENV)/bin/cmake --build $(ASAN_BUILD) --target _tickforge tickforge
	rm -rf $(ASAN_PKG) && mkdir -p $(ASAN_PKG) && cp -r python/tickforge $(ASAN_PKG)/
	rm -f $(ASAN_PKG)/tickforge/_tickforge*.so && cp $(ASAN_BUILD)/src/tickforge/_tickforge*.so $(ASAN_PKG)/tickforge/
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  PYTHONPATH=$(abspath $(ASAN_PKG)) TICKFORGE_CLI=$(abspath $(ASAN_BUILD))/src/tickforge/tickforge \
	  $(PY) -m pytest -q -p no:cacheprovider tests --ignore=tests/test_wheel.py \
	  --ignore=tests/test_packaging.py --ignore=tests/test_ray.py

# Fuzz every parser (each module's x_fuzz.cc) with libFuzzer for FUZZ_SECONDS each; needs clang,
# installed here if missing. Seeds come from the testdata files each x_fuzz.seeds names.
FUZZ_SECONDS ?= 60
fuzz: setup
	command -v clang++ >/dev/null || (apt-get update -qq && apt-get install -y -qq clang libclang-rt-14-dev >/dev/null)
	FUZZ_SECONDS=$(FUZZ_SECONDS) PY=$(abspath $(PY)) scripts/fuzz.sh

demo: build
	$(PY) scripts/demo.py

bench: build
	$(PY) bench/bench_dbn_to_parquet.py

clean:
	rm -rf build $(VENV)/.build-stamp
