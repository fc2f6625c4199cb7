#include "platform/config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "hw/apic/apic.h"
#include "hw/bus/bus.h"
#include "hw/core/sim_time.h"
#include "hw/dma/dma.h"
#include "platform/gtkw.h"
#include "platform/paths.h"
#include "platform/yaml_file.h"
#include "sw/apps/kernel_apps.h"
#include "sw/mm/mm.h"
#include "util/log.h"
#include "util/suggest.h"
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

// A schema key's setter: the value parsed by parse_value (settings.cpp), as every declared key's
// is, then stored in its Config member.
Setter parsed(KeySpec spec, std::function<void(Config&, const Settings::Value&)> store) {
  return [spec = std::move(spec), store = std::move(store)](
             Config& c, const std::string& text) -> std::string {
    Settings::Value v;
    if (std::string err = parse_value(spec, text, v); !err.empty()) return err;
    store(c, v);
    return {};
  };
}

// `hex` is how the value is shown; range errors are written in decimal.
template <typename T, typename Acc>
Key integer(std::string path, Acc acc, std::uint64_t min, std::uint64_t max, std::string help,
            bool hex = false) {
  return {std::move(path), std::move(help),
          parsed(integer_key("", 0, min, max, ""),
                 [=](Config& c, const Settings::Value& v) { acc(c) = static_cast<T>(v.number); }),
          [=](const Config& c) {
            auto v = static_cast<std::uint64_t>(acc(const_cast<Config&>(c)));
            return hex ? fmt::format("{:#x}", v) : fmt::format("{}", v);
          }};
}

template <typename Acc>
Key frequency(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          parsed(frequency_key("", "", ""),
                 [=](Config& c, const Settings::Value& v) { acc(c) = v.number; }),
          [=](const Config& c) { return util::format_hz(acc(const_cast<Config&>(c))); }};
}

template <typename Acc>
Key duration(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          parsed(duration_key("", "", ""),
                 [=](Config& c, const Settings::Value& v) { acc(c) = v.number; }),
          [=](const Config& c) { return util::format_time(acc(const_cast<Config&>(c))); }};
}

template <typename Acc>
Key size(std::string path, Acc acc, std::string help) {
  return {
      std::move(path), std::move(help),
      parsed(size_key("", "", ""), [=](Config& c, const Settings::Value& v) { acc(c) = v.number; }),
      [=](const Config& c) { return fmt::format("{:#x}", acc(const_cast<Config&>(c))); }};
}

template <typename Acc>
Key choice(std::string path, Acc acc, std::vector<std::string> allowed, std::string help) {
  return {std::move(path), std::move(help),
          parsed(choice_key("", std::move(allowed), ""),
                 [=](Config& c, const Settings::Value& v) { acc(c) = v.text; }),
          [=](const Config& c) { return acc(const_cast<Config&>(c)); }};
}

template <typename Acc>
Key fraction(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          parsed(fraction_key("", "", ""),
                 [=](Config& c, const Settings::Value& v) { acc(c) = v.real; }),
          [=](const Config& c) { return fmt::format("{}", acc(const_cast<Config&>(c))); }};
}

template <typename Acc>
Key boolean(std::string path, Acc acc, std::string help) {
  return {
      std::move(path), std::move(help),
      parsed(boolean_key("", false, ""),
             [=](Config& c, const Settings::Value& v) { acc(c) = v.number != 0; }),
      [=](const Config& c) { return std::string(acc(const_cast<Config&>(c)) ? "true" : "false"); }};
}

template <typename Acc>
Key path_key(std::string path, Acc acc, std::string help) {
  return {std::move(path), std::move(help),
          parsed(platform::path_key("", "", false, false),
                 [=](Config& c, const Settings::Value& v) { acc(c) = v.text; }),
          [=](const Config& c) { return acc(const_cast<Config&>(c)); }};
}

// A list of distinct IRQ numbers min..15 into `out` (untouched on error): "" or why not.
std::string parse_irq_list(const std::string& text, unsigned min, std::vector<unsigned>& out) {
  std::vector<unsigned> irqs;
  for (const auto& v : split_list(text)) {
    std::uint64_t n;
    if (!util::parse_u64(v, n) || n > 15 || n < min)
      return fmt::format("'{}' is not an IRQ number {}..15", v, min);
    if (std::find(irqs.begin(), irqs.end(), n) != irqs.end())
      return fmt::format("IRQ{} is listed twice", n);
    irqs.push_back(static_cast<unsigned>(n));
  }
  out = irqs;
  return {};
}

// "a = what a is; b = ...", from a registry's help texts, for the keys that name a type.
template <typename T>
std::string type_list(const Registry<T>& r) {
  std::string s;
  for (const auto& t : r.all()) {
    std::string help = t.help;  // the list's own separator stays unambiguous
    for (auto at = help.find("; "); at != std::string::npos; at = help.find("; ", at))
      help.replace(at, 1, ",");
    s += fmt::format("{}{} = {}", s.empty() ? "" : "; ", t.name, help);
  }
  return s;
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
    k.push_back(boolean("cpu.fast_blocks", ACC(cpu.fast_blocks),
                        "software's block copies, fills and checks of RAM run by DMI without "
                        "yielding while nothing else is due (same time, cycles and interrupt "
                        "points); false = word by word, the reference they are checked against"));
    k.push_back(integer<unsigned>("cpu.count", ACC(cpu_count), 1, hw::apic::kMaxLocalApics,
                                  "processors on the bus (more than one needs hal: apic)"));
    k.push_back(choice("hal", ACC(hal), {"pic", "apic"},
                       "pic = the 8259A pair on the one CPU's INTR, IRQL = 27 - IRQ; apic = a "
                       "local APIC per CPU and an I/O APIC, IRQL = the TPR's priority class"));
    k.push_back(duration("apic.latency", ACC(apic_latency_ps),
                         "with hal: apic: time an interrupt message or IPI takes on the APIC bus"));
    k.push_back(choice("apic.delivery", ACC(apic_delivery), {"lowest", "fixed"},
                       "with hal: apic: device interrupts go to the CPU at the lowest TPR "
                       "(lowest priority), or each IRQ to one CPU (fixed: IRQ n to CPU n mod "
                       "count); the clock always to CPU 0"));
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
    k.push_back(integer<unsigned>("cpu.cost.apic_access", ACC(cpu.apic_access), 0, 1000000,
                                  "cycles of a local APIC register access (inside the CPU)"));
    k.push_back(integer<unsigned>("cpu.cost.page_fault_entry", ACC(cpu.page_fault_entry), 0,
                                  1000000,
                                  "cycles from a page fault to its handler's first instruction "
                                  "(with mm.paging; the context save is extra)"));
    k.push_back(integer<unsigned>("cpu.tlb_entries", ACC(cpu.tlb_entries), 1, 4096,
                                  "entries of each CPU's TLB, replaced in turn (with mm.paging)"));
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
    k.push_back(integer<std::uint64_t>(
        "interrupt_controller.elcr_port", ACC(pic_elcr_port), 0, 0xfffe,
        "I/O port of the edge/level control registers (ELCR1: IRQ0-7, ELCR2 at +1: IRQ8-15; "
        "bit set = level-triggered)",
        true));
    Key level{"interrupt_controller.level_irqs",
              "IRQs made level-triggered (ELCR) by the HAL at boot, as firmware does for the "
              "lines PCI devices share: several device instances may use one; [] = all edge",
              [](Config& c, const std::string& text) {
                return parse_irq_list(text, 0, c.pic_level_irqs);
              },
              [](const Config& c) { return fmt::format("{}", fmt::join(c.pic_level_irqs, ",")); },
              true};
    k.push_back(level);
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
    k.push_back(integer<std::uint64_t>("pci.io_window", ACC(pci_io_base), 0, 0xfffc,
                                       "I/O aperture of the PCI host bridge: where Plug and Play "
                                       "places I/O BARs",
                                       true));
    k.push_back(size("pci.io_size", ACC(pci_io_size), "size of the I/O aperture"));
    k.push_back(integer<std::uint64_t>("pci.memory_window", ACC(pci_memory_base), 0, 0xfffffff0,
                                       "memory aperture of the PCI host bridge: where Plug and "
                                       "Play places memory BARs",
                                       true));
    k.push_back(size("pci.memory_size", ACC(pci_memory_size), "size of the memory aperture"));
    Key pirq{"pci.irqs",
             "IRQs the PCI interrupt router can drive (PIRQA-D route registers); Plug and Play "
             "picks among those no legacy device holds, sharing lines when they run out",
             [](Config& c, const std::string& text) -> std::string {
               if (split_list(text).empty()) return "at least one IRQ";
               return parse_irq_list(text, 1, c.pci_irqs);
             },
             [](const Config& c) { return fmt::format("{}", fmt::join(c.pci_irqs, ",")); }, true};
    k.push_back(pirq);
    k.push_back(integer<std::uint64_t>("dma.port", ACC(dma_port), 0, 0xfe00,
                                       "I/O port of the DMA controller's registers", true));
    k.push_back(integer<unsigned>("dma.irq", ACC(dma_irq), 0, 15,
                                  "IRQ of the DMA controller (terminal count and errors)"));
    k.push_back(integer<unsigned>("dma.channels", ACC(dma_channels), hw::dma::kMinChannels,
                                  hw::dma::kMaxChannels, "DMA channels"));
    k.push_back(size("dma.chunk", ACC(dma_chunk),
                     "most bytes a cycle-stealing or transparent segment moves before COUNT "
                     "and memory are updated (burst moves a whole block)"));
    k.push_back(choice("pnp.remove", ACC(pnp_remove), {"after_close", "immediate"},
                       "when a surprise-removed device gets IRP_MN_REMOVE_DEVICE: after_close = "
                       "once its last handle is closed (Windows); immediate = right after "
                       "IRP_MN_SURPRISE_REMOVAL (ReactOS)"));
    k.push_back(
        boolean("mm.paging", ACC(mm.paging),
                "the CPUs translate every memory access through page tables (x86 "
                "two-level paging) and the memory manager pages: paged pool, demand-zero "
                "and hard faults, a pagefile (docs/memory.md); false = physical addresses"));
    k.push_back(size("mm.nonpaged_pool", ACC(mm.nonpaged_pool),
                     "with mm.paging: the RAM above the low 1 MiB given to the nonpaged pool; the "
                     "rest is page frames for page tables, the paged pool and processes"));
    k.push_back(size("mm.paged_pool", ACC(mm.paged_pool),
                     "with mm.paging: the paged pool's virtual size, at 0xE0000000"));
    k.push_back(Key{"mm.pagefile.disk",
                    "with mm.paging: the block device instance the pagefile is on; \"\" = none "
                    "(dirty pages then stay in RAM)",
                    [](Config& c, const std::string& text) -> std::string {
                      c.mm.pagefile_disk = text;
                      return {};
                    },
                    [](const Config& c) { return c.mm.pagefile_disk; }});
    k.push_back(integer<std::uint64_t>("mm.pagefile.offset", ACC(mm.pagefile_offset), 0,
                                       0xffffffffull,
                                       "the byte of its disk where the pagefile starts (a "
                                       "multiple of 4 KiB)",
                                       true));
    k.push_back(size("mm.pagefile.size", ACC(mm.pagefile_size),
                     "the pagefile's size (a multiple of 4 KiB, within the disk)"));
    k.push_back(integer<unsigned>("mm.low_pages", ACC(mm.low_pages), 1, 1u << 20,
                                  "free + zeroed + standby pages below which the balance set "
                                  "manager trims working sets"));
    k.push_back(integer<unsigned>("mm.modified_threshold", ACC(mm.modified_threshold), 1, 1u << 20,
                                  "modified pages above which the modified page writer runs"));
    k.push_back(integer<unsigned>("mm.write_cluster", ACC(mm.write_cluster), 1, 64,
                                  "pages the modified page writer writes per round"));
    k.push_back(duration("mm.balance_period", ACC(mm.balance_period_ps),
                         "how often the balance set manager wakes to age working sets"));
    k.push_back(boolean("mm.zero_thread", ACC(mm.zero_thread),
                        "a priority-1 thread zeroes free pages while nothing else runs"));
    Key verified{
        "verifier.drivers",
        "drivers Driver Verifier watches, by name (Disk, disk.sys or \\Driver\\Disk)",
        [](Config& c, const std::string& text) -> std::string {
          c.verifier.drivers = split_list(text);
          return {};
        },
        [](const Config& c) { return fmt::format("{}", fmt::join(c.verifier.drivers, ",")); },
        true};
    k.push_back(verified);
    k.push_back(boolean("verifier.irql_checking", ACC(verifier.irql_checking),
                        "Force IRQL Checking: each time a verified driver raises IRQL to "
                        "DISPATCH_LEVEL or above, all pageable memory is trimmed, so a touch of "
                        "paged memory there bug-checks at once (needs mm.paging)"));
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
    k.push_back(integer<unsigned>(
        "kernel.cost.processor_start", ACC(kernel_costs.processor_start), 1, 1000000,
        "cycles the boot processor spends starting each other processor (its startup IPIs)"));
    Key kind{"workload.kind",
             "software run on the CPU, a registered workload type: " + type_list(workload_types()),
             [](Config& c, const std::string& text) -> std::string {
               if (workload_types().find(text) == nullptr)
                 return fmt::format("'{}' is not one of: {}", text,
                                    fmt::join(workload_types().names(), ", "));
               c.workload = text;
               return {};
             },
             [](const Config& c) { return c.workload; }};
    k.push_back(kind);
    k.push_back(frequency("workload.tick_rate", ACC(workload_tick_hz),
                          "timer interrupt rate the idle workload programs"));
    k.push_back(integer<std::uint64_t>(
        "workload.vector_base", ACC(workload_vector_base), 0, 0xf0,
        "master 8259A vector base (multiple of 8); the slave uses +8", true));
    k.push_back(duration("sim.until", ACC(sim_until_ps), "simulated time to run"));
    k.push_back(choice("sim.log_level", ACC(sim_log_level),
                       {"trace", "debug", "info", "warn", "error", "off"},
                       "least severe log level printed on stderr"));
    k.push_back(path_key("output.vcd", ACC(out_vcd),
                         "waveform file: VCD, or FST (GTKWave's compressed format) when it ends in "
                         ".fst; empty = no tracing"));
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
    k.push_back(choice("output.vcd_writer", ACC(out_vcd_writer), {"iocosim", "systemc"},
                       "the VCD's writer: iocosim = its own (faster); systemc = SystemC's "
                       "sc_create_vcd_trace_file, the reference it is compared with (the same "
                       "value changes)"));
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

// "a.b.c" -> ("a", "b.c"); no dot -> (text, "").
std::pair<std::string, std::string> split_first(const std::string& text) {
  const auto dot = text.find('.');
  if (dot == std::string::npos) return {text, ""};
  return {text.substr(0, dot), text.substr(dot + 1)};
}

// A key a registered type declared, and where its value lives in a config.
struct TypedKey {
  Settings* settings = nullptr;
  const KeySpec* spec = nullptr;
  const DeviceInstance* instance = nullptr;  // for devices.<name>.<key>
};

const WorkloadType* workload_section(const std::string& section) {
  for (const auto& w : workload_types().all()) {
    if (!w.section.empty() && w.section == section) return &w;
  }
  return nullptr;
}

// drivers.<type>.<key>, workload.<section>.<key>, devices.<name>.<key>; null spec if not one.
TypedKey registered_key(Config& c, const std::string& path) {
  TypedKey out;
  auto [root, rest] = split_first(path);
  auto [first, key] = split_first(rest);
  if (key.empty() || key.find('.') != std::string::npos) return out;
  if (root == "drivers") {
    if (const DriverType* t = driver_types().find(first)) {
      out.settings = &c.drivers[first];
      out.spec = find_spec(t->keys, key);
    }
  } else if (root == "workload") {
    if (const WorkloadType* w = workload_section(first)) {
      out.settings = &c.workloads[first];
      out.spec = find_spec(w->keys, key);
    }
  } else if (root == "devices") {
    for (auto& d : c.devices) {
      if (d.name != first) continue;
      if (const DeviceType* t = device_types().find(d.type)) {
        out.settings = &d.settings;
        out.spec = find_spec(t->keys, key);
        out.instance = &d;
      }
    }
  }
  return out;
}

// A type's check result, "key: why"; a message without a key is the whole type's.
std::pair<std::string, std::string> split_check(const std::string& err) {
  const auto colon = err.find(": ");
  const std::string key = colon == std::string::npos ? "" : err.substr(0, colon);
  if (key.empty() || key.find(' ') != std::string::npos) return {"", err};
  return {key, err.substr(colon + 2)};
}

bool is_prefix(const std::string& path) {
  for (const auto& k : schema()) {
    if (k.path.size() > path.size() && k.path.compare(0, path.size(), path) == 0 &&
        k.path[path.size()] == '.')
      return true;
  }
  auto [root, rest] = split_first(path);
  if (root == "drivers") return rest.empty() || driver_types().find(rest) != nullptr;
  if (root == "workload" && !rest.empty()) return workload_section(rest) != nullptr;
  return false;
}

// Input files that ship with a config are found beside it, wherever iocosim runs from
// (outputs stay relative to the working directory).
std::string beside(const std::string& file, const std::string& text) {
  if (text.empty() || text[0] == '/') return text;
  const auto dir = std::filesystem::path(file).parent_path();
  return dir.empty() ? text : (dir / text).string();
}

// A scalar, or a sequence of scalars joined with commas (as after --set).
std::string scalar_text(const std::string& file, int line, const std::string& path,
                        const YAML::Node& value, bool list) {
  std::string text;
  if (value.IsSequence()) {
    if (!list)
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
  } else if (value.IsMap()) {
    throw ConfigError(
        fmt::format("{}:{}: key '{}' takes a value, not a mapping", file, line, path));
  } else if (!value.IsNull()) {
    throw ConfigError(fmt::format("{}:{}: key '{}' has an unsupported value", file, line, path));
  }
  return util::trim(text);
}

std::string key_names(const std::vector<KeySpec>& keys) {
  std::vector<std::string> names = {"type", "name", "driver", "filters",
                                    "bus",  "bar",  "slot",   "remove_at"};
  for (const auto& k : keys) names.push_back(k.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

bool generic_key(const std::string& key) {
  return key == "driver" || key == "filters" || key == "bus" || key == "bar" || key == "slot" ||
         key == "remove_at";
}

// The generic keys every instance has beside its type's: `driver`, `filters`, and where it
// sits (`bus`, `bar`, `slot`, `remove_at`).
std::string set_generic(DeviceInstance& d, const std::string& key, const std::string& text) {
  Settings::Value v;
  if (key == "bus") {
    if (auto err = parse_value(choice_key("", {"isa", "pci"}, ""), text, v); !err.empty())
      return err;
    d.bus = v.text;
    return {};
  }
  if (key == "bar") {
    if (auto err = parse_value(choice_key("", {"io", "memory"}, ""), text, v); !err.empty())
      return err;
    d.bar = v.text;
    return {};
  }
  if (key == "slot") {
    if (auto err = parse_value(integer_key("", 0, 0, 31, ""), text, v); !err.empty()) return err;
    d.slot = static_cast<unsigned>(v.number);
    return {};
  }
  if (key == "remove_at") {
    if (auto err = parse_value(duration_key("", "0", ""), text, v); !err.empty()) return err;
    d.remove_at_ps = v.number;
    return {};
  }
  if (key == "driver") {
    const DriverType* t = driver_types().find(text);
    if (text != "none" && (t == nullptr || t->filter))
      return fmt::format("'{}' is not a driver type (registered: {}; or none)", text,
                         fmt::join(driver_types().names(), ", "));
    d.driver = text;
    return {};
  }
  std::vector<std::string> filters = split_list(text);
  for (const auto& f : filters) {
    const DriverType* t = driver_types().find(f);
    if (t == nullptr || !t->filter) return fmt::format("'{}' is not a filter driver type", f);
  }
  d.filters = filters;
  return {};
}

// Instances are children of the platform module beside the chipset and the wiring, whose
// names they may not take ("" or why not).
std::string reserved_name(const std::string& name) {
  static const char* const kChipset[] = {"cpu0", "bus",  "ram",  "pic",       "timer",  "dma",
                                         "intr", "dreq", "dack", "timer_out", "dma_irq"};
  for (const char* r : kChipset) {
    if (name == r) return "is the name of a part of the chipset";
  }
  auto ends_with = [&](const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
  };
  if (ends_with("_irq")) return "ends in _irq, which names the platform's interrupt wires";
  if (name.size() > 3 && name.compare(0, 3, "irq") == 0 &&
      std::isdigit(static_cast<unsigned char>(name[3])))
    return "is the name of an IRQ line's wiring (irqN, irqN_ext, irqN_or)";
  return {};
}

void parse_devices(Config& c, const std::string& file, const YAML::Node& list, int list_line) {
  c.devices.clear();
  c.origin["devices"] = fmt::format("{}:{}", file, list_line);
  if (list.IsNull()) return;  // `devices: []` or empty: a machine with only the chipset
  if (!list.IsSequence())
    throw ConfigError(
        fmt::format("{}:{}: key 'devices': expected a list of device instances, each "
                    "{{type: ..., name: ..., <that type's keys>}} (device types: {})",
                    file, list_line, fmt::join(device_types().names(), ", ")));
  std::size_t index = 0;
  for (const auto& entry : list) {
    const int line = entry.Mark().line + 1;
    const std::string at = fmt::format("devices[{}]", index++);
    if (!entry.IsMap())
      throw ConfigError(
          fmt::format("{}:{}: key '{}': expected a mapping such as {{type: block, "
                      "name: disk0, ...}}",
                      file, line, at));
    auto scalar = [&](const char* k) -> std::string {
      const YAML::Node v = entry[k];
      if (!v)
        throw ConfigError(
            fmt::format("{}:{}: key '{}.{}': missing (every instance has a type "
                        "and a name; device types: {})",
                        file, line, at, k, fmt::join(device_types().names(), ", ")));
      return scalar_text(file, v.Mark().line + 1, at + "." + k, v, false);
    };
    DeviceInstance d;
    d.type = scalar("type");
    d.name = scalar("name");
    d.where = fmt::format("{}:{}", file, line);
    const DeviceType* type = device_types().find(d.type);
    if (type == nullptr)
      throw ConfigError(fmt::format(
          "{}:{}: key '{}.type': unknown device type '{}' (registered: {})", file,
          entry["type"].Mark().line + 1, at, d.type, fmt::join(device_types().names(), ", ")));
    const KeySpec name_spec = name_key("name", "", "");
    Settings probe;
    if (std::string err = probe.set(name_spec, d.name, ""); !err.empty() || d.name.empty())
      throw ConfigError(fmt::format("{}:{}: key '{}.name': {}", file, entry["name"].Mark().line + 1,
                                    at, err.empty() ? "empty" : err));
    if (std::string why = reserved_name(d.name); !why.empty())
      throw ConfigError(fmt::format("{}:{}: key '{}.name': '{}' {}", file,
                                    entry["name"].Mark().line + 1, at, d.name, why));
    for (const auto& other : c.devices) {
      if (other.name == d.name)
        throw ConfigError(
            fmt::format("{}:{}: key '{}.name': '{}' is also the name of the instance "
                        "at {}",
                        file, entry["name"].Mark().line + 1, at, d.name, other.where));
    }
    d.driver = type->driver.empty() ? "none" : type->driver;
    for (const auto& item : entry) {
      const int kline = item.first.Mark().line + 1;
      const std::string key = item.first.Scalar();
      if (key == "type" || key == "name") continue;
      const std::string path = d.key(key);
      const KeySpec* spec = find_spec(type->keys, key);
      const bool generic = generic_key(key);
      if (spec == nullptr && !generic)
        throw ConfigError(fmt::format("{}:{}: key '{}': unknown key for a {} device (its keys: {})",
                                      file, kline, path, d.type, key_names(type->keys)));
      std::string text =
          scalar_text(file, kline, path, item.second,
                      key == "filters" || (spec != nullptr && spec->kind == KeyKind::list));
      std::string err;
      if (generic) {
        err = set_generic(d, key, text);
      } else {
        if (spec->beside_config) text = beside(file, text);
        err = d.settings.set(*spec, text, fmt::format("{}:{}", file, kline));
      }
      if (!err.empty())
        throw ConfigError(fmt::format("{}:{}: key '{}': {}", file, kline, path, err));
    }
    for (const auto& spec : type->keys) {
      const bool placed = spec.resource == Resource::io_window || spec.resource == Resource::irq;
      if (d.bus == "pci" && placed && d.settings.has(spec.name))
        throw ConfigError(fmt::format(
            "{}: key '{}': a PCI device's {} is assigned by Plug and Play; remove the key "
            "(or put the device on bus: isa)",
            d.settings.where(spec.name), d.key(spec.name),
            spec.resource == Resource::irq ? "interrupt" : "register window (its BAR)"));
      if (spec.required && !d.settings.has(spec.name) && !(d.bus == "pci" && placed))
        throw ConfigError(fmt::format("{}:{}: key '{}': missing (a {} device needs it: {})", file,
                                      line, d.key(spec.name), d.type, spec.help));
    }
    d.settings.fill_defaults(type->keys);
    c.devices.push_back(std::move(d));
  }
}

// Every key a config has (for "did you mean").
std::vector<std::string> known_key_paths(const Config& c) {
  std::vector<std::string> out;
  for (const auto& k : resolved_keys(c)) out.push_back(k.path);
  return out;
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
    if (path == "devices") {
      parse_devices(c, file, value, line);
      continue;
    }
    if (value.IsMap()) {
      if (!is_prefix(path)) {
        const bool takes_value = find_key(path) != nullptr || registered_key(c, path).spec;
        throw ConfigError(
            takes_value
                ? fmt::format("{}:{}: key '{}' takes a value, not a mapping", file, line, path)
                : fmt::format("{}:{}: unknown key '{}'{} (see `iocosim keys`)", file, line, path,
                              util::did_you_mean(path, known_key_paths(c))));
      }
      load_node(c, file, value, path);
      continue;
    }
    const Key* k = find_key(path);
    const TypedKey tk = k ? TypedKey{} : registered_key(c, path);
    if (k == nullptr && tk.spec == nullptr) {
      throw ConfigError(
          is_prefix(path)
              ? fmt::format("{}:{}: key '{}' is a section; give it a mapping", file, line, path)
              : fmt::format("{}:{}: unknown key '{}'{} (see `iocosim keys`)", file, line, path,
                            util::did_you_mean(path, known_key_paths(c))));
    }
    std::string text =
        scalar_text(file, line, path, value, k ? k->list : tk.spec->kind == KeyKind::list);
    std::string err;
    if (k) {
      err = k->set(c, text);
    } else {
      if (tk.spec->beside_config) text = beside(file, text);
      err = tk.settings->set(*tk.spec, text, fmt::format("{}:{}", file, line));
    }
    if (!err.empty()) throw ConfigError(fmt::format("{}:{}: key '{}': {}", file, line, path, err));
    c.origin[path] = fmt::format("{}:{}", file, line);
  }
}

DeviceInstance make_instance(const std::string& type, const std::string& name,
                             const std::vector<std::pair<std::string, std::string>>& values,
                             std::vector<std::string> filters = {}) {
  const DeviceType* t = device_types().find(type);
  if (t == nullptr) throw std::logic_error("no built-in device type " + type);
  DeviceInstance d;
  d.type = type;
  d.name = name;
  d.where = "default";
  d.driver = t->driver.empty() ? "none" : t->driver;
  d.filters = std::move(filters);
  for (const auto& [k, v] : values) {
    const KeySpec* spec = find_spec(t->keys, k);
    if (spec == nullptr || !d.settings.set(*spec, v, "default").empty())
      throw std::logic_error("bad built-in default " + type + "." + k);
  }
  d.settings.fill_defaults(t->keys);
  return d;
}

}  // namespace

std::vector<DeviceInstance> default_devices() {
  return {make_instance("block", "disk0", {{"port", "0x1f0"}, {"irq", "14"}, {"dma_channel", "1"}},
                        {"filter"}),
          make_instance("serial", "com1", {{"port", "0x3f8"}, {"irq", "4"}}),
          make_instance("oneshot", "oneshot0", {{"port", "0x300"}, {"irq", "5"}}),
          make_instance("oneshot", "oneshot1", {{"port", "0x310"}, {"irq", "3"}})};
}

std::map<std::string, Settings> default_driver_settings() {
  std::map<std::string, Settings> out;
  for (const auto& t : driver_types().all()) out[t.name].fill_defaults(t.keys);
  return out;
}

std::map<std::string, Settings> default_workload_settings() {
  std::map<std::string, Settings> out;
  for (const auto& t : workload_types().all())
    if (!t.section.empty()) out[t.section].fill_defaults(t.keys);
  return out;
}

std::map<std::string, unsigned> pci_slots(const Config& c) {
  std::map<std::string, unsigned> out;
  std::vector<bool> taken(32, false);
  taken[0] = true;  // the host bridge
  for (const auto& d : c.devices)
    if (d.bus == "pci" && d.slot != 0) {
      out[d.name] = d.slot;
      taken[d.slot] = true;
    }
  unsigned next = 1;
  for (const auto& d : c.devices) {
    if (d.bus != "pci" || d.slot != 0) continue;
    while (next < 32 && taken[next]) ++next;
    if (next >= 32) break;  // validate reports the bus full
    out[d.name] = next;
    taken[next] = true;
  }
  return out;
}

std::string Config::where(const std::string& key) const {
  auto it = origin.find(key);
  if (it != origin.end()) return it->second;
  // devices.<name>.<key>: where the instance's key was set, else where the instance is.
  auto [root, rest] = split_first(key);
  auto [first, sub] = split_first(rest);
  if (root == "devices") {
    if (const DeviceInstance* d = device(first)) {
      const std::string w = d->settings.where(sub);
      return w != "default" ? w : d->where;
    }
  }
  if (root == "drivers" && drivers.count(first)) return drivers.at(first).where(sub);
  if (root == "workload" && workloads.count(first)) return workloads.at(first).where(sub);
  return "default";
}

const DeviceInstance* Config::device(const std::string& name) const {
  for (const auto& d : devices) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const Settings& Config::workload_keys(const std::string& section) const {
  return workloads.at(section);
}

const Settings& Config::driver_keys(const std::string& type) const {
  return drivers.at(type);
}

namespace {
// A choice key's values, unless its help already names every one of them.
std::string choices_text(const KeySpec& k) {
  if (k.kind != KeyKind::choice || k.choices.empty()) return {};
  bool all_named = true;
  for (const auto& c : k.choices) all_named &= k.help.find(c) != std::string::npos;
  return all_named ? std::string{} : fmt::format(" (one of: {})", fmt::join(k.choices, ", "));
}
}  // namespace

std::vector<KeyInfo> config_keys(const Config& config) {
  std::vector<KeyInfo> out;
  for (const auto& k : schema()) out.push_back({k.path, k.get(config), k.help});
  out.push_back({"devices[].type", "(required)",
                 "device instance: its registered type: " + type_list(device_types())});
  out.push_back({"devices[].name", "(required)",
                 "device instance: its name, unique; the model's name in the VCD, the event "
                 "log, the statistics and the summary, and in --set devices.NAME.KEY=VALUE"});
  out.push_back(
      {"devices[].driver", "(the type's)",
       "device instance: the driver type bound to it, or none: " + type_list(driver_types())});
  out.push_back({"devices[].filters", "[]",
                 "device instance: filter driver types stacked over its device, bottom first"});
  out.push_back({"devices[].bus", "isa",
                 "device instance: isa = a legacy device at the window and IRQ its keys fix, "
                 "reported by the root enumerator; pci = a function on the PCI bus, whose BAR "
                 "and interrupt Plug and Play assigns (give no port or irq)"});
  out.push_back({"devices[].bar", "io",
                 "device instance on PCI: its registers in an I/O BAR (io) or a memory BAR "
                 "(memory); the driver runs unchanged on either"});
  out.push_back({"devices[].slot", "0",
                 "device instance on PCI: its device number 1..31; 0 = the next free one"});
  out.push_back({"devices[].remove_at", "0",
                 "device instance on PCI: surprise removal at this simulated time (the function "
                 "leaves the bus; the bus driver learns it by the hot-plug interrupt); 0 = never"});
  for (const auto& t : device_types().all()) {
    for (const auto& k : t.keys)
      out.push_back({fmt::format("devices[{}].{}", t.name, k.name), default_text(k),
                     fmt::format("{}: {}{}", t.name, k.help, choices_text(k))});
  }
  for (const auto& t : driver_types().all()) {
    for (const auto& k : t.keys)
      out.push_back({fmt::format("drivers.{}.{}", t.name, k.name), default_text(k),
                     k.help + choices_text(k)});
  }
  for (const auto& t : workload_types().all()) {
    for (const auto& k : t.keys)
      out.push_back({fmt::format("workload.{}.{}", t.section, k.name), default_text(k),
                     fmt::format("{}: {}{}", t.name, k.help, choices_text(k))});
  }
  return out;
}

std::vector<ResolvedKey> resolved_keys(const Config& c) {
  std::vector<ResolvedKey> out;
  for (const auto& k : schema()) out.push_back({k.path, k.get(c), k.list});
  for (const auto& d : c.devices) {
    const std::string at = "devices." + d.name + ".";
    out.push_back({at + "type", d.type});
    out.push_back({at + "name", d.name});
    out.push_back({at + "driver", d.driver});
    out.push_back({at + "filters", fmt::format("{}", fmt::join(d.filters, ",")), true});
    out.push_back({at + "bus", d.bus});
    if (d.bus == "pci") {
      out.push_back({at + "bar", d.bar});
      out.push_back({at + "slot", std::to_string(d.slot)});
      out.push_back({at + "remove_at", util::format_time(d.remove_at_ps)});
    }
    const DeviceType* t = device_types().find(d.type);
    for (const auto& [key, v] : d.settings.values()) {
      const KeySpec* spec = t ? find_spec(t->keys, key) : nullptr;
      out.push_back(
          {at + key, v.text, spec && spec->kind == KeyKind::list, spec && spec->beside_config});
    }
  }
  auto settings = [&](const char* root, const std::map<std::string, Settings>& m) {
    for (const auto& [section, keys] : m)
      for (const auto& [key, v] : keys.values())
        out.push_back(
            {fmt::format("{}.{}.{}", root, section, key), v.text, v.kind == KeyKind::list});
  };
  settings("drivers", c.drivers);
  settings("workload", c.workloads);
  return out;
}

std::string resolved_yaml(const Config& c) {
  // A value as YAML reads it back: lists as flow sequences, everything else a scalar (quoted
  // where YAML would otherwise read it as something else: "", "[...]", "#...").
  auto value = [](const ResolvedKey& k) {
    YAML::Node n;
    if (k.list) {
      n = YAML::Node(YAML::NodeType::Sequence);
      n.SetStyle(YAML::EmitterStyle::Flow);
      for (const auto& e : split_list(k.value)) n.push_back(e);
    } else if (k.input_path && !k.value.empty()) {
      n = std::filesystem::absolute(k.value).lexically_normal().string();
    } else {
      n = k.value;
    }
    return n;
  };
  YAML::Node root(YAML::NodeType::Map);
  YAML::Node devices(YAML::NodeType::Sequence);
  std::map<std::string, std::size_t> device_index;
  for (const auto& k : resolved_keys(c)) {
    std::vector<std::string> parts;
    for (std::size_t from = 0;;) {
      const auto dot = k.path.find('.', from);
      parts.push_back(k.path.substr(from, dot - from));
      if (dot == std::string::npos) break;
      from = dot + 1;
    }
    if (parts.size() == 3 && parts[0] == "devices") {
      auto [it, fresh] = device_index.emplace(parts[1], devices.size());
      if (fresh) devices.push_back(YAML::Node(YAML::NodeType::Map));
      devices[it->second][parts[2]] = value(k);
      continue;
    }
    // Sections nest as the key's dots say (cpu.cost.inta is cpu: cost: inta:).
    std::vector<YAML::Node> chain{root};
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      YAML::Node next = chain.back()[parts[i]];
      if (!next.IsMap()) next = YAML::Node(YAML::NodeType::Map);
      chain.back()[parts[i]] = next;
      chain.push_back(next);
    }
    chain.back()[parts.back()] = value(k);
  }
  root["devices"] = devices;
  YAML::Emitter e;
  e << root;
  return fmt::format("# iocosim's resolved config: every key, defaults and overrides applied\n{}\n",
                     e.c_str());
}

namespace {
// A key given twice in one mapping: yaml-cpp keeps both and a lookup finds one of them, so one
// of the two lines would be ignored without a word. Iterative (a deep document is refused by
// the parser itself, but nothing here should recurse on input depth).
void check_duplicate_keys(const std::string& path, const YAML::Node& root,
                          const std::string& prefix) {
  std::vector<YAML::Node> stack{root};
  while (!stack.empty()) {
    const YAML::Node n = stack.back();
    stack.pop_back();
    if (n.IsMap()) {
      std::map<std::string, int> seen;  // key -> its first line
      for (const auto& item : n) {
        if (item.first.IsScalar()) {
          const int line = item.first.Mark().line + 1;
          const auto [it, fresh] = seen.emplace(item.first.Scalar(), line);
          if (!fresh)
            throw ConfigError(fmt::format(
                "{}:{}: {}key '{}' appears twice in one mapping (first at line {}); YAML keeps "
                "only one of them",
                path, line, prefix, util::printable(item.first.Scalar()), it->second));
        }
        stack.push_back(item.second);
      }
    } else if (n.IsSequence()) {
      for (const auto& e : n) stack.push_back(e);
    }
  }
}
}  // namespace

YAML::Node load_yaml_file(const std::string& path, const std::string& what,
                          const std::string& prefix) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    check_duplicate_keys(path, root, prefix);
    return root;
  } catch (const YAML::BadFile&) {
    throw ConfigError(fmt::format("{}: cannot open {}", path, what));
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this one is "bad file".
    throw ConfigError(fmt::format("{}:{}: {}nested too deeply (the parser stops at a depth of {})",
                                  path, e.mark.line + 1, prefix, e.depth()));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: {}{}", path, e.mark.line + 1, prefix, e.msg));
  }
}

void key_error(const std::string& path, const YAML::Node& node, const std::string& key,
               const std::string& why) {
  throw ConfigError(fmt::format("{}:{}: key '{}': {}", path, node.Mark().line + 1, key, why));
}

Config load_config(const std::string& path) {
  const YAML::Node root = load_yaml_file(path, "the config file");
  Config c;
  if (root.IsNull()) return c;  // an empty file is all defaults
  if (!root.IsMap())
    throw ConfigError(fmt::format("{}:1: the config must be a mapping of keys", path));
  load_node(c, path, root, "");
  return c;
}

void apply_override(Config& c, const std::string& assignment, const std::string& typed) {
  const std::string shown = typed.empty() ? "--set " + assignment : typed;
  auto eq = assignment.find('=');
  if (eq == std::string::npos) throw ConfigError(fmt::format("{}: expected key=value", shown));
  std::string key = util::trim(assignment.substr(0, eq));
  std::string value = util::trim(assignment.substr(eq + 1));
  auto fail = [&](const std::string& why) {
    throw ConfigError(fmt::format("{}: key '{}': {}", shown, key, why));
  };
  std::string err;
  if (const Key* k = find_key(key)) {
    err = k->set(c, value);
  } else if (TypedKey tk = registered_key(c, key); tk.spec != nullptr) {
    err = tk.settings->set(*tk.spec, value, shown);
  } else {
    auto [root, rest] = split_first(key);
    auto [name, sub] = split_first(rest);
    if (root != "devices" || sub.empty())
      throw ConfigError(fmt::format("{}: unknown key '{}'{} (see `iocosim keys`)", shown, key,
                                    util::did_you_mean(key, known_key_paths(c))));
    // (C++17 lambdas cannot capture a structured binding; clang refuses what g++ accepts.)
    const std::string instance = name;
    auto it = std::find_if(c.devices.begin(), c.devices.end(),
                           [&](const DeviceInstance& d) { return d.name == instance; });
    if (it == c.devices.end()) {
      std::vector<std::string> names;
      for (const auto& d : c.devices) names.push_back(d.name);
      fail(fmt::format("no device instance named '{}' (instances: {})", name,
                       names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
    }
    if (!generic_key(sub))
      fail(fmt::format("unknown key for a {} device (its keys: {})", it->type,
                       key_names(device_types().find(it->type)->keys)));
    err = set_generic(*it, sub, value);
    if (err.empty() && sub == "bus") {
      // Moving an instance between buses: on PCI its window and IRQ are Plug and Play's; back
      // on ISA it needs them given (validate names what is missing).
      for (const auto& spec : device_types().find(it->type)->keys) {
        if (spec.resource != Resource::io_window && spec.resource != Resource::irq) continue;
        if (it->bus == "pci") it->settings.erase(spec.name);
      }
    }
  }
  if (!err.empty()) fail(err);
  // Where it was set, as typed ("--until 5ms", "--set hal=apic"): errors that involve it name
  // the option the user wrote.
  c.origin[key] = shown;
}

static std::vector<FileRole> file_roles(const Config& c) {
  auto key = [&](const std::string& k, const std::string& path, bool output, bool in_place) {
    return FileRole{k, path, c.where(k), output, in_place};
  };
  std::vector<FileRole> files = {key("output.vcd", c.out_vcd, true, false),
                                 key("output.events", c.out_events, true, false),
                                 key("output.stats", c.out_stats, true, false),
                                 key("interrupt_controller.rtl_vcd", c.pic_rtl_vcd, true, false)};
  if (!c.out_vcd.empty())
    files.push_back({"output.vcd's GTKWave view", vcd_base(c.out_vcd) + ".gtkw", "", true, false});
  if (!c.out_trace.empty()) files.push_back({"--trace", c.out_trace, "", true, false});
  if (!c.source.empty()) files.push_back({"the config file", c.source, "", false, false});
  for (const auto& d : c.devices) {
    for (const auto& spec : device_types().find(d.type)->keys) {
      if ((spec.input_file || spec.output_file || spec.in_place) && d.settings.has(spec.name))
        files.push_back(
            key(d.key(spec.name), d.settings.text(spec.name), spec.output_file, spec.in_place));
    }
  }
  return files;
}

std::vector<FileRole> written_files(const Config& c) {
  std::vector<FileRole> out;
  for (auto& f : file_roles(c))
    if ((f.output || f.in_place) && !f.path.empty()) out.push_back(std::move(f));
  return out;
}

void validate(const Config& c) {
  auto fail = [&](const std::string& key, const std::string& msg) {
    throw ConfigError(fmt::format("{}: key '{}': {}", c.where(key), key, msg));
  };
  // Files: an output must not name an input (a disk image, a serial input, the config file
  // itself) or another output, given or derived (the VCD's GTKWave view, the run's --trace),
  // however spelled; a file written in place (a disk image) is one key's alone. Inputs may be
  // shared. Devices such as /dev/null may be named more than once (platform/paths.h).
  check_files(file_roles(c));
  // The lines the chipset's ELCR keeps edge-triggered (hw/intc/controller.h: the PIIX's masks).
  auto edge_only = [](unsigned irq) {
    return irq == 0 || irq == 1 || irq == 2 || irq == 8 || irq == 13;
  };
  for (unsigned irq : c.pic_level_irqs) {
    if (edge_only(irq) && irq != c.timer_irq && irq != c.pic_cascade_irq)
      fail("interrupt_controller.level_irqs",
           fmt::format("IRQ{} cannot be level-triggered: the chipset's ELCR keeps IRQ0, 1, 2, 8 "
                       "and 13 edge-triggered",
                       irq));
    if (irq == c.pic_cascade_irq)
      fail("interrupt_controller.level_irqs",
           fmt::format("IRQ{} is the cascade input, which stays edge-triggered", irq));
    if (irq == c.timer_irq)
      fail("interrupt_controller.level_irqs",
           fmt::format("IRQ{} is the timer's: OUT0 is high between its pulses, so a level "
                       "input would interrupt without end",
                       irq));
  }
  if (c.timer_irq == c.pic_cascade_irq)
    fail("timer.irq",
         fmt::format("IRQ{} is the cascade input (interrupt_controller.cascade_irq)", c.timer_irq));
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

  // Resources, generically across the chipset and every instance: I/O windows may not
  // overlap, an IRQ line has one device (the HAL programs the 8259A edge-triggered, and an
  // edge-triggered line cannot be shared), a DMA channel one device.
  struct Claim {
    std::string key;
    Resource kind;
    std::uint64_t lo, hi;  // [lo, hi)
  };
  std::vector<Claim> claims = {
      {"pci.config", Resource::io_window, 0xcf8, 0xd00},
      {"pci.io_window", Resource::io_window, c.pci_io_base, c.pci_io_base + c.pci_io_size},
      {"interrupt_controller.master_port", Resource::io_window, c.pic_master_port,
       c.pic_master_port + 2},
      {"interrupt_controller.slave_port", Resource::io_window, c.pic_slave_port,
       c.pic_slave_port + 2},
      {"interrupt_controller.elcr_port", Resource::io_window, c.pic_elcr_port, c.pic_elcr_port + 2},
      {"timer.port", Resource::io_window, c.timer_port, c.timer_port + 4},
      {"dma.port", Resource::io_window, c.dma_port,
       c.dma_port + hw::dma::window_size(c.dma_channels)},
      {"interrupt_controller.cascade_irq", Resource::irq, c.pic_cascade_irq, c.pic_cascade_irq + 1},
      {"timer.irq", Resource::irq, c.timer_irq, c.timer_irq + 1},
      {"dma.irq", Resource::irq, c.dma_irq, c.dma_irq + 1}};
  // PCI: the apertures fit their spaces and miss RAM; each instance on the bus can be there.
  if (c.pci_io_size == 0 || c.pci_io_base + c.pci_io_size > hw::bus::kIoSpaceSize)
    fail("pci.io_size", fmt::format("the I/O aperture [{:#x}, {:#x}) does not fit the 64 KiB port "
                                    "space",
                                    c.pci_io_base, c.pci_io_base + c.pci_io_size));
  if (c.pci_memory_size == 0 || c.pci_memory_base + c.pci_memory_size > hw::bus::kMemorySpaceSize)
    fail("pci.memory_size", "the memory aperture does not fit the 4 GiB memory space");
  if (c.pci_memory_base < c.ram_base + c.ram_size &&
      c.ram_base < c.pci_memory_base + c.pci_memory_size)
    fail("pci.memory_window",
         fmt::format("the memory aperture [{:#x}, {:#x}) overlaps the RAM [{:#x}, {:#x})",
                     c.pci_memory_base, c.pci_memory_base + c.pci_memory_size, c.ram_base,
                     c.ram_base + c.ram_size));
  if (c.hal == "pic" && c.cpu_count > 1)
    fail("cpu.count", fmt::format("{} processors need hal: apic (the 8259A pair interrupts one "
                                  "CPU)",
                                  c.cpu_count));
  if (c.hal == "apic" && c.kernel_irql_mode == "lazy")
    fail("kernel.irql_mode",
         "lazy IRQL is the PIC HAL's (the APIC HAL writes the TPR on every "
         "change, as Windows' APIC HALs do)");
  if (c.hal == "apic") {
    // The APIC pages: the bus must decode the I/O APIC's, and the local APIC's shadows whatever
    // the bus has there for every CPU.
    auto overlaps = [](std::uint64_t a, std::uint64_t as, std::uint64_t b, std::uint64_t bs) {
      return a < b + bs && b < a + as;
    };
    for (auto [what, base, size] :
         {std::tuple{"I/O APIC", hw::apic::kIoApicBase, hw::apic::kIoApicSize},
          std::tuple{"local APIC", hw::apic::kLocalApicBase, hw::apic::kLocalApicSize}}) {
      if (overlaps(c.pci_memory_base, c.pci_memory_size, base, size))
        fail("pci.memory_window",
             fmt::format("the memory aperture [{:#x}, {:#x}) overlaps the {} page at {:#x} "
                         "(hal: apic)",
                         c.pci_memory_base, c.pci_memory_base + c.pci_memory_size, what, base));
      if (overlaps(c.ram_base, c.ram_size, base, size))
        fail("memory.ram.size",
             fmt::format("the RAM overlaps the {} page at {:#x} (hal: apic)", what, base));
    }
  }
  // The memory manager's layout (sw/mm/mm.h): RAM in the identity window below user space, the
  // nonpaged pool leaving frames to page with, the paged pool below the device memory above it.
  if (c.mm.paging) {
    if (c.ram_base + c.ram_size > mm::kUserBase)
      fail("memory.ram.size",
           fmt::format("with mm.paging the RAM must end by {:#x}, where user space begins",
                       mm::kUserBase));
    constexpr std::uint64_t kMinFrames = 64 * mm::kPageSize;
    if (page_frame_bytes(c) < kMinFrames)
      fail("mm.nonpaged_pool",
           fmt::format("{} of nonpaged pool leaves fewer than 64 page frames in {} of RAM (the "
                       "low 1 MiB is not the pool's)",
                       util::format_size(c.mm.nonpaged_pool), util::format_size(c.ram_size)));
    if (c.mm.nonpaged_pool % mm::kPageSize != 0)
      fail("mm.nonpaged_pool", "not a multiple of 4 KiB");
    const std::uint64_t pool_end = mm::kPagedPoolBase + c.mm.paged_pool;
    std::uint64_t limit = hw::apic::kIoApicBase;
    if (c.pci_memory_base >= mm::kPagedPoolBase) limit = std::min(limit, c.pci_memory_base);
    if (c.mm.paged_pool == 0 || c.mm.paged_pool % mm::kPageSize != 0 || pool_end > limit)
      fail("mm.paged_pool",
           fmt::format("must be a multiple of 4 KiB from {:#x} up to {:#x} (the device memory "
                       "above it)",
                       mm::kPagedPoolBase, limit));
  }
  if (c.verifier.irql_checking && !c.mm.paging)
    fail("verifier.irql_checking", "trims pageable memory: needs mm.paging: true");
  if (!c.mm.pagefile_disk.empty()) {
    if (!c.mm.paging) fail("mm.pagefile.disk", "a pagefile needs mm.paging: true");
    const DeviceInstance* d = c.device(c.mm.pagefile_disk);
    if (d == nullptr || d->type != "block") {
      std::vector<std::string> disks;
      for (const auto& i : c.devices)
        if (i.type == "block") disks.push_back(i.name);
      fail("mm.pagefile.disk",
           fmt::format("'{}' is not a block device instance (the config has: {})",
                       c.mm.pagefile_disk,
                       disks.empty() ? "none" : fmt::format("{}", fmt::join(disks, ", "))));
    }
    if (c.mm.pagefile_size < mm::kPageSize || c.mm.pagefile_size % mm::kPageSize != 0)
      fail("mm.pagefile.size", "must be a multiple of 4 KiB, at least one page");
    if (c.mm.pagefile_offset % mm::kPageSize != 0)
      fail("mm.pagefile.offset", "not a multiple of 4 KiB");
    const std::uint64_t disk_size = d->settings.has("size") ? d->settings.number("size") : 0;
    if (c.mm.pagefile_offset + c.mm.pagefile_size > disk_size)
      fail("mm.pagefile.size",
           fmt::format("the pagefile [{:#x}, {:#x}) does not fit {}'s {} ", c.mm.pagefile_offset,
                       c.mm.pagefile_offset + c.mm.pagefile_size, d->name,
                       util::format_size(disk_size)));
  }
  for (unsigned irq : c.pci_irqs) {
    if (irq == c.pic_cascade_irq || irq == c.timer_irq)
      fail("pci.irqs",
           fmt::format("IRQ{} is the {}", irq, irq == c.timer_irq ? "timer's" : "cascade input"));
    if (edge_only(irq))
      fail("pci.irqs", fmt::format("IRQ{} cannot be level-triggered (the chipset's ELCR keeps "
                                   "IRQ0, 1, 2, 8 and 13 edge-triggered), and PCI lines are",
                                   irq));
  }
  {
    std::map<unsigned, std::string> slots;
    unsigned on_pci = 0;
    for (const auto& d : c.devices) {
      const DeviceType* type = device_types().find(d.type);
      if (d.bus != "pci") {
        if (d.slot != 0) fail(d.key("slot"), "only a device on bus: pci has a slot");
        if (d.bar != "io") fail(d.key("bar"), "only a device on bus: pci has a BAR");
        if (d.remove_at_ps != 0)
          fail(d.key("remove_at"),
               "only a device on bus: pci can be removed from the running machine");
        for (const auto& spec : type->keys)
          if (spec.required && !d.settings.has(spec.name))
            fail(d.key(spec.name),
                 fmt::format("missing (a {} device on ISA needs it: {})", d.type, spec.help));
        continue;
      }
      ++on_pci;
      if (type->pci_device == 0)
        fail(d.key("bus"), fmt::format("a {} device has no PCI identity (its type declares no "
                                       "PCI device ID)",
                                       d.type));
      for (const auto& spec : type->keys)
        if ((spec.resource == Resource::io_window || spec.resource == Resource::irq) &&
            d.settings.has(spec.name))
          fail(d.key(spec.name),
               "a PCI device's window and interrupt are assigned by Plug and "
               "Play; remove the key (or put the device on bus: isa)");
      if (d.slot != 0) {
        if (slots.count(d.slot))
          fail(d.key("slot"), fmt::format("slot {} is also {}'s", d.slot, slots[d.slot]));
        slots[d.slot] = d.name;
      }
    }
    if (on_pci > 31) fail("devices", "more than 31 devices on the PCI bus");
  }
  for (const auto& d : c.devices) {
    const DeviceType* type = device_types().find(d.type);
    for (const auto& spec : type->keys) {
      if (spec.resource == Resource::none || !d.settings.has(spec.name)) continue;
      const std::uint64_t v = d.settings.number(spec.name);
      if (spec.resource == Resource::dma_channel && v >= c.dma_channels)
        fail(d.key(spec.name),
             fmt::format("channel {} does not exist: the controller has {} (dma.channels)", v,
                         c.dma_channels));
      claims.push_back({d.key(spec.name), spec.resource, v,
                        v + (spec.resource == Resource::io_window ? spec.window : 1)});
    }
  }
  // Whether each claim's key was written (not a default), once: Config::where looks the
  // instance up by name, and asking it for every pair made 3,000 instances take minutes.
  std::vector<bool> written(claims.size());
  for (std::size_t i = 0; i < claims.size(); ++i) written[i] = c.where(claims[i].key) != "default";
  for (std::size_t i = 0; i < claims.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (claims[i].kind != claims[j].kind || claims[i].lo >= claims[j].hi ||
          claims[j].lo >= claims[i].hi)
        continue;
      // Blame the key the user wrote, when only one of the two was written.
      const bool swap = !written[i] && written[j];
      const Claim& a = swap ? claims[j] : claims[i];
      const Claim& b = swap ? claims[i] : claims[j];
      if (a.kind == Resource::io_window)
        fail(a.key, fmt::format("ports [{:#x}, {:#x}) overlap [{:#x}, {:#x}) of {} ({})", a.lo,
                                a.hi, b.lo, b.hi, b.key, c.where(b.key)));
      if (a.kind == Resource::irq) {
        // Devices may share a level-triggered line (each ISR checks its own device); the
        // chipset's lines are never shared.
        const bool level = std::find(c.pic_level_irqs.begin(), c.pic_level_irqs.end(), a.lo) !=
                           c.pic_level_irqs.end();
        const bool devices = a.key.rfind("devices.", 0) == 0 && b.key.rfind("devices.", 0) == 0;
        if (level && devices) continue;
        fail(a.key, b.key == "interrupt_controller.cascade_irq"
                        ? fmt::format("IRQ{} is the cascade input", a.lo)
                        : fmt::format("IRQ{} is also {} ({}): an edge-triggered line has one "
                                      "device{}",
                                      a.lo, b.key, c.where(b.key),
                                      devices ? " (interrupt_controller.level_irqs makes a line "
                                                "level-triggered and shareable)"
                                              : ""));
      }
      fail(a.key, fmt::format("DMA channel {} is also {} ({})", a.lo, b.key, c.where(b.key)));
    }
  }
  for (const auto& d : c.devices) {
    const DeviceType* type = device_types().find(d.type);
    // The driver an instance names (a type's default too) is a registered driver type that
    // serves its device type; so are its filters.
    if (d.driver != "none") {
      const DriverType* drv = driver_types().find(d.driver);
      if (drv == nullptr || drv->filter)
        fail(d.key("driver"),
             fmt::format("'{}' is not a registered driver type (a {} device's default driver; "
                         "driver types: {})",
                         d.driver, d.type, fmt::join(driver_types().names(), ", ")));
      if (std::find(drv->serves.begin(), drv->serves.end(), d.type) == drv->serves.end())
        fail(d.key("driver"), fmt::format("driver {} serves {} devices, not {}", d.driver,
                                          fmt::join(drv->serves, ", "), d.type));
    }
    for (const auto& f : d.filters) {
      const DriverType* drv = driver_types().find(f);
      if (std::find(drv->serves.begin(), drv->serves.end(), d.type) == drv->serves.end())
        fail(d.key("filters"), fmt::format("filter {} stacks over {} devices, not {}", f,
                                           fmt::join(drv->serves, ", "), d.type));
    }
    if (type->check) {
      if (std::string err = type->check(d); !err.empty()) {
        auto [key, why] = split_check(err);
        fail(key.empty() ? d.key("type") : d.key(key), why);
      }
    }
  }
  const WorkloadType* w = workload_types().find(c.workload);
  if (w == nullptr) fail("workload.kind", "not a registered workload type");
  if (w->check) {
    if (std::string err = w->check(c); !err.empty()) {
      auto [key, why] = split_check(err);
      fail(key.empty() ? "workload.kind" : key, why);
    }
  }
}

}  // namespace platform
