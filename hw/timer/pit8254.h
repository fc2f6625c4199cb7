#pragma once
// The 8254 programmable interval timer, channel 0 only (the PC's IRQ0 source): counter at
// offset 0, control word at offset 3. Modes 0 (interrupt on terminal count) and 2 (rate
// generator), binary counting, LSB/MSB/LSB-then-MSB access and the counter-latch command.
//
// Event-driven: no clock process. OUT transitions are scheduled at their exact times, computed
// from the moment the count was loaded, so an idle machine costs two events per period.
#include <cstdint>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/core/traced.h"
#include "util/log.h"

namespace hw::timer {

enum ControlWord : std::uint8_t {
  kCwBcd = 1u << 0,
  kCwModeShift = 1,
  kCwModeMask = 0x07u << 1,
  kCwRwShift = 4,  // 00 latch, 01 LSB, 10 MSB, 11 LSB then MSB
  kCwRwMask = 0x03u << 4,
  kCwSelShift = 6,  // 00 counter 0; 01, 10 counters 1 and 2 (not modeled); 11 read-back
  kCwSelMask = 0x03u << 6,
};

class Pit8254 : public sc_core::sc_module {
 public:
  struct Stats {
    std::uint64_t out_rising = 0;  // terminal counts / periods delivered on OUT0
    std::uint64_t reads = 0, writes = 0;
    std::uint64_t unsupported = 0;  // control words for counters 1, 2, read-back, other modes
  };

  tlm_utils::simple_target_socket<Pit8254> in;
  PinOut out{"out"};  // OUT0

  Pit8254(const sc_core::sc_module_name& name, std::uint64_t input_hz);

  void reset();
  std::uint16_t current_count() const;
  unsigned mode() const { return mode_; }
  bool out_level() const { return out_level_; }
  bool counting() const { return counting_; }
  std::uint64_t input_hz() const { return hz_; }
  const Stats& stats() const { return stats_; }
  void trace(sc_core::sc_trace_file* tf) const;

 private:
  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  std::uint32_t read_counter();
  void write_counter(std::uint32_t v);
  void write_control(std::uint32_t v);
  void load(std::uint32_t count);
  void on_event();
  void set_out(bool level);
  void schedule();

  std::uint64_t clocks_to_ps(std::uint64_t clocks) const;  // from the epoch
  std::uint64_t clocks_since_epoch() const;

  util::Logger log_;
  RegisterBank regs_;
  std::uint64_t hz_;
  sc_core::sc_event next_;

  unsigned mode_ = 0, rw_ = 3;
  bool write_msb_next_ = false, read_msb_next_ = false;
  std::uint8_t pending_lsb_ = 0;
  bool latched_ = false;
  std::uint16_t latch_ = 0;
  std::uint32_t reload_ = 0x10000;  // 0 written means 65536
  std::uint32_t next_reload_ = 0;   // mode 2: a count written while counting, loaded at period end
  bool counting_ = false;
  std::uint64_t epoch_ps_ = 0;      // the first clock after the count was written
  std::uint64_t cycle_start_ = 0;   // clocks from the epoch at which the current period began
  Traced<bool> out_level_ = false;  // traced: reports its changes
  bool pending_high_ = false;       // mode 2: the next event ends the low pulse
  Stats stats_;
};

}  // namespace hw::timer
