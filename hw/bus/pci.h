#pragma once
// A PCI host bridge with configuration mechanism #1 (CONFIG_ADDRESS at 0xCF8, CONFIG_DATA at
// 0xCFC), one bus of up to 32 single-function devices, the BAR decode that forwards the bridge's
// I/O and memory apertures to the functions, and the PIRQ interrupt router.
//
// Per function (type 0 header, the fields an enumerator uses): vendor and device IDs, class
// code, COMMAND (I/O space, memory space, bus master, INTx disable), STATUS bit 3 (interrupt
// status), BAR0 (an I/O BAR or a 32-bit memory BAR, sized by the write-all-ones probe: reading
// back gives the size mask and the type bits), subsystem IDs, INTERRUPT_LINE (a scratch byte
// for software) and INTERRUPT_PIN (1 = INTA#, 0 = none). BAR1..5 read 0 (not implemented). A
// slot with no function, another bus or another function number reads all ones (master abort),
// and so does an aperture access no BAR claims (writes are dropped): as on a PC, where a
// removed card's registers read 0xFF rather than fault.
//
// The bridge itself is device 0 (class 06 00 00). In its config space:
//   0x60..0x63  PIRQA..D route: bits 3..0 the IRQ, bit 7 disable (reset 0x80), as on the PIIX
//   0x70        hot-plug status, bit n = slot n's presence changed (write 1 to clear)
//   0x74        presence, bit n = slot n holds a function (read only)
// Function n's INTA# reaches link (n + pin - 1) mod 4 (the standard swizzle); each link is the
// wired OR of its functions and drives the IRQ its route register names, level-triggered and
// shared. The bridge's own INTA# (link A) is raised while a hot-plug status bit is set and
// COMMAND's INTx disable is clear: a function ejected from the running machine (eject_at)
// vanishes from configuration space and decode, and the bus driver learns of it by that
// interrupt.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/cpu/processor.h"
#include "util/log.h"

namespace hw::bus {

constexpr unsigned kPciSlots = 32;
constexpr unsigned kPciLinks = 4;
// The vendor ID iocosim's functions carry: chosen for the simulator, not a PCI-SIG assignment.
constexpr std::uint16_t kPciVendor = 0x1cc5;
constexpr std::uint16_t kPciBridgeDevice = 0x0001;
constexpr std::uint64_t kPciConfigPort = 0xcf8;
constexpr std::uint64_t kPciConfigWindow = 8;

// Configuration-space offsets.
enum PciReg : std::uint8_t {
  kPciVendorId = 0x00,
  kPciCommand = 0x04,
  kPciClass = 0x08,  // revision in byte 0, class code in bytes 1..3
  kPciHeader = 0x0c,
  kPciBar0 = 0x10,
  kPciSubsystem = 0x2c,
  kPciInterruptLine = 0x3c,  // line in byte 0, pin in byte 1
  kPciRoute = 0x60,          // bridge: PIRQA..D
  kPciHotplugStatus = 0x70,  // bridge
  kPciPresence = 0x74,       // bridge
};
enum PciCommand : std::uint16_t {
  kPciCmdIo = 1u << 0,
  kPciCmdMemory = 1u << 1,
  kPciCmdBusMaster = 1u << 2,
  kPciCmdIntxDisable = 1u << 10,
};
constexpr std::uint8_t kPciRouteDisabled = 0x80;

struct PciFunctionInfo {
  std::string name;
  std::uint16_t device = 0;
  std::uint32_t class_code = 0;  // 24 bits: base class, subclass, programming interface
  bool memory_bar = false;       // BAR0 in memory space, else I/O space
  std::uint32_t bar_size = 16;   // a power of two (at least 4 for I/O, 16 for memory)
  bool interrupt = true;         // INTA# wired
};

class PciHost : public sc_core::sc_module {
 public:
  struct Stats {
    std::uint64_t config_reads = 0, config_writes = 0, forwarded = 0, master_aborts = 0;
    std::uint64_t ejected = 0;
  };

  tlm_utils::simple_target_socket<PciHost> config;  // kPciConfigPort, 8 bytes
  tlm_utils::simple_target_socket<PciHost> io;      // the I/O aperture
  tlm_utils::simple_target_socket<PciHost> memory;  // the memory aperture
  // To the functions' registers; a machine with none leaves it unbound.
  tlm_utils::multi_passthrough_initiator_socket<PciHost, 32, tlm::tlm_base_protocol_types, 0,
                                                sc_core::SC_ZERO_OR_MORE_BOUND>
      out;

  // The apertures the bridge decodes (bus addresses), and the IRQs the router can drive.
  PciHost(const sc_core::sc_module_name& name, std::uint64_t io_base, std::uint64_t io_size,
          std::uint64_t memory_base, std::uint64_t memory_size, std::vector<unsigned> irqs);

  // During elaboration: puts a function in `slot` (1..31) with its registers at `regs`.
  // Returns "" or why not (slot taken or out of range, a BAR size that is not a power of two).
  std::string add_function(unsigned slot, const PciFunctionInfo& info,
                           tlm::tlm_base_target_socket<>& regs);
  // The function's INTA# input (bind its interrupt output here).
  Pin& pin(unsigned slot);
  // The router's output to PIC input `irq` (only the IRQs the router can drive are wired).
  PinOut& line(unsigned irq) { return line_[irq]; }
  const PinOut& line(unsigned irq) const { return line_[irq]; }
  const std::vector<unsigned>& routable_irqs() const { return irqs_; }
  // The IRQs software has routed a link to (PIRQx route registers enabled).
  std::vector<unsigned> routed_irqs() const {
    std::vector<unsigned> out;
    for (auto r : route_)
      if ((r & 0x80) == 0) out.push_back(r & 0x0f);
    return out;
  }
  // Surprise removal: at `t` the function in `slot` leaves the bus.
  void eject_at(unsigned slot, const sc_core::sc_time& t);
  // The same, now, from a running process (a script).
  void eject_now(unsigned slot);

  // Inspection (tests, the device tree): a configuration dword as software would read it.
  std::uint32_t peek(unsigned slot, unsigned reg) const;
  bool present(unsigned slot) const { return slot < kPciSlots && slots_[slot].present; }
  std::uint64_t io_base() const { return io_base_; }
  std::uint64_t io_size() const { return io_size_; }
  std::uint64_t memory_base() const { return mem_base_; }
  std::uint64_t memory_size() const { return mem_size_; }
  const Stats& stats() const { return stats_; }
  void trace(sc_core::sc_trace_file* tf) const;

 private:
  struct Slot {
    bool present = false;
    PciFunctionInfo info;
    int target = -1;  // index on `out`
    std::uint16_t command = 0;
    std::uint32_t bar = 0;  // the address bits software wrote
    std::uint8_t line = 0xff;
    std::unique_ptr<Pin> pin;
    std::unique_ptr<PinIn> sense;  // the router's input on it
  };

  void end_of_elaboration() override;
  void config_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void io_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void memory_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  unsigned io_debug(tlm::tlm_generic_payload& tx);
  unsigned memory_debug(tlm::tlm_generic_payload& tx);
  unsigned debug(Space space, std::uint64_t address, tlm::tlm_generic_payload& tx);
  // The function whose enabled BAR holds `address` in `space`, or -1; `offset` into its BAR.
  int decode(Space space, std::uint64_t address, unsigned length, std::uint64_t& offset) const;
  void forward(Space space, std::uint64_t address, tlm::tlm_generic_payload& tx,
               sc_core::sc_time& delay);
  std::uint32_t read_config(unsigned slot, unsigned reg) const;
  void write_config(unsigned slot, unsigned reg, std::uint32_t value, std::uint32_t byte_mask);
  std::uint32_t bar_value(const Slot& s) const;
  unsigned link_of(unsigned slot) const { return slot % kPciLinks; }  // INTA#: (slot + 1 - 1)
  void route();  // recomputes the router's outputs
  void eject();
  void remove(unsigned slot);  // the function leaves: presence, hot-plug status, decode

  util::Logger log_;
  std::uint64_t io_base_, io_size_, mem_base_, mem_size_;
  std::vector<unsigned> irqs_;
  std::array<Slot, kPciSlots> slots_;
  std::uint32_t address_ = 0;  // CONFIG_ADDRESS
  std::array<std::uint8_t, kPciLinks> route_{};
  std::uint32_t hotplug_status_ = 0;
  std::array<PinOut, 16> line_;
  sc_core::sc_event route_event_, eject_event_;
  std::vector<std::pair<sc_core::sc_time, unsigned>> ejects_;  // sorted by time
  Stats stats_;
};

}  // namespace hw::bus
