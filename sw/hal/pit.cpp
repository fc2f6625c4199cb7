#include "sw/hal/pit.h"

namespace hal {

std::uint32_t pit_divisor(std::uint64_t input_hz, std::uint64_t rate_hz) {
  if (rate_hz == 0) return 0x10000;
  std::uint64_t d = (input_hz + rate_hz / 2) / rate_hz;
  if (d < 2) d = 2;  // mode 2 needs a count of at least 2
  if (d > 0x10000) d = 0x10000;
  return static_cast<std::uint32_t>(d);
}

void pit_start_periodic(hw::Processor& cpu, std::uint16_t port, std::uint32_t divisor) {
  constexpr std::uint8_t kCounter0LsbMsbMode2 = 0x34;
  cpu.outb(static_cast<std::uint16_t>(port + 3), kCounter0LsbMsbMode2);
  cpu.outb(port, static_cast<std::uint8_t>(divisor & 0xff));
  cpu.outb(port, static_cast<std::uint8_t>((divisor >> 8) & 0xff));
}

}  // namespace hal
