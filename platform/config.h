#pragma once
// The platform description: one YAML file, every key defaulted, any key overridable with
// --set key=value. Keys are declared once in a schema (config.cpp) that parses, validates and
// documents them; errors name the file, the line and the key. Reference: docs/config.md.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/cpu/cpu.h"
#include "platform/paths.h"
#include "platform/registry.h"
#include "platform/settings.h"
#include "sw/ke/kernel.h"
#include "util/suggest.h"

namespace platform {

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& what) : std::runtime_error(util::printable(what)) {}
};

std::vector<DeviceInstance> default_devices();
std::map<std::string, Settings> default_driver_settings();
std::map<std::string, Settings> default_workload_settings();

struct Config {
  hw::cpu::Timing cpu;
  unsigned cpu_count = 1;
  // The HAL and the interrupt path it drives: "pic" = the 8259A pair wired to the one CPU's
  // INTR; "apic" = a local APIC per CPU and the I/O APIC (the 8259A pair stays on the bus).
  std::string hal = "pic";
  std::uint64_t apic_latency_ps = 100'000;  // an interrupt message on the APIC bus
  std::string apic_delivery = "lowest";     // device interrupts: lowest priority, or fixed

  std::uint64_t bus_clock_hz = 25'000'000;
  unsigned bus_io_wait_states = 3;
  unsigned bus_steal_gap = 1;

  std::uint64_t ram_base = 0;
  std::uint64_t ram_size = 16ull << 20;
  std::uint64_t ram_latency_ps = 0;

  std::uint64_t pic_master_port = 0x20;
  std::uint64_t pic_slave_port = 0xa0;
  std::uint64_t pic_elcr_port = 0x4d0;   // ELCR1; ELCR2 at +1
  std::vector<unsigned> pic_level_irqs;  // level-triggered, shareable lines (ELCR)
  unsigned pic_cascade_irq = 2;
  std::string pic_model = "tlm";
  std::string pic_rtl_vcd;

  std::uint64_t timer_port = 0x40;
  unsigned timer_irq = 0;
  std::uint64_t timer_clock_hz = 1'193'182;

  // The PCI host bridge: configuration mechanism #1 at 0xCF8, the apertures it forwards to the
  // functions' BARs, the IRQs its interrupt router can drive.
  std::uint64_t pci_io_base = 0xc000, pci_io_size = 0x4000;
  std::uint64_t pci_memory_base = 0xfe000000, pci_memory_size = 0x800000;
  std::vector<unsigned> pci_irqs = {3, 4, 5, 7, 9, 10, 11, 12, 14, 15};

  std::uint64_t dma_port = 0xc00;
  unsigned dma_irq = 10;
  unsigned dma_channels = 4;
  std::uint64_t dma_chunk = 4096;

  // The device instances (`devices:`), each with its type's keys; the default is the default
  // platform's list (platform/configs/default.yaml).
  std::vector<DeviceInstance> devices = default_devices();
  // drivers.<type>.<key> of every registered driver type by type, and workload.<section>.<key>
  // of every registered workload type by section, defaulted.
  std::map<std::string, Settings> drivers = default_driver_settings();
  std::map<std::string, Settings> workloads = default_workload_settings();

  std::string kernel_irql_mode = "eager";
  // After IRP_MN_SURPRISE_REMOVAL: "after_close" sends IRP_MN_REMOVE_DEVICE once the last
  // handle to the device is closed (Windows); "immediate" at once (ReactOS's order).
  std::string pnp_remove = "after_close";

  // The memory manager (`mm:`, docs/memory.md). Without paging, software addresses are
  // physical as they always were; with it the CPUs translate through page tables the memory
  // manager keeps, the paged pool pages, and a pagefile on a disk instance takes what RAM cannot
  // hold.
  struct Mm {
    bool paging = false;
    std::uint64_t nonpaged_pool = 2ull << 20;  // RAM above the low 1 MiB; the rest is page frames
    std::uint64_t paged_pool = 16ull << 20;    // virtual: at 0xE0000000
    std::string pagefile_disk;                 // a block instance; "" = no pagefile
    std::uint64_t pagefile_offset = 0, pagefile_size = 8ull << 20;
    unsigned low_pages = 32, modified_threshold = 64, write_cluster = 8;
    std::uint64_t balance_period_ps = 1'000'000'000'000ull;
    bool zero_thread = true;
  } mm;
  // Driver Verifier (`verifier:`): the drivers verified, by name (Disk, disk.sys or
  // \Driver\Disk), and its checks.
  struct Verifier {
    std::vector<std::string> drivers;
    bool irql_checking = false;  // Force IRQL Checking: pageable memory trimmed on every raise
  } verifier;
  unsigned kernel_quantum_ticks = 2;
  ke::KernelCosts kernel_costs;

  std::string workload = "io";
  std::uint64_t workload_tick_hz = 1000;
  std::uint64_t workload_vector_base = 0x30;  // master's; the slave's follows at +8

  std::uint64_t sim_until_ps = 100'000'000'000ull;  // 100 ms
  std::string sim_log_level = "warn";

  std::string out_vcd;
  std::vector<std::string> out_vcd_groups = {"cpu", "pic", "timer", "irq", "devices", "bus", "dma"};
  std::string out_vcd_writer = "iocosim";
  std::string out_events;
  std::string out_stats;
  bool out_host_times = true;  // host-dependent figures in the statistics, the date in the VCD

  // Where each key was set ("file:line", or "--set"), for messages about combinations of keys.
  std::map<std::string, std::string> origin;
  // Where it came from, for the run's provenance: the file ("" = built in) and the --set
  // overrides (command-line options included, as their keys), in order.
  std::string source;
  std::vector<std::string> sets;
  // run --trace: not a key (the trace is made from the event log after the run), but an output
  // the file rule checks with the others.
  std::string out_trace;
  std::string where(const std::string& key) const;

  // The instance named `name`, or null.
  const DeviceInstance* device(const std::string& name) const;
  // The keys of workload section `section` (workload.io.* is workloads.at("io")).
  const Settings& workload_keys(const std::string& section) const;
  const Settings& driver_keys(const std::string& type) const;
};

// The RAM's first MiB holds the interrupt vectors and the workloads' fixed buffers: the
// nonpaged pool starts above it, and with mm.paging the page frames above the pool.
constexpr std::uint64_t kLowRam = 1 << 20;
// The RAM the memory manager pages with (mm.paging): above the low MiB and the nonpaged pool.
inline std::uint64_t page_frame_bytes(const Config& c) {
  const std::uint64_t below = kLowRam + c.mm.nonpaged_pool;
  return c.ram_size > below ? c.ram_size - below : 0;
}

// A key of the schema with its value in some config, for `iocosim keys` and the docs.
struct KeyInfo {
  std::string path, value, help;
};
std::vector<KeyInfo> config_keys(const Config& config = Config{});

// Every key of a config with its value, as --set would give it: the platform's keys, each
// device instance's (devices.NAME.KEY, type and name included), drivers.TYPE.KEY and
// workload.SECTION.KEY. `list`: the value is a comma-separated list.
struct ResolvedKey {
  std::string path, value;
  bool list = false;
  bool input_path = false;  // a file found beside the config (relative to the working folder)
};
std::vector<ResolvedKey> resolved_keys(const Config& config);
// The same as a config file load_config reads back to the same machine wherever it is saved
// (`iocosim config`; input files beside the config are given as absolute paths).
std::string resolved_yaml(const Config& config);

// The PCI slot of each instance on the PCI bus (its `slot`, or the next free one in the list's
// order), by instance name.
std::map<std::string, unsigned> pci_slots(const Config& config);

// Loads a YAML file over the defaults. Throws ConfigError.
Config load_config(const std::string& path);
// Applies "key=value". Throws ConfigError naming the override as the user typed it: `typed`
// ("--until 10"), or "--set key=value" when empty.
void apply_override(Config& config, const std::string& assignment, const std::string& typed = {});
// Cross-key checks (IRQ numbers, port windows). Throws ConfigError naming the keys.
void validate(const Config& config);
// The files a run of `config` writes (outputs, and files written in place such as disk
// images), each with its key and where that was set.
std::vector<FileRole> written_files(const Config& config);

}  // namespace platform
