#include "platform/config.h"

#include <cstdlib>
#include <filesystem>
#include <functional>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "hw/bus/bus.h"
#include "hw/core/sim_time.h"
#include "hw/dma/dma.h"
#include "sw/apps/kernel_apps.h"
#include "util/log.h"
#include "util/units.h"

namespace platform {
namespace {

using Setter = std::function<std::string(Config&, const std::string&)>;  // "" or why not
using Getter = std::function<std::string(const Config&)>;

struct Key {
  std::string path;
  std::string help;
  Setter set;
  Getter get;
  bool list = false;  // accepts a YAML sequence (or a comma-separated string)
};

template <typename T, typename Acc>
Key integer(std::string path, Acc acc, std::uint64_t min, std::uint64_t max, std::string help,
            bool hex = false) {
  return {std::move(path), std::move(help),
          [=](Config& c, const std::string& text) -> std::string {
            std::uint64_t v;
            if (!util::parse_u64(text, v))
              return fmt::format("expected an integer, got '{}'", text);
            if (v < min || v > max) return fmt::format("{} is outside [{}, {}]", text, min, max);
            acc(c) = static_cast<T>(v);
            return {};
          },
          [=](const Config& c) {
            auto v = static_cast<std::uint64_t>(acc(const_cast<Config&>(c)));
            return hex ? fmt::format("{:#x}", v) : fmt::format("{}", v);
          }};
}

template <typename Acc>
Key frequency(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          [=](Config& c, const std::string& text) -> std::string {
            std::uint64_t v;
            if (!util::parse_frequency_hz(text, v))
              return fmt::format("expected a frequency such as 100MHz, got '{}'", text);
            acc(c) = v;
            return {};
          },
          [=](const Config& c) { return util::format_hz(acc(const_cast<Config&>(c))); }};
}

template <typename Acc>
Key duration(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          [=](Config& c, const std::string& text) -> std::string {
            std::uint64_t v;
            if (!util::parse_duration_ps(text, v))
              return fmt::format("expected a duration such as 250ns or 10ms, got '{}'", text);
            acc(c) = v;
            return {};
          },
          [=](const Config& c) { return util::format_time(acc(const_cast<Config&>(c))); }};
}

template <typename Acc>
Key size(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          [=](Config& c, const std::string& text) -> std::string {
            std::uint64_t v;
            if (!util::parse_size(text, v) || v == 0)
              return fmt::format("expected a size such as 16MiB, got '{}'", text);
            acc(c) = v;
            return {};
          },
          [=](const Config& c) { return fmt::format("{:#x}", acc(const_cast<Config&>(c))); }};
}

template <typename Acc>
Key choice(std::string path, Acc acc, std::vector<std::string> allowed, std::string help) {
  return {std::move(path), std::move(help),
          [=](Config& c, const std::string& text) -> std::string {
            for (const auto& a : allowed) {
              if (text == a) {
                acc(c) = text;
                return {};
              }
            }
            return fmt::format("'{}' is not one of: {}", text, fmt::join(allowed, ", "));
          },
          [=](const Config& c) { return acc(const_cast<Config&>(c)); }};
}

template <typename Acc>
Key fraction(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          [=](Config& c, const std::string& text) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || end == nullptr || *end != '\0' || !(v >= 0.0 && v <= 1.0))
              return fmt::format("expected a fraction between 0 and 1, got '{}'", text);
            acc(c) = v;
            return {};
          },
          [=](const Config& c) { return fmt::format("{}", acc(const_cast<Config&>(c))); }};
}

template <typename Acc>
Key boolean(std::string path, Acc acc, std::string help) {
  return {
      std::move(path), std::move(help),
      [=](Config& c, const std::string& text) -> std::string {
        if (text == "true" || text == "on" || text == "yes") {
          acc(c) = true;
        } else if (text == "false" || text == "off" || text == "no") {
          acc(c) = false;
        } else {
          return fmt::format("expected true or false, got '{}'", text);
        }
        return {};
      },
      [=](const Config& c) { return std::string(acc(const_cast<Config&>(c)) ? "true" : "false"); }};
}

template <typename Acc>
Key path_key(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          [=](Config& c, const std::string& text) -> std::string {
            if (text.find('\0') != std::string::npos) return "a path cannot contain a NUL byte";
            acc(c) = text;
            return {};
          },
          [=](const Config& c) { return acc(const_cast<Config&>(c)); }};
}

// A list value: a YAML sequence arrives joined with commas, as after --set. Empty items dropped.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = util::trim(std::string_view(text).substr(start, end - start));
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

const std::vector<std::string> kTraceGroups = {"cpu",     "pic", "timer", "irq",
                                               "devices", "bus", "dma"};

const std::vector<Key>& schema() {
  static const std::vector<Key> keys = [] {
    std::vector<Key> k;
#define ACC(member)         \
  [](Config & c) -> auto& { \
    return c.member;        \
  }
    k.push_back(frequency("cpu.clock", ACC(cpu.clock_hz), "CPU core clock"));
    k.push_back(duration("cpu.quantum", ACC(cpu.quantum_ps),
                         "temporal decoupling quantum; 0 = every interrupt taken at the exact "
                         "instant INTR rises; otherwise (10 CPU cycles to 1s) latency is late by "
                         "at most one quantum"));
    k.push_back(integer<unsigned>("cpu.cost.interrupt_entry", ACC(cpu.interrupt_entry), 0, 1000000,
                                  "cycles from accepting INTR to the first handler instruction"));
    k.push_back(integer<unsigned>("cpu.cost.context_save", ACC(cpu.context_save), 0, 1000000,
                                  "cycles to save a context (trap frame, thread switch)"));
    k.push_back(integer<unsigned>("cpu.cost.context_restore", ACC(cpu.context_restore), 0, 1000000,
                                  "cycles to restore a context (IRET, thread switch)"));
    k.push_back(integer<unsigned>("cpu.cost.inta", ACC(cpu.inta), 0, 1000000,
                                  "cycles of the two INTA bus cycles"));
    k.push_back(integer<unsigned>("cpu.cost.io_access", ACC(cpu.io_access), 0, 1000000,
                                  "cycles of an IN/OUT instruction beyond its bus cycles"));
    k.push_back(integer<unsigned>("cpu.cost.mem_access", ACC(cpu.mem_access), 0, 1000000,
                                  "cycles of a load/store beyond its bus cycles"));
    k.push_back(
        frequency("bus.clock", ACC(bus_clock_hz), "system bus clock; one access = one bus cycle"));
    k.push_back(integer<unsigned>("bus.io_wait_states", ACC(bus_io_wait_states), 0, 1000,
                                  "extra bus cycles per I/O port access"));
    k.push_back(integer<unsigned>(
        "bus.steal_gap", ACC(bus_steal_gap), 1, 1000,
        "bus cycles the CPU gets between two cycle-stealing DMA units (the 8237 gives one)"));
    k.push_back(integer<std::uint64_t>("memory.ram.base", ACC(ram_base), 0, UINT64_MAX,
                                       "RAM base address in memory space", true));
    k.push_back(size("memory.ram.size", ACC(ram_size), "RAM size (e.g. 16MiB)"));
    k.push_back(duration("memory.ram.latency", ACC(ram_latency_ps), "RAM access latency"));
    k.push_back(integer<std::uint64_t>("interrupt_controller.master_port", ACC(pic_master_port), 0,
                                       0xfffe, "I/O port of the master 8259A (A0=0; A0=1 is +1)",
                                       true));
    k.push_back(integer<std::uint64_t>("interrupt_controller.slave_port", ACC(pic_slave_port), 0,
                                       0xfffe, "I/O port of the slave 8259A", true));
    k.push_back(integer<unsigned>("interrupt_controller.cascade_irq", ACC(pic_cascade_irq), 0, 7,
                                  "master input the slave's INT is wired to"));
    k.push_back(choice("interrupt_controller.model", ACC(pic_model), {"tlm", "rtl"},
                       "tlm = the SystemC/TLM 8259A models; rtl = the SystemVerilog pair, "
                       "Verilated, behind a TLM-to-pin bridge"));
    k.push_back(path_key("interrupt_controller.rtl_vcd", ACC(pic_rtl_vcd),
                         "with model rtl: Verilator's trace of the RTL internals; empty = none"));
    k.push_back(integer<std::uint64_t>("timer.port", ACC(timer_port), 0, 0xfffc,
                                       "I/O port of 8254 counter 0; the control word is at +3",
                                       true));
    k.push_back(integer<unsigned>("timer.irq", ACC(timer_irq), 0, 15, "IRQ driven by OUT0"));
    k.push_back(frequency("timer.clock", ACC(timer_clock_hz), "8254 input clock"));
    k.push_back(integer<std::uint64_t>("devices.oneshot_port", ACC(oneshot_port), 0, 0xfff0,
                                       "I/O port of one-shot device 0; device i is at +0x10*i",
                                       true));
    Key irqs{"devices.oneshot_irqs",
             "IRQ of each one-shot interrupt source (hw/devices/oneshot.h); [] = none",
             [](Config& c, const std::string& text) -> std::string {
               std::vector<unsigned> out;
               for (const auto& v : split_list(text)) {
                 std::uint64_t n;
                 if (!util::parse_u64(v, n) || n > 15)
                   return fmt::format("'{}' is not an IRQ number 0..15", v);
                 out.push_back(static_cast<unsigned>(n));
               }
               c.oneshot_irqs = out;
               return {};
             },
             [](const Config& c) { return fmt::format("{}", fmt::join(c.oneshot_irqs, ",")); },
             true};
    k.push_back(irqs);
    k.push_back(integer<std::uint64_t>("dma.port", ACC(dma_port), 0, 0xfe00,
                                       "I/O port of the DMA controller's registers", true));
    k.push_back(integer<unsigned>("dma.irq", ACC(dma_irq), 0, 15,
                                  "IRQ of the DMA controller (terminal count and errors)"));
    k.push_back(integer<unsigned>("dma.channels", ACC(dma_channels), hw::dma::kMinChannels,
                                  hw::dma::kMaxChannels, "DMA channels"));
    k.push_back(size("dma.chunk", ACC(dma_chunk),
                     "most bytes a cycle-stealing or transparent segment moves before COUNT "
                     "and memory are updated (burst moves a whole block)"));
    k.push_back(integer<std::uint64_t>("devices.disk.port", ACC(disk_port), 0, 0xfff0,
                                       "I/O port of the block device", true));
    k.push_back(integer<unsigned>("devices.disk.irq", ACC(disk_irq), 0, 15, "block device IRQ"));
    k.push_back(path_key("devices.disk.image", ACC(disk_image),
                         "disk-image file, created at devices.disk.size if missing; empty = a "
                         "temporary image that vanishes after the run"));
    k.push_back(size("devices.disk.size", ACC(disk_size), "disk size, a multiple of 512 bytes"));
    k.push_back(integer<unsigned>("devices.disk.dma_channel", ACC(disk_dma_channel), 0,
                                  hw::dma::kMaxChannels - 1,
                                  "DMA channel wired to the block device's DREQ/DACK"));
    k.push_back(duration("devices.disk.command_time", ACC(disk_timing.command_ps),
                         "block device: command decode and setup"));
    k.push_back(duration("devices.disk.seek_time", ACC(disk_timing.seek_ps),
                         "block device: seek before a non-sequential LBA"));
    k.push_back(duration("devices.disk.sector_time", ACC(disk_timing.sector_ps),
                         "block device: media time per 512-byte sector"));
    k.push_back(duration("devices.disk.flush_time", ACC(disk_timing.flush_ps),
                         "block device: FLUSH command"));
    k.push_back(integer<std::uint64_t>("devices.serial.port", ACC(serial_port), 0, 0xfffc,
                                       "I/O port of the serial device", true));
    k.push_back(integer<unsigned>("devices.serial.irq", ACC(serial_irq), 0, 15, "serial IRQ"));
    k.push_back(integer<std::uint64_t>("devices.serial.baud", ACC(serial_baud), 50, 100'000'000,
                                       "serial line rate in bit/s (10 bits per character)"));
    k.push_back(integer<unsigned>("devices.serial.fifo", ACC(serial_fifo), 1, 4096,
                                  "depth of each of the RX and TX FIFOs"));
    k.push_back(path_key("devices.serial.input", ACC(serial_input),
                         "file whose bytes arrive on RX from t = 0; empty = none"));
    k.push_back(path_key("devices.serial.input_script", ACC(serial_input_script),
                         "timed RX input, lines 'TIME TEXT' (docs/models.md); empty = none"));
    k.push_back(path_key("devices.serial.output", ACC(serial_output),
                         "file receiving every transmitted character; empty = none"));
    k.push_back(choice("drivers.disk.transfer", ACC(disk_transfer), {"dma", "pio"},
                       "disk driver: data through the DMA channel, or word by word through DATA"));
    k.push_back(choice("drivers.disk.completion", ACC(disk_completion), {"interrupt", "polling"},
                       "disk driver: ISR -> DPC -> completion, or the dispatch routine polling "
                       "STATUS at PASSIVE_LEVEL"));
    k.push_back(choice("drivers.disk.dma_mode", ACC(disk_dma_mode),
                       {"burst", "cycle-stealing", "transparent"}, "disk driver: DMA mode"));
    k.push_back(
        choice("drivers.serial.completion", ACC(serial_completion), {"interrupt", "polling"},
               "serial driver: ISR -> ring -> DPC, or the dispatch routines polling STATUS"));
    k.push_back(boolean("drivers.filter.enabled", ACC(filter),
                        "the filter driver over the disk: per-request statistics and a "
                        "write-through read-ahead cache"));
    k.push_back(boolean("drivers.filter.fast_io", ACC(filter_fast_io),
                        "the filter answers reads from its cache by fast I/O, with no IRP"));
    k.push_back(integer<std::uint64_t>("drivers.filter.cache_sectors", ACC(filter_cache_sectors), 0,
                                       65536, "sectors the filter caches; 0 = no cache"));
    k.push_back(integer<std::uint64_t>("drivers.filter.read_ahead", ACC(filter_read_ahead), 0, 1024,
                                       "sectors read ahead after a read that missed"));
    k.push_back(choice("kernel.irql_mode", ACC(kernel_irql_mode), {"eager", "lazy"},
                       "eager = every IRQL change reprograms the PIC masks; lazy = only when an "
                       "interrupt arrives at or below the current IRQL"));
    k.push_back(integer<unsigned>(
        "kernel.quantum_ticks", ACC(kernel_quantum_ticks), 1, 1000,
        "clock ticks a thread runs before an equal-priority thread gets the CPU"));
    k.push_back(
        integer<unsigned>("kernel.cost.irql_change", ACC(kernel_costs.irql_change), 0, 1000000,
                          "cycles of KeRaiseIrql/KeLowerIrql bookkeeping (PIC I/O is extra)"));
    k.push_back(integer<unsigned>("kernel.cost.interrupt_dispatch",
                                  ACC(kernel_costs.interrupt_dispatch), 0, 1000000,
                                  "cycles of the trap dispatcher around an ISR"));
    k.push_back(integer<unsigned>("kernel.cost.dpc_dispatch", ACC(kernel_costs.dpc_dispatch), 0,
                                  1000000, "cycles of the DPC dispatcher per DPC"));
    k.push_back(integer<unsigned>(
        "kernel.cost.thread_dispatch", ACC(kernel_costs.thread_dispatch), 0, 1000000,
        "cycles of a thread switch in the scheduler (the CPU adds context save/restore)"));
    k.push_back(integer<unsigned>("kernel.cost.clock_isr", ACC(kernel_costs.clock_isr), 0, 1000000,
                                  "cycles of the clock ISR's own work"));
    k.push_back(choice(
        "workload.kind", ACC(workload),
        {"io", "system", "nested-interrupts", "device-loop", "bugcheck", "dma-transfer", "idle",
         "none"},
        "software run on the CPU: io = the kernel, I/O manager and drivers with applications "
        "reading and writing the disk (workload.io.*) and compute threads; "
        "system = kernel with a compute thread and a device "
        "thread; nested-interrupts = the textbook nested ISR/DPC sequence; device-loop = "
        "a thread computing while its device interrupts it every workload.period; "
        "bugcheck = a driver that breaks an IRQL rule (workload.bugcheck); dma-transfer = "
        "one DMA block transfer while the CPU computes, no kernel (workload.dma.*); idle = no "
        "kernel, HAL timer ticks only; none = no software"));
    k.push_back(duration("workload.period", ACC(workload_period_ps),
                         "system, device-loop: time between the device's interrupts"));
    k.push_back(choice("workload.bugcheck", ACC(workload_bugcheck), apps::Misbehave::kinds(),
                       "bugcheck: which rule the misbehaving driver breaks"));
    k.push_back(
        choice("workload.io.app", ACC(io_app), {"sequential", "random", "copy", "none"},
               "io: sequential = write a region, read it back, check it; random = the "
               "same with random reads; copy = copy a region and check the copy; none = no disk "
               "application"));
    k.push_back(integer<std::uint64_t>("workload.io.first_lba", ACC(io_first_lba), 0, 0xffffffff,
                                       "io: first sector of the region"));
    k.push_back(integer<std::uint64_t>("workload.io.sectors", ACC(io_sectors), 1, 0xffffffff,
                                       "io: sectors in the region"));
    k.push_back(integer<std::uint64_t>("workload.io.request_sectors", ACC(io_request_sectors), 1,
                                       0xffff, "io: sectors per request"));
    k.push_back(integer<std::uint64_t>("workload.io.passes", ACC(io_passes), 0, 1'000'000'000,
                                       "io: passes over the region; 0 = until sim.until"));
    k.push_back(integer<unsigned>("workload.io.queue_depth", ACC(io_queue_depth), 1, 64,
                                  "io: reads in flight at once (above 1: asynchronous requests, "
                                  "queued by the disk's StartIo in LBA order)"));
    k.push_back(boolean("workload.io.serial_echo", ACC(io_serial_echo),
                        "io: a thread echoing what arrives on COM1 back to it"));
    k.push_back(duration("workload.io.timer_period", ACC(io_timer_period_ps),
                         "io: a thread waiting on the timer driver (IOCTL to \\Device\\Timer0 "
                         "over one-shot device 0) this long, round after round; 0 = none"));
    k.push_back(integer<unsigned>("workload.io.compute_threads", ACC(io_compute_threads), 0, 16,
                                  "io: threads computing alongside the application"));
    k.push_back(size("workload.dma.bytes", ACC(dma_bytes), "dma-transfer: bytes to move"));
    k.push_back(choice("workload.dma.mode", ACC(dma_mode),
                       {"burst", "cycle-stealing", "transparent"}, "dma-transfer: DMA mode"));
    k.push_back(choice("workload.dma.source", ACC(dma_source), {"memory", "disk"},
                       "dma-transfer: memory = memory to memory; disk = the block device's "
                       "sectors to memory (fly-by)"));
    k.push_back(fraction("workload.dma.cpu_bus_share", ACC(dma_cpu_bus_share),
                         "dma-transfer: share of bus cycles the computing thread needs"));
    k.push_back(integer<unsigned>("workload.dma.width", ACC(dma_width), 1, 4,
                                  "dma-transfer: bytes per DMA unit (1, 2 or 4)"));
    k.push_back(frequency("workload.tick_rate", ACC(workload_tick_hz),
                          "timer interrupt rate the idle workload programs"));
    k.push_back(integer<std::uint64_t>(
        "workload.vector_base", ACC(workload_vector_base), 0, 0xf0,
        "master 8259A vector base (multiple of 8); the slave uses +8", true));
    k.push_back(duration("sim.until", ACC(sim_until_ps), "simulated time to run"));
    k.push_back(choice("sim.log_level", ACC(sim_log_level),
                       {"trace", "debug", "info", "warn", "error", "off"},
                       "least severe log level printed on stderr"));
    k.push_back(path_key("output.vcd", ACC(out_vcd), "VCD waveform file; empty = no tracing"));
    k.push_back(path_key("output.events", ACC(out_events), "event log, JSON lines; empty = none"));
    k.push_back(path_key("output.stats", ACC(out_stats), "statistics, JSON; empty = none"));
    k.push_back(boolean("output.host_times", ACC(out_host_times),
                        "write host-dependent figures (the statistics' \"host\" object, the "
                        "VCD's date); false = outputs that depend only on the inputs, byte for "
                        "byte"));
    Key groups{
        "output.vcd_groups",
        fmt::format("signal groups traced in the VCD: any of {}", fmt::join(kTraceGroups, ", ")),
        [](Config& c, const std::string& text) -> std::string {
          std::vector<std::string> out = split_list(text);
          for (const auto& g : out) {
            if (std::find(kTraceGroups.begin(), kTraceGroups.end(), g) == kTraceGroups.end())
              return fmt::format("unknown trace group '{}' (known: {})", g,
                                 fmt::join(kTraceGroups, ", "));
          }
          c.out_vcd_groups = out;
          return {};
        },
        [](const Config& c) { return fmt::format("{}", fmt::join(c.out_vcd_groups, ",")); }, true};
    k.push_back(groups);
#undef ACC
    return k;
  }();
  return keys;
}

const Key* find_key(const std::string& path) {
  for (const auto& k : schema()) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

bool is_prefix(const std::string& path) {
  for (const auto& k : schema()) {
    if (k.path.size() > path.size() && k.path.compare(0, path.size(), path) == 0 &&
        k.path[path.size()] == '.')
      return true;
  }
  return false;
}

void load_node(Config& c, const std::string& file, const YAML::Node& node,
               const std::string& prefix) {
  for (const auto& item : node) {
    const int line = item.first.Mark().line + 1;
    if (!item.first.IsScalar())
      throw ConfigError(fmt::format("{}:{}: keys must be plain names", file, line));
    const std::string path =
        prefix.empty() ? item.first.Scalar() : prefix + "." + item.first.Scalar();
    const YAML::Node& value = item.second;
    if (value.IsMap()) {
      if (!is_prefix(path)) {
        const Key* k = find_key(path);
        throw ConfigError(
            k ? fmt::format("{}:{}: key '{}' takes a value, not a mapping", file, line, path)
              : fmt::format("{}:{}: unknown key '{}' (see `iocosim keys`)", file, line, path));
      }
      load_node(c, file, value, path);
      continue;
    }
    const Key* k = find_key(path);
    if (k == nullptr) {
      throw ConfigError(
          is_prefix(path)
              ? fmt::format("{}:{}: key '{}' is a section; give it a mapping", file, line, path)
              : fmt::format("{}:{}: unknown key '{}' (see `iocosim keys`)", file, line, path));
    }
    std::string text;
    if (value.IsSequence()) {
      if (!k->list)
        throw ConfigError(
            fmt::format("{}:{}: key '{}' takes one value, not a list", file, line, path));
      for (const auto& e : value) {
        if (!e.IsScalar())
          throw ConfigError(
              fmt::format("{}:{}: key '{}': list items must be plain values", file, line, path));
        text += (text.empty() ? "" : ",") + e.Scalar();
      }
    } else if (value.IsScalar()) {
      text = value.Scalar();
    } else if (!value.IsNull()) {
      throw ConfigError(fmt::format("{}:{}: key '{}' has an unsupported value", file, line, path));
    }
    text = util::trim(text);
    // Input files that ship with a config are found beside it, wherever iocosim runs from
    // (outputs stay relative to the working directory).
    if ((path == "devices.serial.input" || path == "devices.serial.input_script") &&
        !text.empty() && text[0] != '/') {
      const auto dir = std::filesystem::path(file).parent_path();
      if (!dir.empty()) text = (dir / text).string();
    }
    std::string err = k->set(c, text);
    if (!err.empty()) throw ConfigError(fmt::format("{}:{}: key '{}': {}", file, line, path, err));
    c.origin[path] = fmt::format("{}:{}", file, line);
  }
}

}  // namespace

std::string Config::where(const std::string& key) const {
  auto it = origin.find(key);
  return it == origin.end() ? std::string("default") : it->second;
}

std::vector<KeyInfo> config_keys(const Config& config) {
  std::vector<KeyInfo> out;
  for (const auto& k : schema()) out.push_back({k.path, k.get(config), k.help});
  return out;
}

Config load_config(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(fmt::format("{}: cannot open the config file", path));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this one is "bad file".
    throw ConfigError(fmt::format("{}:{}: nested too deeply (the parser stops at a depth of {})",
                                  path, e.mark.line + 1, e.depth()));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  Config c;
  if (root.IsNull()) return c;  // an empty file is all defaults
  if (!root.IsMap())
    throw ConfigError(fmt::format("{}:1: the config must be a mapping of keys", path));
  load_node(c, path, root, "");
  return c;
}

void apply_override(Config& c, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos)
    throw ConfigError(fmt::format("--set {}: expected key=value", assignment));
  std::string key = util::trim(assignment.substr(0, eq));
  std::string value = util::trim(assignment.substr(eq + 1));
  const Key* k = find_key(key);
  if (k == nullptr)
    throw ConfigError(
        fmt::format("--set {}: unknown key '{}' (see `iocosim keys`)", assignment, key));
  std::string err = k->set(c, value);
  if (!err.empty()) throw ConfigError(fmt::format("--set {}: key '{}': {}", assignment, key, err));
  c.origin[key] = "--set";
}

void validate(const Config& c) {
  auto fail = [&](const std::string& key, const std::string& msg) {
    throw ConfigError(fmt::format("{}: key '{}': {}", c.where(key), key, msg));
  };
  // Files: an output must not name an input (the disk image, the serial input) or another
  // output, however spelled, or one would overwrite the other (an event log written over the
  // disk image). Devices such as /dev/null may be named more than once.
  {
    struct File {
      const char* key;
      const std::string* path;
      bool output;
    };
    const File files[] = {{"devices.disk.image", &c.disk_image, false},
                          {"devices.serial.input", &c.serial_input, false},
                          {"devices.serial.input_script", &c.serial_input_script, false},
                          {"output.vcd", &c.out_vcd, true},
                          {"output.events", &c.out_events, true},
                          {"output.stats", &c.out_stats, true},
                          {"devices.serial.output", &c.serial_output, true},
                          {"interrupt_controller.rtl_vcd", &c.pic_rtl_vcd, true}};
    auto same_file = [](const std::string& a, const std::string& b) {
      std::error_code ec;
      if (std::filesystem::is_character_file(a, ec) || std::filesystem::is_character_file(b, ec))
        return false;
      if (std::filesystem::equivalent(a, b, ec) && !ec) return true;
      const auto ca = std::filesystem::weakly_canonical(a, ec);
      if (ec) return false;
      const auto cb = std::filesystem::weakly_canonical(b, ec);
      return !ec && ca == cb;
    };
    for (std::size_t i = 0; i < std::size(files); ++i) {
      if (!files[i].output || files[i].path->empty()) continue;
      for (std::size_t j = 0; j < std::size(files); ++j) {
        if (j == i || files[j].path->empty() || (files[j].output && j > i)) continue;
        if (same_file(*files[i].path, *files[j].path))
          fail(files[i].key, fmt::format("{} is also {} ({}): refusing to overwrite it",
                                         *files[i].path, files[j].key, c.where(files[j].key)));
      }
    }
  }
  if (c.timer_irq == c.pic_cascade_irq)
    fail("timer.irq",
         fmt::format("IRQ{} is the cascade input (interrupt_controller.cascade_irq)", c.timer_irq));
  for (std::size_t i = 0; i < c.oneshot_irqs.size(); ++i) {
    const unsigned irq = c.oneshot_irqs[i];
    if (irq == c.pic_cascade_irq)
      fail("devices.oneshot_irqs", fmt::format("IRQ{} is the cascade input", irq));
    if (irq == c.timer_irq) fail("devices.oneshot_irqs", fmt::format("IRQ{} is the timer's", irq));
    for (std::size_t j = 0; j < i; ++j) {
      if (c.oneshot_irqs[j] == irq)
        fail("devices.oneshot_irqs", fmt::format("IRQ{} is listed twice", irq));
    }
  }
  const bool needs_two = c.workload == "nested-interrupts";
  const bool needs_one =
      c.workload == "system" || c.workload == "bugcheck" || c.workload == "device-loop";
  if ((needs_two && c.oneshot_irqs.size() < 2) || (needs_one && c.oneshot_irqs.empty()))
    fail("devices.oneshot_irqs",
         fmt::format("workload '{}' needs {} one-shot device(s)", c.workload, needs_two ? 2 : 1));
  if (needs_two && ke::irql_of_irq(c.oneshot_irqs[1]) <= ke::irql_of_irq(c.oneshot_irqs[0]))
    fail("devices.oneshot_irqs",
         "nested-interrupts needs the second device on a higher-priority IRQ (lower number)");
  if (c.workload_period_ps / 1000 > 0xffffffffull || c.workload_period_ps < 1000)
    fail("workload.period",
         "must be between 1ns and 4.29s (the device's 32-bit nanosecond register)");
  if (c.workload_vector_base % 8 != 0)
    fail("workload.vector_base",
         fmt::format("{:#x} is not a multiple of 8", c.workload_vector_base));
  if (c.workload_vector_base < 0x20)
    fail("workload.vector_base", "vectors below 0x20 are the CPU's exceptions");
  if (c.workload_tick_hz > c.timer_clock_hz)
    fail("workload.tick_rate", "faster than the timer's input clock");
  if (c.timer_clock_hz / c.workload_tick_hz > 0x10000)
    fail("workload.tick_rate", fmt::format("needs a divisor above 65536 at timer.clock {}",
                                           util::format_hz(c.timer_clock_hz)));
  if (c.cpu.clock_hz > 1'000'000'000'000ull)
    fail("cpu.clock", "above 1 THz (the picosecond time base)");
  // A quantum below a few CPU cycles synchronizes on every step of work (a 1 ps quantum takes
  // hours of host time per simulated millisecond); above a second it stops meaning anything.
  const std::uint64_t min_quantum = 10 * hw::to_ps(hw::period_of(c.cpu.clock_hz));
  if (c.cpu.quantum_ps != 0 &&
      (c.cpu.quantum_ps < min_quantum || c.cpu.quantum_ps > 1'000'000'000'000ull))
    fail("cpu.quantum", fmt::format("must be 0 (exact) or between {} (10 CPU cycles) and 1s",
                                    util::format_time(min_quantum)));
  if (c.bus_clock_hz > 1'000'000'000'000ull)
    fail("bus.clock", "above 1 THz (the picosecond time base)");
  if (c.ram_base + c.ram_size < c.ram_base)
    fail("memory.ram.size", "the RAM window wraps the address space");
  // The machine's physical addresses are 32-bit (the DMA controller's registers, the drivers).
  if (c.ram_base + c.ram_size > hw::bus::kMemorySpaceSize)
    fail("memory.ram.size",
         fmt::format("the RAM window [{:#x}, {:#x}) does not fit the 4 GiB memory space",
                     c.ram_base, c.ram_base + c.ram_size));
  util::Level level;
  if (!util::parse_level(c.sim_log_level, level)) fail("sim.log_level", "not a level");
  // Every interrupt source on its own line.
  const std::vector<std::pair<const char*, unsigned>> lines = {
      {"timer.irq", c.timer_irq},
      {"dma.irq", c.dma_irq},
      {"devices.disk.irq", c.disk_irq},
      {"devices.serial.irq", c.serial_irq}};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].second == c.pic_cascade_irq)
      fail(lines[i].first, fmt::format("IRQ{} is the cascade input", lines[i].second));
    for (std::size_t j = 0; j < i; ++j) {
      if (lines[j].second == lines[i].second)
        fail(lines[i].first, fmt::format("IRQ{} is also {}", lines[i].second, lines[j].first));
    }
    for (unsigned o : c.oneshot_irqs) {
      if (o == lines[i].second && i > 0)
        fail(lines[i].first, fmt::format("IRQ{} is also a one-shot device's", o));
    }
  }
  if (c.disk_size % hw::devices::kSectorSize != 0)
    fail("devices.disk.size", "not a multiple of 512 bytes");
  if (c.disk_size / hw::devices::kSectorSize > 0xffffffffull)
    fail("devices.disk.size", "more sectors than a 32-bit LBA reaches");
  if (c.disk_dma_channel >= c.dma_channels)
    fail("devices.disk.dma_channel",
         fmt::format("the controller has {} channels (dma.channels)", c.dma_channels));
  if (c.dma_width != 1 && c.dma_width != 2 && c.dma_width != 4)
    fail("workload.dma.width", "must be 1, 2 or 4");
  if (c.workload == "io") {
    if (c.io_timer_period_ps != 0 && c.oneshot_irqs.empty())
      fail("workload.io.timer_period", "the timer driver needs one-shot device 0");
    if (c.io_timer_period_ps / 1000 > 0xffffffffull)
      fail("workload.io.timer_period", "above 4.29 s (the device's 32-bit nanoseconds)");
    const std::uint64_t sectors = c.disk_size / hw::devices::kSectorSize;
    const std::uint64_t end =
        c.io_app == "copy" ? c.io_first_lba + 2 * c.io_sectors : c.io_first_lba + c.io_sectors;
    if (end > sectors)
      fail("workload.io.sectors",
           fmt::format("the region ends at sector {}, past the disk's {} (devices.disk.size){}",
                       end, sectors, c.io_app == "copy" ? "; copy needs twice the region" : ""));
    if (c.ram_size < (4ull << 20)) fail("memory.ram.size", "the io workload needs 4 MiB of RAM");
  }
  if (c.workload == "dma-transfer") {
    if (c.dma_bytes % c.dma_width != 0)
      fail("workload.dma.bytes", "not a multiple of workload.dma.width");
    if (c.dma_bytes > 0xffffffffull) fail("workload.dma.bytes", "above the 32-bit COUNT register");
    const std::uint64_t need =
        c.dma_source == "memory" ? 2 * c.dma_bytes + 0x10000 : c.dma_bytes + 0x10000;
    if (need > c.ram_size)
      fail("workload.dma.bytes",
           fmt::format("needs {} bytes of RAM (memory.ram.size is {})", need, c.ram_size));
    if (c.dma_source == "disk" && c.dma_bytes > c.disk_size)
      fail("workload.dma.bytes", "larger than the disk (devices.disk.size)");
    if (c.dma_source == "disk" && c.dma_bytes % hw::devices::kSectorSize != 0)
      fail("workload.dma.bytes", "the disk moves whole 512-byte sectors");
  }
}

}  // namespace platform
