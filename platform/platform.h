#pragma once
// The machine: the chipset (CPU, bus, RAM, the 8259A pair, the 8254, the DMA controller) as
// members, and the config's device instances built through the device registry
// (platform/registry.h) and bound by their resources: each type's builder maps its window with
// map_io, wires its interrupt with connect_irq and its DMA request with connect_dma. IRQ n
// (0..7 master, 8..15 slave) is one hw::Pin per line, the wired-OR of its drivers (devices,
// the timer, the DMA controller, the PCI interrupt router, a script), read by the controller's
// input n and, with an I/O APIC, its input n.
#include <array>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw/apic/apic.h"
#include "hw/bus/bus.h"
#include "hw/bus/pci.h"
#include "hw/core/pin.h"
#include "hw/cpu/cpu.h"
#include "hw/dma/dma.h"
#include "hw/intc/controller.h"
#include "hw/memory/ram.h"
#include "hw/timer/pit8254.h"
#include "platform/config.h"
#include "platform/registry.h"
#include "util/json.h"

namespace platform {

constexpr unsigned kIrqLines = 16;

class Platform : public sc_core::sc_module {
 public:
  // `external_irqs`: give every IRQ line a driver that scripts and tests control.
  Platform(const sc_core::sc_module_name& name, const Config& config, bool external_irqs = false);

  // Drives the external source of IRQ `n`. Returns false (and does nothing) if the line has
  // no external driver or is the cascade input.
  bool drive_irq(unsigned n, bool level);
  bool external_irqs() const { return external_; }
  unsigned cascade_irq() const { return config_.pic_cascade_irq; }

  // --- for device types' builders
  // Maps `target` at the instance's I/O window `key` (its declared window size). For an
  // instance on PCI the window is the function's BAR0 instead (I/O or memory, as `bar` says;
  // its declared size rounded up to a power of two), placed by Plug and Play.
  void map_io(tlm::tlm_base_target_socket<>& target, const DeviceInstance& d,
              const std::string& key = "port");
  // Binds the device's interrupt output to the IRQ line the instance's `key` names (on PCI:
  // to its INTA#, which the interrupt router takes to whatever IRQ software routes it).
  void connect_irq(hw::PinOut& irq, const DeviceInstance& d, const std::string& key = "irq");
  // Wires the device's DREQ to the DMA channel `key` names and gives the channel the device.
  void connect_dma(hw::PinOut& dreq, hw::dma::DmaPeripheral* device, const DeviceInstance& d,
                   const std::string& key = "dma_channel");
  // The config key's origin for messages ("file:line").
  std::string where(const DeviceInstance& d, const std::string& key) const;

  // The PCI slot of an instance on the PCI bus, or 0.
  unsigned pci_slot(const std::string& name) const;
  // The IRQ lines something drives: the chipset's, each ISA device's, and those software has
  // routed PCI interrupts to (for the waveform view's list of lines).
  std::vector<unsigned> used_irqs() const;
  // Whether any instance sits on PCI (the router's outputs are wired only then).
  bool pci_used() const { return !pci_slots_.empty(); }

  // The built instance named `name`, or null.
  Device* device(const std::string& name) const;
  // Its model, as type M, or null.
  template <typename M>
  M* model(const std::string& name) const {
    Device* d = device(name);
    return d ? dynamic_cast<M*>(d->model()) : nullptr;
  }

  // Adds the configured signal groups to an open trace file.
  void trace(sc_core::sc_trace_file* tf, const std::vector<std::string>& groups);
  void write_stats(util::JsonWriter& json) const;
  // Flushes and closes the instances' outputs; what could not be written ("key: why").
  std::vector<std::string> close_outputs();

  const Config& config() const { return config_; }

  // The processors: cpu is the boot processor (CPU 0); cpu_at(i) any of them.
  unsigned cpu_count() const { return 1 + static_cast<unsigned>(aps.size()); }
  hw::cpu::Cpu& cpu_at(unsigned i) { return i == 0 ? cpu : *aps[i - 1]; }
  const hw::cpu::Cpu& cpu_at(unsigned i) const { return i == 0 ? cpu : *aps[i - 1]; }
  bool apic() const { return ioapic != nullptr; }

  // Members are public for benches and the platform's own tools, the way SystemC top modules
  // expose their children.
  Config config_;
  hw::cpu::Cpu cpu;
  std::vector<std::unique_ptr<hw::cpu::Cpu>> aps;  // CPUs 1..count-1 (hal: apic)
  hw::bus::Bus bus;
  hw::bus::PciHost pci;
  hw::memory::Ram ram;
  // The 8259A pair: TLM chips or Verilated RTL (interrupt_controller.model).
  std::unique_ptr<hw::intc::InterruptController> intc;
  hw::timer::Pit8254 timer;
  hw::dma::DmaController dma;
  std::vector<std::unique_ptr<Device>> devices;  // in the config's order
  // hal: apic: the APIC bus, a local APIC per CPU (lapics[i] is CPU i's), the I/O APIC.
  std::unique_ptr<hw::apic::ApicBus> apic_bus;
  std::vector<std::unique_ptr<hw::apic::LocalApic>> lapics;
  std::unique_ptr<hw::apic::IoApic> ioapic;

 private:
  void map_or_throw(hw::Space space, tlm::tlm_base_target_socket<>& target, std::uint64_t base,
                    std::uint64_t size, const std::string& name, const std::string& key);
  void wire_irq_lines();
  void build_apics();
  void write_cpu_stats(util::JsonWriter& j, unsigned i) const;

  bool external_;
  std::map<std::string, unsigned> pci_slots_;  // instance -> slot
  std::vector<std::string> pci_mapped_;        // instances whose BAR0 is bound
  hw::Pin intr_{"intr"};
  std::vector<std::unique_ptr<hw::Pin>> lapic_intr_;
  std::deque<hw::Pin> dreq_, dack_;                       // per DMA channel (pins do not move)
  std::array<std::unique_ptr<hw::Pin>, kIrqLines> line_;  // IRQ n; the cascade's is unread
  // Drivers of each line other than the PCI router and a script: what used_irqs() reports.
  std::array<unsigned, kIrqLines> device_drivers_{};
  std::array<bool, kIrqLines> external_line_{};  // scripts may drive it (drive_irq)
};

}  // namespace platform
