#pragma once
// The software a platform runs, built from the config's workload.* and kernel.* keys: the
// pre-kernel idle loop, or the kernel (HAL + ke) with one of the kernel workloads.
#include <cstdio>
#include <memory>

#include "platform/config.h"
#include "platform/platform.h"
#include "sw/ke/bugcheck.h"
#include "util/json.h"

namespace platform {

class Workload {
 public:
  // Builds the software for `config` and boots it on the platform's CPU.
  static std::unique_ptr<Workload> create(Platform& platform, const Config& config);
  virtual ~Workload() = default;
  virtual void write_stats(util::JsonWriter& json) const = 0;
  virtual void print_summary(std::FILE* out) const = 0;
  // False if the software saw something it should never see (the run then exits 1).
  virtual bool healthy() const { return true; }
  // Device interrupts serviced, for benchmarks (0 where there is no device).
  virtual std::uint64_t device_interrupts() const { return 0; }
  // The bug check that stopped the run, or null (no kernel, or none happened).
  virtual const ke::BugCheckRecord* bug_check() const { return nullptr; }
};

}  // namespace platform
