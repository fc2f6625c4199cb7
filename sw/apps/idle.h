#pragma once
// The pre-kernel workload of the default platform: boot the HAL's PIC and clock, then halt,
// taking each timer tick as an interrupt (count, a little handler work, EOI). It is what an
// idle machine does, and what the idle benchmark measures. The kernel issue replaces the
// handler with the trap dispatcher, ISR and DPC.
#include <cstdint>

#include "hw/cpu/processor.h"
#include "sw/hal/pic.h"

namespace apps {

struct IdleParams {
  hal::PicPorts pic;
  std::uint8_t vector_base = 0x30;  // master; the slave uses +8
  std::uint16_t timer_port = 0x40;
  unsigned timer_irq = 0;
  std::uint64_t timer_clock_hz = 1'193'182;
  std::uint64_t tick_hz = 1000;
  unsigned tick_handler_cycles = 200;  // the clock ISR's own work
};

class IdleLoop : public hw::TrapHandler {
 public:
  struct Counts {
    std::uint64_t ticks = 0, spurious = 0, unexpected = 0, bus_errors = 0;
  };

  IdleLoop(hw::Processor& cpu, IdleParams params);
  // Boots and idles; returns only if asked to stop after `max_ticks` (0 = never).
  void run(std::uint64_t max_ticks = 0);

  void interrupt(std::uint8_t vector) override;
  void bus_error(const hw::BusFault& fault) override;
  const Counts& counts() const { return counts_; }

 private:
  hw::Processor& cpu_;
  IdleParams params_;
  hal::PicPair pic_;
  Counts counts_;
};

}  // namespace apps
