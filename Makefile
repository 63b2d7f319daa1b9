# bento's two commands are `make serve` and `make test`; each installs and builds what it needs.
#   make deps    install Debian packages, ONNX Runtime, models and the Python test env
#   make build   configure and build into build/ (the CLI lands at build/bin/bento)
#   make install PREFIX=DIR   a relocatable install tree (bin/, lib/, share/bento/, include/)
#   make models  build the examples' real models and save them into the store
#   make python  the Python package (`import bento`, python/) into .venv, over build/'s install
#   make test    unit tests (ctest) and end-to-end tests (pytest)
#   make serve   save a real model into the store if missing, and serve it
#   make bench   benchmarks (bench/)
#   make soak    10 minutes at ~70% of capacity: zero errors, memory start vs end (SOAK_SECONDS)
#   make test-asan, make test-tsan   the unit and end-to-end tests on a sanitizer build
#   make fuzz    each libFuzzer target for FUZZ_SECONDS (default 60); see scripts/fuzz
#   make check-thread-safety   clang's -Wthread-safety over the annotated locks, into build-tsa/

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
VENV := .venv
export BENTOML_HOME ?= $(HOME)/bentoml

PREFIX ?= /usr/local

.PHONY: deps build install python models test unit-test e2e-test serve bench soak clean test-asan test-tsan fuzz \
	check-thread-safety

deps:
	@scripts/install-deps

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

models: build
	scripts/make-models

# pip builds bento._core against an install tree of this build (find_package(bento)) and
# copies its libraries into the wheel.
python: build
	cmake --install $(BUILD_DIR) --prefix $(BUILD_DIR)/python-prefix >/dev/null
	CMAKE_PREFIX_PATH=$(abspath $(BUILD_DIR))/python-prefix $(VENV)/bin/pip install -q \
	  --no-build-isolation ./python

unit-test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

e2e-test: build models python
	$(VENV)/bin/python -m pytest -q -rs tests

test: unit-test e2e-test

serve: build models
	scripts/serve-default

bench: build models python
	scripts/bench

soak: build
	BENTO_BUILD_DIR=$(BUILD_DIR) scripts/soak

test-asan: deps
	scripts/test-sanitized address

test-tsan: deps
	scripts/test-sanitized thread

fuzz: deps
	scripts/fuzz

check-thread-safety: deps
	CMAKE_FLAGS="$(CMAKE_FLAGS)" scripts/check-thread-safety

clean:
	rm -rf $(BUILD_DIR)
