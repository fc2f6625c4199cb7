#pragma once
// The HAL's clock programming (HalpInitializeClock / HalSetTimeIncrement): 8254 counter 0 as a
// rate generator.
#include <cstdint>

#include "hw/cpu/processor.h"

namespace hal {

// The divisor for `rate_hz` from an input clock, rounded to nearest; 65536 is written as 0.
std::uint32_t pit_divisor(std::uint64_t input_hz, std::uint64_t rate_hz);

// Counter 0, LSB then MSB, mode 2, binary.
void pit_start_periodic(hw::Processor& cpu, std::uint16_t port, std::uint32_t divisor);

}  // namespace hal
