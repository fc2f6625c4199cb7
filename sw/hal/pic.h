#pragma once
// The HAL's view of the 8259A pair (HalpInitializePICs, HalEnableSystemInterrupt,
// HalDisableSystemInterrupt, HalEndSystemInterrupt's EOI in ReactOS' hal/halx86/generic/pic.c).
// Plain C++ over the processor interface; every access is a timed port I/O.
#include <cstdint>

#include "hw/cpu/processor.h"

namespace hal {

struct PicPorts {
  std::uint16_t master = 0x20;
  std::uint16_t slave = 0xa0;
  unsigned cascade = 2;        // master input the slave is wired to
  std::uint16_t elcr = 0x4d0;  // edge/level control: ELCR1, ELCR2 at +1
};

class PicPair {
 public:
  PicPair(hw::Processor& cpu, PicPorts ports) : cpu_(cpu), ports_(ports) {}

  // Edge-triggered, cascaded, 8086 mode, normal EOI; every IRQ masked except the cascade.
  // Vector bases must be multiples of 8.
  void initialize(std::uint8_t master_base, std::uint8_t slave_base);
  // Makes the IRQs of `level_irqs` (bit n = IRQ n) level-triggered and the rest edge, through
  // the chipset's ELCR — what the firmware does for the lines PCI devices share.
  void set_level_triggered(std::uint16_t level_irqs);

  // bit n set = IRQ n masked. Only the chips whose byte changed are written.
  void set_mask(std::uint16_t mask);
  std::uint16_t mask() const { return mask_; }
  void enable_irq(unsigned irq) { set_mask(static_cast<std::uint16_t>(mask_ & ~(1u << irq))); }
  void disable_irq(unsigned irq) { set_mask(static_cast<std::uint16_t>(mask_ | (1u << irq))); }

  // Specific EOI: the slave's level first, then the cascade level on the master.
  void end_of_interrupt(unsigned irq);
  // For IRQ7 and IRQ15: true if the chip has no such level in service (a request that vanished
  // before INTA). A spurious IRQ15 still left the cascade level in service on the master, which
  // this EOIs; a spurious IRQ7 needs no EOI.
  bool is_spurious(unsigned irq);

  std::uint8_t read_isr(bool slave);
  std::uint8_t read_irr(bool slave);
  // IRQ number for a vector, or -1 if the vector is not one of the PIC's.
  int irq_of_vector(std::uint8_t vector) const;
  const PicPorts& ports() const { return ports_; }

 private:
  std::uint8_t read_status(std::uint16_t port, std::uint8_t ocw3);

  hw::Processor& cpu_;
  PicPorts ports_;
  std::uint8_t master_base_ = 0, slave_base_ = 0;
  std::uint16_t mask_ = 0xffff;
};

}  // namespace hal
