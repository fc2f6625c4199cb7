#pragma once
// The kernel host: what every kernel workload runs on, booted from the config once per CPU —
// the HAL, the kernel, the pool, the I/O manager and the Plug and Play manager, which finds
// the device list's instances (the root enumerator reports the chipset and the ISA instances
// with their fixed resources; the PCI bus driver finds the PCI ones), loads the driver each
// one's hardware IDs match (one driver object per driver type), calls its AddDevice and the
// upper filters' the instance lists, assigns resources and starts it. This file is also the
// driver table (an INF's models section and the registry's Root\ keys): which driver type
// serves which hardware ID, and which instance a device node is. A workload is then only its
// threads.
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "platform/config.h"
#include "platform/platform.h"
#include "platform/registry.h"
#include "sw/drivers/pci/pci.h"
#include "sw/hal/current_processor.h"
#include "sw/hal/hal.h"
#include "sw/io/io_manager.h"
#include "sw/io/pnp.h"
#include "sw/io/pool.h"
#include "sw/ke/kernel.h"
#include "sw/mm/mm.h"

namespace platform {

class KernelHost {
 public:
  KernelHost(Platform& platform, const Config& config);
  ~KernelHost();
  KernelHost(const KernelHost&) = delete;
  KernelHost& operator=(const KernelHost&) = delete;

  // Boots on the CPU's boot context: the kernel, then (with `with_io`) the pool, the I/O
  // manager and the drivers, then runs `main` as the system thread. `raw`: instances the
  // workload programs itself, with no driver bound.
  void boot(std::function<void()> main, bool with_io, std::vector<std::string> raw = {});

  Platform& platform() { return platform_; }
  const Config& config() const { return config_; }
  hal::Hal& hal() { return *hal_; }
  // The processor software uses: the one CPU, or "the CPU running the caller" on several.
  hw::Processor& cpu() { return *cpu_; }
  ke::Kernel& kernel() { return *kernel_; }
  io::IoManager& io() { return *io_; }
  io::Pool& pool() { return *pool_; }
  // The memory manager (with I/O booted): pools by tag; with mm.paging, virtual memory.
  mm::MemoryManager& mm() { return *mm_; }
  bool has_mm() const { return mm_ != nullptr; }
  io::PnpManager& pnp() { return *pnp_; }
  bool has_pnp() const { return pnp_ != nullptr; }
  bool booted() const { return kernel_ != nullptr; }
  // The device node of instance `name`, or null (not found, or no I/O booted).
  const io::DevNode* node(const std::string& name) const;
  // The instance a device node is, or null (the chipset's nodes, the root, the bus).
  const DeviceInstance* instance_of(const io::DevNode& node) const;
  // Whether every instance named has started with its driver (or raw, when none).
  bool started(const std::vector<std::string>& instances) const;
  // False if a device with a driver was not started (no driver matched, AddDevice failed, its
  // resources could not be assigned, START_DEVICE failed).
  bool drivers_ready() const { return drivers_ready_; }
  // The name an application opens an instance by (\??\<name>).
  static std::string device_path(const std::string& instance) { return "\\??\\" + instance; }

  // "kernel", "io" and "drivers" objects.
  void write_stats(util::JsonWriter& j) const;
  void print_summary(std::FILE* out) const;
  const ke::BugCheckRecord* bug_check() const;

 private:
  void start_pnp(const std::vector<std::string>& raw);
  // MmInitSystem phase 0: the nonpaged pool, then (mm.paging) page tables and paging on.
  void start_mm();
  void start_pagefile();  // phase 1: the pagefile on its disk, the memory manager's threads
  void write_mm_stats(util::JsonWriter& j) const;
  // Whether Driver Verifier watches `driver` (verifier.drivers).
  bool verified(const std::string& driver) const;
  io::DriverBinding bind(const io::DevNode& node, const std::vector<std::string>& raw);
  Driver* driver(const std::string& type);
  std::uint64_t pic_accesses() const;

  Platform& platform_;
  Config config_;
  std::vector<hw::Processor*> processors_;
  std::unique_ptr<hal::CurrentProcessor> current_;  // several CPUs only
  hw::Processor* cpu_ = nullptr;
  std::unique_ptr<hal::Hal> hal_;
  std::unique_ptr<ke::Kernel> kernel_;
  std::unique_ptr<io::Pool> pool_;
  std::unique_ptr<mm::MemoryManager> mm_;
  std::unique_ptr<io::PagingFile> pagefile_;
  std::unique_ptr<io::IoManager> io_;
  std::unique_ptr<io::PnpManager> pnp_;
  std::unique_ptr<drivers::PciDriver> pci_;
  std::map<const io::DeviceObject*, const DeviceInstance*> pdo_instance_;
  std::map<std::string, unsigned> ordinals_;  // per driver type: device objects added
  std::vector<std::pair<std::string, std::unique_ptr<Driver>>> drivers_;  // by type, load order
  bool drivers_ready_ = true;
  std::uint64_t verifier_trims_ = 0;  // Force IRQL Checking's trims
};

// A ke::Histogram as the statistics write it.
void write_histogram(util::JsonWriter& j, const char* key, const ke::Histogram& h);

}  // namespace platform
