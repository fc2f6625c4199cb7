#pragma once
// A one-shot interrupt source: the simplest device controller with command, status and
// acknowledge registers. Software writes a delay; when it elapses the device raises its IRQ
// line and holds it until software acknowledges. Kernel scenarios and benchmarks use it as a
// device whose interrupts arrive exactly when they are asked for.
//
// Registers (I/O space, from the device's base):
//   0  DELAY   32-bit RW  nanoseconds; writing arms the device (0 fires at once), reads back
//   4  STATUS   8-bit RO  bit 0 PENDING (IRQ line high), bit 1 ARMED
//   5  ACK      8-bit WO  write 1: clear PENDING and lower the line; 2: disarm
#include <cstdint>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/core/traced.h"
#include "util/log.h"

namespace hw::devices {

enum OneShotStatus : std::uint8_t { kStatusPending = 1u << 0, kStatusArmed = 1u << 1 };
enum OneShotAck : std::uint8_t { kAckPending = 1u << 0, kAckDisarm = 1u << 1 };

class OneShot : public sc_core::sc_module {
 public:
  struct Stats {
    std::uint64_t fired = 0, acknowledged = 0;
  };

  tlm_utils::simple_target_socket<OneShot> in;
  PinOut irq{"irq"};

  explicit OneShot(const sc_core::sc_module_name& name);

  bool pending() const { return pending_; }
  bool armed() const { return armed_; }
  const Stats& stats() const { return stats_; }
  void trace(sc_core::sc_trace_file* tf) const;

 private:
  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  void write_delay(std::uint32_t ns);
  void write_ack(std::uint32_t v);
  void fire();

  util::Logger log_;
  RegisterBank regs_;
  sc_core::sc_event fire_event_;
  Traced<bool> pending_ = false;  // traced: reports its changes
  bool armed_ = false;
  Stats stats_;
};

}  // namespace hw::devices
