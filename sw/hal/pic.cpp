#include "sw/hal/pic.h"

namespace hal {
namespace {
// ICW1: init, edge-triggered, cascade, ICW4 follows.
constexpr std::uint8_t kIcw1 = 0x11;
constexpr std::uint8_t kIcw4_8086 = 0x01;
constexpr std::uint8_t kOcw2SpecificEoi = 0x60;
constexpr std::uint8_t kOcw3ReadIrr = 0x0a;
constexpr std::uint8_t kOcw3ReadIsr = 0x0b;
}  // namespace

void PicPair::initialize(std::uint8_t master_base, std::uint8_t slave_base) {
  master_base_ = master_base;
  slave_base_ = slave_base;
  cpu_.outb(ports_.master, kIcw1);
  cpu_.outb(ports_.master + 1, master_base);
  cpu_.outb(ports_.master + 1,
            static_cast<std::uint8_t>(1u << ports_.cascade));  // slave on this input
  cpu_.outb(ports_.master + 1, kIcw4_8086);
  cpu_.outb(ports_.slave, kIcw1);
  cpu_.outb(ports_.slave + 1, slave_base);
  cpu_.outb(ports_.slave + 1, static_cast<std::uint8_t>(ports_.cascade));  // slave identity
  cpu_.outb(ports_.slave + 1, kIcw4_8086);
  // ICW1 cleared both IMRs; write the real mask, leaving the cascade open.
  mask_ = 0;
  set_mask(static_cast<std::uint16_t>(0xffff & ~(1u << ports_.cascade)));
}

void PicPair::set_level_triggered(std::uint16_t level_irqs) {
  cpu_.outb(ports_.elcr, static_cast<std::uint8_t>(level_irqs));
  cpu_.outb(static_cast<std::uint16_t>(ports_.elcr + 1),
            static_cast<std::uint8_t>(level_irqs >> 8));
}

void PicPair::set_mask(std::uint16_t mask) {
  std::uint16_t changed = mask ^ mask_;
  mask_ = mask;
  if (changed & 0x00ff) cpu_.outb(ports_.master + 1, static_cast<std::uint8_t>(mask));
  if (changed & 0xff00) cpu_.outb(ports_.slave + 1, static_cast<std::uint8_t>(mask >> 8));
}

void PicPair::end_of_interrupt(unsigned irq) {
  if (irq >= 8) {
    cpu_.outb(ports_.slave, static_cast<std::uint8_t>(kOcw2SpecificEoi | (irq - 8)));
    cpu_.outb(ports_.master, static_cast<std::uint8_t>(kOcw2SpecificEoi | ports_.cascade));
  } else {
    cpu_.outb(ports_.master, static_cast<std::uint8_t>(kOcw2SpecificEoi | irq));
  }
}

bool PicPair::is_spurious(unsigned irq) {
  if (irq != 7 && irq != 15) return false;
  const bool slave = irq == 15;
  if (read_isr(slave) & 0x80) return false;
  if (slave) cpu_.outb(ports_.master, static_cast<std::uint8_t>(kOcw2SpecificEoi | ports_.cascade));
  return true;
}

std::uint8_t PicPair::read_status(std::uint16_t port, std::uint8_t ocw3) {
  cpu_.outb(port, ocw3);
  return cpu_.inb(port);
}

std::uint8_t PicPair::read_isr(bool slave) {
  return read_status(slave ? ports_.slave : ports_.master, kOcw3ReadIsr);
}

std::uint8_t PicPair::read_irr(bool slave) {
  return read_status(slave ? ports_.slave : ports_.master, kOcw3ReadIrr);
}

int PicPair::irq_of_vector(std::uint8_t vector) const {
  if (vector >= master_base_ && vector < master_base_ + 8) return vector - master_base_;
  if (vector >= slave_base_ && vector < slave_base_ + 8) return 8 + vector - slave_base_;
  return -1;
}

}  // namespace hal
