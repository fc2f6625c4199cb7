#include "platform/platform.h"

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "hw/rtl/pic_rtl.h"
#include "platform/child.h"

namespace platform {

Platform::Platform(const sc_core::sc_module_name& name, const Config& config, bool external_irqs)
    : sc_module(name),
      config_(config),
      cpu("cpu0", 0, config.cpu),
      bus("bus", config.bus_clock_hz, config.bus_io_wait_states, config.bus_steal_gap),
      ram("ram", config.ram_size, hw::from_ps(config.ram_latency_ps)),
      timer("timer", config.timer_clock_hz),
      dma("dma", config.dma_channels, config.dma_chunk),
      disk("disk", config.disk_timing),
      serial("serial", config.serial_baud, config.serial_fifo),
      external_(external_irqs),
      dreq_("dreq", config.dma_channels),
      dack_("dack", config.dma_channels) {
  cpu.set_bus_master_id(bus.attach_master(cpu.out, cpu.name()));
  cpu.bus_master.bind(bus.masters);
  map_or_throw(hw::Space::memory, ram.in, config.ram_base, config.ram_size, "ram",
               "memory.ram.base");
  if (config.pic_model == "rtl") {
    if (!config.pic_rtl_vcd.empty()) {
      if (std::string why = prepare_output(config.pic_rtl_vcd); !why.empty())
        throw ConfigError(
            fmt::format("{}: key 'interrupt_controller.rtl_vcd': {}: cannot write: {}",
                        config_.where("interrupt_controller.rtl_vcd"), config.pic_rtl_vcd, why));
    }
    intc = std::make_unique<hw::rtl::PicRtl>("pic_rtl", config.pic_cascade_irq, config.pic_rtl_vcd);
  } else {
    intc = std::make_unique<hw::intc::TlmPicPair>(config.pic_cascade_irq);
  }
  map_or_throw(hw::Space::io, intc->socket(false), config.pic_master_port, 2, "pic_master",
               "interrupt_controller.master_port");
  map_or_throw(hw::Space::io, intc->socket(true), config.pic_slave_port, 2, "pic_slave",
               "interrupt_controller.slave_port");
  map_or_throw(hw::Space::io, timer.in, config.timer_port, 4, "timer", "timer.port");

  // The DMA controller: registers in I/O space, a bus master of its own for data.
  bus.attach_master(dma.out, dma.name(), /*dma=*/true);
  dma.bus.bind(bus.dma);
  map_or_throw(hw::Space::io, dma.in, config.dma_port, hw::dma::window_size(config.dma_channels),
               "dma", "dma.port");
  dma.irq.bind(dma_irq_);
  for (unsigned i = 0; i < config.dma_channels; ++i) {
    dma.dreq[i].bind(dreq_[i]);
    dma.dack[i].bind(dack_[i]);
  }
  map_or_throw(hw::Space::io, disk.in, config.disk_port, hw::devices::kBlockWindow, "disk",
               "devices.disk.port");
  disk.irq.bind(disk_irq_);
  disk.dreq.bind(dreq_[config.disk_dma_channel]);
  dma.attach(config.disk_dma_channel, &disk);
  if (std::string err = disk.open_image(config.disk_image, config.disk_size); !err.empty())
    throw ConfigError(
        fmt::format("{}: key 'devices.disk.image': {}", config_.where("devices.disk.image"), err));
  map_or_throw(hw::Space::io, serial.in, config.serial_port, hw::devices::kSerialWindow, "serial",
               "devices.serial.port");
  serial.irq.bind(serial_irq_);
  auto serial_file = [&](const std::string& key, const std::string& path,
                         std::string (hw::devices::Serial::*set)(const std::string&)) {
    if (path.empty()) return;
    if (std::string err = (serial.*set)(path); !err.empty())
      throw ConfigError(fmt::format("{}: key '{}': {}", config_.where(key), key, err));
  };
  serial_file("devices.serial.input", config.serial_input, &hw::devices::Serial::set_input_file);
  serial_file("devices.serial.input_script", config.serial_input_script,
              &hw::devices::Serial::set_input_script);
  serial_file("devices.serial.output", config.serial_output, &hw::devices::Serial::set_output_file);

  cpu.intr.bind(intr_);
  cpu.inta.bind(intc->inta_export());
  intc->intr_output().bind(intr_);
  timer.out.bind(timer_out_);

  // Each IRQ line: its device drivers, plus an external driver when asked for.
  std::array<std::vector<sc_core::sc_signal<bool>*>, kIrqLines> drivers;
  drivers[config.timer_irq].push_back(&timer_out_);
  drivers[config.dma_irq].push_back(&dma_irq_);
  drivers[config.disk_irq].push_back(&disk_irq_);
  drivers[config.serial_irq].push_back(&serial_irq_);
  for (std::size_t i = 0; i < config.oneshot_irqs.size(); ++i) {
    const std::string n = fmt::format("oneshot{}", i);
    oneshots.push_back(std::make_unique<hw::devices::OneShot>(n.c_str()));
    oneshot_out_.push_back(std::make_unique<sc_core::sc_signal<bool>>((n + "_irq").c_str()));
    oneshots.back()->irq.bind(*oneshot_out_.back());
    map_or_throw(hw::Space::io, oneshots.back()->in, config.oneshot_port + 0x10 * i, 8, n,
                 "devices.oneshot_port");
    drivers[config.oneshot_irqs[i]].push_back(oneshot_out_.back().get());
  }
  for (unsigned n = 0; n < kIrqLines; ++n) {
    if (n == config.pic_cascade_irq) continue;
    if (external_ || drivers[n].empty()) {
      external_line_[n] =
          std::make_unique<sc_core::sc_signal<bool>>(fmt::format("irq{}_ext", n).c_str());
      drivers[n].push_back(external_line_[n].get());
    }
  }
  for (unsigned n = 0; n < kIrqLines; ++n) {
    if (n == config.pic_cascade_irq) continue;  // wired inside the pair
    sc_core::sc_in<bool>& input = intc->irq_input(n);
    if (drivers[n].size() == 1) {
      input.bind(*drivers[n][0]);
      continue;
    }
    line_[n] = std::make_unique<sc_core::sc_signal<bool>>(fmt::format("irq{}", n).c_str());
    auto gate = std::make_unique<hw::WiredOr>(fmt::format("irq{}_or", n).c_str(),
                                              static_cast<unsigned>(drivers[n].size()));
    for (std::size_t i = 0; i < drivers[n].size(); ++i) gate->in[i].bind(*drivers[n][i]);
    gate->out.bind(*line_[n]);
    input.bind(*line_[n]);
    ors_.push_back(std::move(gate));
  }
}

void Platform::map_or_throw(hw::Space space, tlm::tlm_base_target_socket<>& target,
                            std::uint64_t base, std::uint64_t size, const std::string& name,
                            const std::string& key) {
  std::string err = bus.map(space, target, base, size, name);
  if (!err.empty())
    throw ConfigError(fmt::format("{}: key '{}': {}", config_.where(key), key, err));
}

bool Platform::drive_irq(unsigned n, bool level) {
  if (n >= kIrqLines || !external_line_[n]) return false;
  external_line_[n]->write(level);
  return true;
}

void Platform::trace(sc_core::sc_trace_file* tf, const std::vector<std::string>& groups) {
  auto want = [&](const char* g) {
    return std::find(groups.begin(), groups.end(), g) != groups.end();
  };
  if (want("cpu")) cpu.trace(tf);
  if (want("pic")) intc->trace(tf);
  if (want("timer")) timer.trace(tf);
  if (want("devices")) {
    for (auto& d : oneshots) d->trace(tf);
    disk.trace(tf);
    serial.trace(tf);
  }
  if (want("bus")) bus.trace(tf);
  if (want("dma")) dma.trace(tf);
  if (want("irq")) {
    for (unsigned n = 0; n < kIrqLines; ++n)
      sc_core::sc_trace(tf, intc->irq_input(n), fmt::format("{}.irq.{}", name(), n));
  }
}

void Platform::write_stats(util::JsonWriter& j) const {
  const auto c = cpu.stats();
  j.begin_object("cpu0")
      .field("clock_hz", cpu.clock_hz())
      .field("interrupts", c.interrupts)
      .field("bus_errors", c.bus_errors)
      .field("halts", c.halts)
      .field("halted_ps", c.halted_ps)
      .field("context_switches", c.context_switches)
      .field("work_cycles", c.work_cycles)
      .field("mem_reads", c.mem_reads)
      .field("mem_writes", c.mem_writes)
      .field("io_reads", c.io_reads)
      .field("io_writes", c.io_writes)
      .field("dmi_accesses", c.dmi_accesses)
      .field("stall_ps", c.stall_ps)
      .end_object();
  const std::uint64_t cycle_ps = hw::to_ps(bus.cycle());
  const std::uint64_t elapsed = hw::now_ps() / cycle_ps;
  std::uint64_t used = 0;
  for (unsigned m = 0; m < bus.master_stats().size(); ++m) used += bus.master_cycles(m);
  const auto& arb = bus.arbiter().stats();
  j.begin_object("bus")
      .field("clock_hz", bus.bus_clock_hz())
      .field("unmapped_accesses", bus.unmapped_accesses())
      .field("elapsed_cycles", elapsed)
      .field("busy_cycles", used)
      .field("utilization",
             elapsed ? static_cast<double>(used) / static_cast<double>(elapsed) : 0.0)
      .field("cpu_stall_cycles", c.stall_ps / cycle_ps)
      .field("dma_segments", arb.dma_segments)
      .field("dma_busy_ps", arb.dma_busy_ps)
      .field("cpu_stalled_accesses", arb.cpu_stalled_accesses);
  j.begin_array("masters");
  for (unsigned m = 0; m < bus.master_stats().size(); ++m) {
    const auto& ms = bus.master_stats()[m];
    j.begin_object()
        .field("name", ms.name)
        .field("transactions", ms.transactions)
        .field("bus_cycles", bus.master_cycles(m))
        .field("errors", ms.errors)
        .end_object();
  }
  j.end_array().end_object();
  j.begin_array("dma");
  for (unsigned i = 0; i < dma.channels(); ++i) {
    const auto& d = dma.stats(i);
    j.begin_object()
        .field("channel", i)
        .field("bytes", d.bytes)
        .field("segments", d.segments)
        .field("descriptors", d.descriptors)
        .field("completed", d.completed)
        .field("errors", d.errors)
        .field("ignored_writes", d.ignored_writes)
        .field("busy_ps", d.busy_ps)
        .field("throughput_MBps", d.busy_ps ? static_cast<double>(d.bytes) /
                                                  (static_cast<double>(d.busy_ps) * 1e-12) / 1e6
                                            : 0.0)
        .end_object();
  }
  j.end_array();
  const auto& ds = disk.stats();
  j.begin_object("disk")
      .field("image", disk.image().path())
      .field("sectors", disk.sectors())
      .field("commands", ds.commands)
      .field("sectors_read", ds.sectors_read)
      .field("sectors_written", ds.sectors_written)
      .field("flushes", ds.flushes)
      .field("errors", ds.errors)
      .field("rejected_commands", ds.rejected)
      .field("protocol_errors", ds.protocol_errors)
      .field("interrupts", ds.interrupts)
      .end_object();
  const auto& ss = serial.stats();
  j.begin_object("serial")
      .field("rx_chars", ss.rx_chars)
      .field("tx_chars", ss.tx_chars)
      .field("rx_overruns", ss.rx_overruns)
      .field("tx_dropped", ss.tx_dropped)
      .field("interrupts", ss.interrupts)
      .end_object();
  for (bool slave : {false, true}) {
    const auto s = intc->stats(slave);
    j.begin_object(slave ? "pic_slave" : "pic_master")
        .field("model", intc->model_name())
        .field("reads", s.reads)
        .field("writes", s.writes)
        .field("acknowledges", s.acknowledges)
        .field("spurious", s.spurious)
        .field("eois", s.eois);
    j.begin_array("per_ir");
    for (auto v : s.per_ir) j.value(v);
    j.end_array().end_object();
  }
  const auto& t = timer.stats();
  j.begin_object("timer")
      .field("periods", t.out_rising)
      .field("reads", t.reads)
      .field("writes", t.writes)
      .field("unsupported", t.unsupported)
      .end_object();
  j.begin_array("oneshots");
  for (const auto& d : oneshots)
    j.begin_object()
        .field("name", d->basename())
        .field("fired", d->stats().fired)
        .field("acknowledged", d->stats().acknowledged)
        .end_object();
  j.end_array();
  j.begin_object("ram")
      .field("size", ram.size())
      .field("reads", ram.reads())
      .field("writes", ram.writes())
      .end_object();
}

}  // namespace platform
