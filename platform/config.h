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
#include "hw/devices/block_device.h"
#include "sw/ke/kernel.h"

namespace platform {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Config {
  hw::cpu::Timing cpu;

  std::uint64_t bus_clock_hz = 25'000'000;
  unsigned bus_io_wait_states = 3;
  unsigned bus_steal_gap = 1;

  std::uint64_t ram_base = 0;
  std::uint64_t ram_size = 16ull << 20;
  std::uint64_t ram_latency_ps = 0;

  std::uint64_t pic_master_port = 0x20;
  std::uint64_t pic_slave_port = 0xa0;
  unsigned pic_cascade_irq = 2;
  std::string pic_model = "tlm";
  std::string pic_rtl_vcd;

  std::uint64_t timer_port = 0x40;
  unsigned timer_irq = 0;
  std::uint64_t timer_clock_hz = 1'193'182;

  std::uint64_t oneshot_port = 0x300;  // device i at port + 0x10 * i
  std::vector<unsigned> oneshot_irqs = {5, 3};

  std::uint64_t dma_port = 0xc00;
  unsigned dma_irq = 10;
  unsigned dma_channels = 4;
  std::uint64_t dma_chunk = 4096;

  std::uint64_t disk_port = 0x1f0;
  unsigned disk_irq = 14;
  std::string disk_image;  // empty: a temporary image
  std::uint64_t disk_size = 4ull << 20;
  unsigned disk_dma_channel = 1;
  hw::devices::BlockTiming disk_timing;

  std::uint64_t serial_port = 0x3f8;
  unsigned serial_irq = 4;
  std::uint64_t serial_baud = 115200;
  unsigned serial_fifo = 16;
  std::string serial_input, serial_input_script, serial_output;

  std::string disk_transfer = "dma";          // drivers.disk.transfer: dma | pio
  std::string disk_completion = "interrupt";  // drivers.disk.completion: interrupt | polling
  std::string disk_dma_mode = "burst";
  std::string serial_completion = "interrupt";  // drivers.serial.completion
  bool filter = true;  // drivers.filter.enabled: the statistics and read-ahead filter
  bool filter_fast_io = true;
  std::uint64_t filter_cache_sectors = 64;
  std::uint64_t filter_read_ahead = 16;

  std::string kernel_irql_mode = "eager";
  unsigned kernel_quantum_ticks = 2;
  ke::KernelCosts kernel_costs;

  std::string workload = "io";
  std::uint64_t workload_tick_hz = 1000;
  std::uint64_t workload_vector_base = 0x30;       // master's; the slave's follows at +8
  std::uint64_t workload_period_ps = 500'000'000;  // system: between device interrupts
  std::string workload_bugcheck = "wait-at-dispatch";
  // io: applications over the I/O manager and the drivers.
  std::string io_app = "sequential";
  std::uint64_t io_sectors = 256;
  std::uint64_t io_request_sectors = 8;
  std::uint64_t io_passes = 0;
  std::uint64_t io_first_lba = 0;
  unsigned io_compute_threads = 1;
  bool io_serial_echo = false;
  unsigned io_queue_depth = 1;
  std::uint64_t io_timer_period_ps = 0;  // 0 = no timer thread
  // dma-transfer: one block transfer while a thread computes (what compare-dma runs).
  std::uint64_t dma_bytes = 1ull << 20;
  std::string dma_mode = "burst";
  std::string dma_source = "memory";
  double dma_cpu_bus_share = 0.6;
  unsigned dma_width = 4;

  std::uint64_t sim_until_ps = 100'000'000'000ull;  // 100 ms
  std::string sim_log_level = "warn";

  std::string out_vcd;
  std::vector<std::string> out_vcd_groups = {"cpu", "pic", "timer", "irq", "devices", "bus", "dma"};
  std::string out_events;
  std::string out_stats;
  bool out_host_times = true;  // host-dependent figures in the statistics, the date in the VCD

  // Where each key was set ("file:line", or "--set"), for messages about combinations of keys.
  std::map<std::string, std::string> origin;
  std::string where(const std::string& key) const;
};

// A key of the schema with its value in some config, for `iocosim keys` and the docs.
struct KeyInfo {
  std::string path, value, help;
};
std::vector<KeyInfo> config_keys(const Config& config = Config{});

// Loads a YAML file over the defaults. Throws ConfigError.
Config load_config(const std::string& path);
// Applies "key=value". Throws ConfigError naming the override.
void apply_override(Config& config, const std::string& assignment);
// Cross-key checks (IRQ numbers, port windows). Throws ConfigError naming the keys.
void validate(const Config& config);

}  // namespace platform
