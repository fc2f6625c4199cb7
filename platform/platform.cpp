#include "platform/platform.h"

#include <algorithm>
#include <filesystem>

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
      pci("pci", config.pci_io_base, config.pci_io_size, config.pci_memory_base,
          config.pci_memory_size, config.pci_irqs),
      ram("ram", config.ram_size, hw::from_ps(config.ram_latency_ps)),
      timer("timer", config.timer_clock_hz),
      dma("dma", config.dma_channels, config.dma_chunk),
      external_(external_irqs) {
  for (unsigned n = 0; n < kIrqLines; ++n)
    line_[n] = std::make_unique<hw::Pin>(fmt::format("{}.irq{}", this->name(), n));
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
    intc = std::make_unique<hw::rtl::PicRtl>("pic", config.pic_cascade_irq, config.pic_rtl_vcd);
  } else {
    intc = std::make_unique<hw::intc::TlmPicPair>("pic", config.pic_cascade_irq);
  }
  map_or_throw(hw::Space::io, intc->socket(false), config.pic_master_port, 2, "pic.master",
               "interrupt_controller.master_port");
  map_or_throw(hw::Space::io, intc->socket(true), config.pic_slave_port, 2, "pic.slave",
               "interrupt_controller.slave_port");
  map_or_throw(hw::Space::io, intc->elcr_socket(), config.pic_elcr_port, 2, "pic.elcr",
               "interrupt_controller.elcr_port");
  map_or_throw(hw::Space::io, timer.in, config.timer_port, 4, "timer", "timer.port");
  pci_slots_ = pci_slots(config);

  // The DMA controller: registers in I/O space, a bus master of its own for data. Channels no
  // device requests on keep their DREQ low.
  bus.attach_master(dma.out, dma.name(), /*dma=*/true);
  dma.bus.bind(bus.dma);
  map_or_throw(hw::Space::io, dma.in, config.dma_port, hw::dma::window_size(config.dma_channels),
               "dma", "dma.port");
  for (unsigned i = 0; i < config.dma_channels; ++i) {
    dreq_.emplace_back(fmt::format("{}.dreq{}", this->name(), i));
    dack_.emplace_back(fmt::format("{}.dack{}", this->name(), i));
    dma.dreq[i].bind(dreq_[i]);
    dma.dack[i].bind(dack_[i]);
  }

  // hal: pic: the 8259A pair's INT is the one CPU's INTR. hal: apic: each CPU takes INTR and
  // INTA from its local APIC; the pair stays on the bus (the HAL masks it), its INT unread.
  intc->intr_output().bind(intr_);
  if (config.hal == "apic") {
    build_apics();
  } else {
    cpu.intr.bind(intr_);
    cpu.inta.bind(intc->inta_export());
  }
  timer.out.bind(*line_[config.timer_irq]);
  ++device_drivers_[config.timer_irq];
  dma.irq.bind(*line_[config.dma_irq]);
  ++device_drivers_[config.dma_irq];

  // The instances, as the module's children: their names are the instances' names.
  for (const DeviceInstance& d : config.devices) {
    const DeviceType* type = device_types().find(d.type);
    if (type == nullptr)
      throw ConfigError(fmt::format("{}: unknown device type '{}'", d.where, d.type));
    // A device's output files get their folder made, as the run's own outputs do.
    for (const auto& spec : type->keys) {
      if (!spec.output_file || !d.settings.has(spec.name) || d.settings.text(spec.name).empty())
        continue;
      const auto folder = std::filesystem::path(d.settings.text(spec.name)).parent_path();
      std::error_code ec;
      if (!folder.empty()) std::filesystem::create_directories(folder, ec);
    }
    devices.push_back(type->create(*this, d));
    if (d.bus == "pci" && d.remove_at_ps != 0)
      pci.eject_at(pci_slot(d.name), hw::from_ps(d.remove_at_ps));
  }
  // The PCI host bridge: configuration ports and its two apertures, mapped after the legacy
  // windows (the bus decodes in mapping order, and those are the hot ones).
  map_or_throw(hw::Space::io, pci.config, hw::bus::kPciConfigPort, hw::bus::kPciConfigWindow,
               "pci.config", "pci.io_window");
  map_or_throw(hw::Space::io, pci.io, config.pci_io_base, config.pci_io_size, "pci.io",
               "pci.io_window");
  map_or_throw(hw::Space::memory, pci.memory, config.pci_memory_base, config.pci_memory_size,
               "pci.memory", "pci.memory_window");
  // The interrupt router drives the PIC inputs it can reach, when there is a PCI device to
  // route (a machine without one keeps its lines as they were).
  if (pci_used())
    for (unsigned irq : config.pci_irqs)
      if (irq < kIrqLines) pci.line(irq).bind(*line_[irq]);
  wire_irq_lines();
}

void Platform::build_apics() {
  apic_bus = std::make_unique<hw::apic::ApicBus>(hw::from_ps(config_.apic_latency_ps));
  for (unsigned i = 1; i < config_.cpu_count; ++i) {
    aps.push_back(std::make_unique<hw::cpu::Cpu>(fmt::format("cpu{}", i).c_str(), i, config_.cpu));
    hw::cpu::Cpu& ap = *aps.back();
    ap.share_contexts(cpu);  // threads move between processors
    // The application processors use the bus; the arbiter models one CPU's computation
    // competing with DMA (the boot processor's), so theirs does not.
    ap.set_bus_master_id(bus.attach_master(ap.out, ap.name()));
  }
  for (unsigned i = 0; i < cpu_count(); ++i) {
    hw::cpu::Cpu& c = cpu_at(i);
    lapics.push_back(std::make_unique<hw::apic::LocalApic>(
        fmt::format("lapic{}", i).c_str(), static_cast<std::uint8_t>(i), *apic_bus));
    hw::apic::LocalApic& l = *lapics.back();
    lapic_intr_.push_back(std::make_unique<hw::Pin>(fmt::format("lapic{}_intr", i)));
    l.intr.bind(*lapic_intr_.back());
    c.intr.bind(*lapic_intr_.back());
    c.inta.bind(l.inta);
    c.apic_out.bind(l.in);
    c.set_local_apic_window(hw::apic::kLocalApicBase, hw::apic::kLocalApicSize);
  }
  ioapic = std::make_unique<hw::apic::IoApic>("ioapic", *apic_bus);
  map_or_throw(hw::Space::memory, ioapic->in, hw::apic::kIoApicBase, hw::apic::kIoApicSize,
               "ioapic", "hal");
}

void Platform::wire_irq_lines() {
  for (unsigned n = 0; n < kIrqLines; ++n) {
    if (n == config_.pic_cascade_irq) continue;  // wired inside the pair
    // A line nothing drives (or every line, when asked for) is a script's to drive.
    external_line_[n] = external_ || line_[n]->drivers() == 0;
    intc->irq_input(n).bind(*line_[n]);
    // With an I/O APIC, ISA IRQ n is also its input n (identity: no interrupt source overrides).
    // Its cascade input and pins 16..23 stay unbound, low (PCI's PIRQ links go through the
    // router to ISA lines).
    if (ioapic) ioapic->irq[n].bind(*line_[n]);
  }
}

std::string Platform::where(const DeviceInstance& d, const std::string& key) const {
  return config_.where(d.key(key));
}

unsigned Platform::pci_slot(const std::string& name) const {
  auto it = pci_slots_.find(name);
  return it == pci_slots_.end() ? 0 : it->second;
}

void Platform::map_io(tlm::tlm_base_target_socket<>& target, const DeviceInstance& d,
                      const std::string& key) {
  const DeviceType* type = device_types().find(d.type);
  const KeySpec* spec = find_spec(type->keys, key);
  const std::uint64_t size = spec ? spec->window : 0;
  if (d.bus == "pci") {
    if (std::find(pci_mapped_.begin(), pci_mapped_.end(), d.name) != pci_mapped_.end())
      throw ConfigError(
          fmt::format("{}: device {}: a PCI function here has one BAR", d.where, d.name));
    pci_mapped_.push_back(d.name);
    hw::bus::PciFunctionInfo info;
    info.name = d.name;
    info.device = type->pci_device;
    info.class_code = type->pci_class;
    info.memory_bar = d.bar == "memory";
    std::uint32_t bar = info.memory_bar ? 16 : 4;
    while (bar < size) bar <<= 1;
    info.bar_size = bar;
    if (std::string err = pci.add_function(pci_slot(d.name), info, target); !err.empty())
      throw ConfigError(fmt::format("{}: key '{}': {}", where(d, "bus"), d.key("bus"), err));
    return;
  }
  std::string err = bus.map(hw::Space::io, target, d.settings.number(key), size, d.name);
  if (!err.empty())
    throw ConfigError(fmt::format("{}: key '{}': {}", where(d, key), d.key(key), err));
}

void Platform::connect_irq(hw::PinOut& irq, const DeviceInstance& d, const std::string& key) {
  if (d.bus == "pci") {
    irq.bind(pci.pin(pci_slot(d.name)));
    return;
  }
  const unsigned n = d.settings.u32(key);
  if (n >= kIrqLines || n == config_.pic_cascade_irq)
    throw ConfigError(
        fmt::format("{}: key '{}': IRQ{} cannot be used", where(d, key), d.key(key), n));
  irq.bind(*line_[n]);
  ++device_drivers_[n];
}

void Platform::connect_dma(hw::PinOut& dreq, hw::dma::DmaPeripheral* device,
                           const DeviceInstance& d, const std::string& key) {
  const unsigned ch = d.settings.u32(key);
  if (ch >= dma.channels())
    throw ConfigError(fmt::format("{}: key '{}': the controller has {} channels (dma.channels)",
                                  where(d, key), d.key(key), dma.channels()));
  dreq.bind(dreq_[ch]);
  dma.attach(ch, device);
}

std::vector<unsigned> Platform::used_irqs() const {
  std::vector<unsigned> out;
  for (unsigned n = 0; n < kIrqLines; ++n)
    if (device_drivers_[n] != 0) out.push_back(n);
  if (pci_used())
    for (unsigned n : pci.routed_irqs())
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  std::sort(out.begin(), out.end());
  return out;
}

Device* Platform::device(const std::string& name) const {
  for (const auto& d : devices) {
    if (d->name() == name) return d.get();
  }
  return nullptr;
}

std::vector<std::string> Platform::close_outputs() {
  std::vector<std::string> errors;
  for (auto& d : devices) {
    if (std::string why = d->close(); !why.empty()) errors.push_back(why);
  }
  return errors;
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
  line_[n]->write(level);
  return true;
}

void Platform::trace(sc_core::sc_trace_file* tf, const std::vector<std::string>& groups) {
  auto want = [&](const char* g) {
    return std::find(groups.begin(), groups.end(), g) != groups.end();
  };
  if (want("cpu")) {
    for (unsigned i = 0; i < cpu_count(); ++i) cpu_at(i).trace(tf, config_.mm.paging);
    for (auto& l : lapics) l->trace(tf);
  }
  if (want("pic")) intc->trace(tf);
  if (want("pic") && ioapic) ioapic->trace(tf);
  if (want("timer")) timer.trace(tf);
  if (want("devices")) {
    for (auto& d : devices) d->trace(tf);
  }
  if (want("bus")) bus.trace(tf);
  if (want("dma")) dma.trace(tf);
  if (want("irq") && pci_used()) pci.trace(tf);
  if (want("irq")) {
    for (unsigned n = 0; n < kIrqLines; ++n)
      intc->irq_input(n).trace(tf, fmt::format("{}.irq.{}", name(), n));
  }
}

void Platform::write_cpu_stats(util::JsonWriter& j, unsigned i) const {
  const hw::cpu::Cpu& p = cpu_at(i);
  const auto c = p.stats();
  j.begin_object(fmt::format("cpu{}", i))
      .field("clock_hz", p.clock_hz())
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
      .field("stall_ps", c.stall_ps);
  // Paging, once software has turned it on (runs without it keep their shape).
  if (c.tlb_hits + c.tlb_misses != 0)
    j.begin_object("paging")
        .field("tlb_hits", c.tlb_hits)
        .field("tlb_misses", c.tlb_misses)
        .field("walks", c.page_walks)
        .field("walk_accesses", c.walk_accesses)
        .field("faults_not_present", c.faults_not_present)
        .field("faults_protection", c.faults_protection)
        .field("faults_user", c.faults_user)
        .end_object();
  if (apic()) {
    const auto& l = lapics[i]->stats();
    j.field("apic_accesses", c.apic_accesses)
        .begin_object("lapic")
        .field("received", l.received)
        .field("acknowledged", l.acknowledged)
        .field("spurious", l.spurious)
        .field("eois", l.eois)
        .field("ipis_sent", l.ipis_sent)
        .field("tpr_reads", l.tpr_reads)
        .field("tpr_writes", l.tpr_writes)
        .field("lowest_priority_won", l.lowest_priority_won)
        .field("errors", l.errors)
        .field("unsupported", l.unsupported)
        .end_object();
  }
  j.end_object();
}

void Platform::write_stats(util::JsonWriter& j) const {
  for (unsigned i = 0; i < cpu_count(); ++i) write_cpu_stats(j, i);
  const auto c = cpu.stats();
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
  j.begin_object("devices");
  for (const auto& d : devices) {
    j.begin_object(d->name()).field("type", d->instance().type).field("bus", d->instance().bus);
    if (d->instance().bus == "pci")
      j.field("slot", pci_slot(d->name())).field("bar", d->instance().bar);
    d->write_stats(j);
    j.end_object();
  }
  j.end_object();
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
  if (apic()) {
    const auto& io = ioapic->stats();
    j.begin_object("ioapic")
        .field("messages", io.messages)
        .field("eois", io.eois)
        .field("lost_edges", io.lost_edges);
    j.begin_array("per_pin");
    for (auto v : io.per_pin) j.value(v);
    j.end_array().end_object();
  }
  const auto& ps = pci.stats();
  j.begin_object("pci")
      .field("config_reads", ps.config_reads)
      .field("config_writes", ps.config_writes)
      .field("forwarded", ps.forwarded)
      .field("master_aborts", ps.master_aborts)
      .field("ejected", ps.ejected)
      .end_object();
  const auto& t = timer.stats();
  j.begin_object("timer")
      .field("periods", t.out_rising)
      .field("reads", t.reads)
      .field("writes", t.writes)
      .field("unsupported", t.unsupported)
      .end_object();
  j.begin_object("ram")
      .field("size", ram.size())
      .field("reads", ram.reads())
      .field("writes", ram.writes())
      .end_object();
}

}  // namespace platform
