# Booking Rush: the two commands of the README, and a few helpers.
#   make run    installs and starts Redis + Postgres, builds, migrates, runs every service
#   make test   installs and starts Redis + Postgres (and Chromium), builds, runs every test

SHELL := /bin/bash
CONFIG ?= debug
SWIFT_FLAGS ?=
# A release build goes through scripts/release-build, which adds the project's release flags.
SWIFT_BUILD = $(if $(filter release,$(CONFIG)),scripts/release-build,swift build -c $(CONFIG))
SERVICES_ENV = $(shell scripts/services env | xargs)
# The tests' own stores: Redis database 1 and Postgres booking_rush_test, never make run's data.
TEST_ENV = $(SERVICES_ENV) $(shell scripts/services env | sed -n 's/^TEST_//p' | xargs)

.PHONY: run test test-suites services services-down build bench bench-redis bench-waiting-room bench-proxy bench-booking bench-scaling bench-sse bench-flash-sale bench-pow bench-opening bench-adaptive

run: services
	$(SWIFT_BUILD) $(SWIFT_FLAGS) --product booking-rush
	env $(SERVICES_ENV) LOG_FORMAT=$${LOG_FORMAT:-text} $$($(SWIFT_BUILD) --show-bin-path)/booking-rush dev --routes config/routes.dev.json

# The suites run while `booking-rush dev` serves make run's data; scripts/dev-isolation fails the
# run when they changed that data (see its header).
test: services
	scripts/browser-deps
	swift build --build-tests $(SWIFT_FLAGS)
	scripts/services fresh-test-stores
	env $(SERVICES_ENV) scripts/dev-isolation $$(swift build --show-bin-path)/booking-rush -- $(MAKE) --no-print-directory test-suites

# The Swift tests and two groups of browser tests run side by side (see scripts/test-suites).
test-suites:
	env $(TEST_ENV) scripts/test-suites $(SWIFT_FLAGS)

services:
	scripts/services up >/dev/null

services-down:
	scripts/services down

build:
	$(SWIFT_BUILD) $(SWIFT_FLAGS)

bench: bench-redis bench-waiting-room bench-proxy bench-booking bench-scaling bench-sse bench-flash-sale bench-pow bench-opening bench-adaptive
	python3 bench/summary.py

bench-redis: services
	bench/redis-client.sh

bench-waiting-room: services
	bench/waiting-room.sh

bench-proxy: services
	bench/gateway-vs-nginx.sh

bench-booking: services
	bench/booking.sh

bench-scaling: services
	bench/scaling.sh

bench-sse: services
	bench/sse-crowd.sh

bench-flash-sale: services
	bench/flash-sale.sh

bench-pow: services
	bench/pow-cost.sh

bench-opening: services
	bench/opening.sh

bench-adaptive: services
	bench/adaptive.sh
