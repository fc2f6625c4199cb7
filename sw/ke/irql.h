#pragma once
// Interrupt request levels, as the x86 PIC HAL defines them (Windows Internals 7e, ch. 8).
#include <cstdint>

namespace ke {

using Irql = std::uint8_t;

constexpr Irql kPassiveLevel = 0;   // PASSIVE_LEVEL
constexpr Irql kApcLevel = 1;       // APC_LEVEL
constexpr Irql kDispatchLevel = 2;  // DISPATCH_LEVEL: DPCs and the scheduler
constexpr Irql kProfileLevel = 27;  // PROFILE_LEVEL: the top of the device range
constexpr Irql kHighLevel = 31;     // HIGH_LEVEL

// The PIC HAL's device IRQLs: IRQL = 27 - IRQ, so IRQ0 (the clock) is the highest device level
// and IRQ15 the lowest (12).
constexpr Irql irql_of_irq(unsigned irq) {
  return static_cast<Irql>(kProfileLevel - irq);
}

}  // namespace ke
