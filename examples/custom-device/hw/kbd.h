#pragma once
// A keyboard-controller-like device (the 8042's output buffer, reduced): bytes "typed" on its
// input arrive one per `interval` into a FIFO; the head is presented in DATA with OBF set in
// STATUS and, when enabled, the IRQ line raised. Reading DATA takes the byte and lowers the
// line; the next byte is presented `load_time` later, raising the line again, so an
// edge-triggered interrupt controller sees one edge per byte.
//
// Registers (I/O space, from the device's base; 4 ports):
//   0  DATA     8-bit RO  the byte in the output buffer (0 when OBF is clear)
//   1  STATUS   8-bit RO  bit 0 OBF (a byte waits in DATA), bit 1 OVERRUN (a byte was lost to a
//                         full FIFO since the last STATUS read)
//   2  CONTROL  8-bit RW  bit 0 IE: raise IRQ while OBF
#include <cstdint>
#include <deque>
#include <string>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/core/traced.h"

namespace kbd {

enum Status : std::uint8_t { kObf = 1u << 0, kOverrun = 1u << 1 };
enum Control : std::uint8_t { kIe = 1u << 0 };
constexpr std::uint64_t kWindow = 4;

class Keyboard : public sc_core::sc_module {
 public:
  struct Stats {
    std::uint64_t typed = 0, taken = 0, overruns = 0, empty_reads = 0, raised = 0;
  };
  struct Timing {
    sc_core::sc_time interval = sc_core::sc_time(100, sc_core::SC_US);
    sc_core::sc_time load_time = sc_core::sc_time(2, sc_core::SC_US);
  };

  tlm_utils::simple_target_socket<Keyboard> in;
  hw::PinOut irq{"irq"};  // written at once, from any process (hw/core/pin.h)

  Keyboard(const sc_core::sc_module_name& name, std::string input, Timing timing, unsigned fifo);

  const Stats& stats() const { return stats_; }
  void trace(sc_core::sc_trace_file* tf) const;

 private:
  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  std::uint32_t read_data();
  void arrive();   // the next input byte reaches the FIFO
  void present();  // the FIFO's head moves to DATA
  void update();   // recomputes the line

  std::string input_;
  Timing timing_;
  unsigned fifo_depth_;
  hw::RegisterBank regs_;
  std::deque<std::uint8_t> fifo_;
  std::size_t next_ = 0;  // of input_
  // What the VCD shows is hw::Traced: each change reported with its time (a plain variable
  // would be sampled at kernel time, and a change a CPU access makes would show too early).
  hw::Traced<std::uint8_t> data_ = 0;
  hw::Traced<bool> obf_ = false;
  bool overrun_ = false, ie_ = false, presenting_ = false, line_ = false;
  sc_core::sc_event arrive_event_, present_event_;
  Stats stats_;
};

}  // namespace kbd
