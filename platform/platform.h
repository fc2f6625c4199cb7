#pragma once
// The machine: every model a member, bound in the constructor from the config's map. IRQ n
// (0..7 master, 8..15 slave) reaches the controller input through one signal per line; where
// a line has more than one driver (a device and a script) a wired-OR joins them.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "hw/bus/bus.h"
#include "hw/core/wired_or.h"
#include "hw/cpu/cpu.h"
#include "hw/devices/block_device.h"
#include "hw/devices/oneshot.h"
#include "hw/devices/serial.h"
#include "hw/dma/dma.h"
#include "hw/intc/controller.h"
#include "hw/memory/ram.h"
#include "hw/timer/pit8254.h"
#include "platform/config.h"
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

  // Adds the configured signal groups to an open trace file.
  void trace(sc_core::sc_trace_file* tf, const std::vector<std::string>& groups);
  void write_stats(util::JsonWriter& json) const;

  const Config& config() const { return config_; }

  // Members are public for benches and the platform's own tools, the way SystemC top modules
  // expose their children.
  Config config_;
  hw::cpu::Cpu cpu;
  hw::bus::Bus bus;
  hw::memory::Ram ram;
  // The 8259A pair: TLM chips or Verilated RTL (interrupt_controller.model).
  std::unique_ptr<hw::intc::InterruptController> intc;
  hw::timer::Pit8254 timer;
  std::vector<std::unique_ptr<hw::devices::OneShot>> oneshots;  // devices.oneshot_irqs
  hw::dma::DmaController dma;
  hw::devices::BlockDevice disk;
  hw::devices::Serial serial;

 private:
  void map_or_throw(hw::Space space, tlm::tlm_base_target_socket<>& target, std::uint64_t base,
                    std::uint64_t size, const std::string& name, const std::string& key);

  bool external_;
  sc_core::sc_signal<bool> intr_{"intr"};
  sc_core::sc_signal<bool> timer_out_{"timer_out"};
  std::vector<std::unique_ptr<sc_core::sc_signal<bool>>> oneshot_out_;
  sc_core::sc_signal<bool> dma_irq_{"dma_irq"}, disk_irq_{"disk_irq"}, serial_irq_{"serial_irq"};
  sc_core::sc_vector<sc_core::sc_signal<bool>> dreq_, dack_;
  std::array<std::unique_ptr<sc_core::sc_signal<bool>>, kIrqLines> line_;  // PIC inputs
  std::array<std::unique_ptr<sc_core::sc_signal<bool>>, kIrqLines> external_line_;
  std::vector<std::unique_ptr<hw::WiredOr>> ors_;
};

}  // namespace platform
