#include "sw/hal/hal.h"

#include <algorithm>

namespace hal {

namespace {
// Local APIC registers the HAL uses.
constexpr std::uint64_t kTpr = 0x80, kEoi = 0xb0, kLdr = 0xd0, kSvr = 0xf0, kIcrLow = 0x300,
                        kIcrHigh = 0x310;
constexpr std::uint32_t kSvrEnable = 1u << 8;
// Redirection entry / ICR bits.
constexpr std::uint32_t kLowestPriority = 1u << 8, kLogical = 1u << 11, kLevel = 1u << 15,
                        kMasked = 1u << 16;

// TPR class for an IRQL: IRQL itself up to 15 (HIGH_LEVEL, 31, is class 15).
std::uint32_t tpr_of(ke::Irql irql) {
  return std::min<std::uint32_t>(irql, 15) << 4;
}
}  // namespace

Hal::Hal(hw::Processor& cpu, HalConfig config) : cpu_(cpu), config_(config), pic_(cpu, config.pic) {
  rebuild_masks();
}

void Hal::initialize() {
  pic_.initialize(config_.vector_base, static_cast<std::uint8_t>(config_.vector_base + 8));
  if (config_.level_irqs != 0) pic_.set_level_triggered(config_.level_irqs);
  if (apic()) {
    // The 8259A pair is not used: every input, the cascade too, masked. ELCR still tells
    // which ISA lines are level-triggered, for the I/O APIC's trigger mode.
    pic_.set_mask(0xffff);
    return;
  }
  program(level_);
}

void Hal::initialize_processor(ke::Irql irql) {
  if (!apic()) return;
  const unsigned id = cpu_.cpu_id();
  cpu_.write(hw::Space::memory, kLocalApic + kLdr, 4, (1u << id) << 24);  // flat logical ID
  cpu_.write(hw::Space::memory, kLocalApic + kTpr, 4, tpr_of(irql));
  ++stats_.tpr_writes;
  cpu_.write(hw::Space::memory, kLocalApic + kSvr, 4, kSvrEnable | kApicSpuriousVector);
}

void Hal::set_level_triggered(unsigned irq) {
  if (irq >= 16 || level_triggered(irq)) return;
  config_.level_irqs = static_cast<std::uint16_t>(config_.level_irqs | 1u << irq);
  pic_.set_level_triggered(config_.level_irqs);
  if (apic() && (enabled_ >> irq & 1)) program_redirection(irq, false);
}

ke::Irql Hal::irql_of_irq(unsigned irq) const {
  if (!apic()) return ke::irql_of_irq(irq);
  // The clock above every device (x64's CLOCK_LEVEL); IRQ 1..15 spread over classes 12..3 in
  // the PIC's priority order, so a lower IRQ never runs at a lower IRQL than a higher one.
  if (irq == 0) return 13;
  return static_cast<ke::Irql>(12 - (irq - 1) * 10 / 15);
}

std::uint8_t Hal::vector_of_irq(unsigned irq) const {
  if (!apic()) return static_cast<std::uint8_t>(config_.vector_base + irq);
  return static_cast<std::uint8_t>(irql_of_irq(irq) << 4 | (irq & 15));
}

int Hal::irq_of_vector(std::uint8_t vector) const {
  if (!apic()) return pic_.irq_of_vector(vector);
  const unsigned irq = vector & 15u;
  return vector_of_irq(irq) == vector ? static_cast<int>(irq) : -1;
}

std::uint64_t Hal::affinity_of_irq(unsigned irq) const {
  if (!apic()) return 1;
  if (config_.delivery == ApicDelivery::fixed || irq == 0)
    return std::uint64_t{1} << (irq == 0 ? 0 : irq % config_.processors);
  return (std::uint64_t{1} << config_.processors) - 1;
}

void Hal::ioapic_write(unsigned reg, std::uint32_t value) {
  cpu_.write(hw::Space::memory, kIoApic, 4, reg);
  cpu_.write(hw::Space::memory, kIoApic + 0x10, 4, value);
}

void Hal::program_redirection(unsigned irq, bool masked) {
  ++stats_.redirections;
  std::uint64_t affinity = affinity_of_irq(irq) & processors_[irq & 15];
  if (affinity == 0) affinity = affinity_of_irq(irq);  // masked anyway: any valid destination
  const bool lowest = (affinity & (affinity - 1)) != 0;
  std::uint32_t low = vector_of_irq(irq);
  std::uint32_t destination = 0;
  if (lowest) {
    low |= kLowestPriority | kLogical;  // flat logical: one bit per CPU, set at initialization
    destination = static_cast<std::uint32_t>(affinity);
  } else {
    destination = static_cast<std::uint32_t>(__builtin_ctzll(affinity));  // physical: APIC ID
  }
  if (level_triggered(irq)) low |= kLevel;
  if (masked) low |= kMasked;
  ioapic_write(0x10 + 2 * irq + 1, destination << 24);
  ioapic_write(0x10 + 2 * irq, low);
}

void Hal::request_dispatch_interrupt(unsigned cpu) {
  cpu_.write(hw::Space::memory, kLocalApic + kIcrHigh, 4, cpu << 24);
  cpu_.write(hw::Space::memory, kLocalApic + kIcrLow, 4, kDispatchIpiVector);
}

void Hal::local_eoi() {
  ++stats_.eois;
  cpu_.write(hw::Space::memory, kLocalApic + kEoi, 4, 0);
}

void Hal::acknowledge_interrupt(unsigned irq) {
  if (!apic()) pic_.end_of_interrupt(irq);
}

void Hal::end_system_interrupt(unsigned) {
  if (apic()) local_eoi();
}

void Hal::rebuild_masks() {
  for (unsigned level = 0; level < masks_.size(); ++level) {
    std::uint16_t mask = static_cast<std::uint16_t>(~enabled_);
    for (unsigned irq = 0; irq < 16; ++irq) {
      if (ke::irql_of_irq(irq) <= level) mask |= static_cast<std::uint16_t>(1u << irq);
    }
    // The cascade input stays open: the slave's own IMR masks its inputs.
    masks_[level] = mask & static_cast<std::uint16_t>(~(1u << config_.pic.cascade));
  }
}

void Hal::program(ke::Irql level) {
  pic_level_ = level;
  const std::uint16_t mask = mask_for(level);
  if (mask != pic_.mask()) {
    ++stats_.mask_programs;
    pic_.set_mask(mask);
  }
}

void Hal::enable_system_interrupt(unsigned irq, std::uint64_t processors) {
  processors_[irq & 15] = processors;
  enabled_ |= static_cast<std::uint16_t>(1u << irq);
  if (apic()) {
    program_redirection(irq, false);
    return;
  }
  rebuild_masks();
  program(config_.mode == IrqlMode::eager ? level_ : pic_level_);
}

void Hal::disable_system_interrupt(unsigned irq) {
  enabled_ &= static_cast<std::uint16_t>(~(1u << irq));
  if (apic()) {
    program_redirection(irq, true);
    return;
  }
  rebuild_masks();
  program(config_.mode == IrqlMode::eager ? level_ : pic_level_);
}

void Hal::irql_changed(ke::Irql now) {
  level_ = now;
  if (apic()) {
    // KfRaiseIrql / KfLowerIrql on the APIC HAL: the IRQL is the TPR, written on every change
    // (the local APIC then holds off every vector of that class and below).
    ++stats_.tpr_writes;
    cpu_.write(hw::Space::memory, kLocalApic + kTpr, 4, tpr_of(now));
    return;
  }
  if (config_.mode == IrqlMode::eager) {
    program(now);
  } else if (now < pic_level_) {
    program(now);  // a deferral masked the PIC higher; open it back up to the real level
  }
}

Begin Hal::begin_system_interrupt(unsigned irq) {
  if (apic()) return Begin::service;  // the local APIC's TPR already kept lower classes out
  if (pic_.is_spurious(irq)) {
    return Begin::spurious;
  }
  if (ke::irql_of_irq(irq) <= level_) {
    // Lazy IRQL (or an eager race): the level was raised without telling the PIC. Mask the PIC
    // to the real level now, take the request off the PIC, and remember it for replay.
    pending_ |= static_cast<std::uint16_t>(1u << irq);
    program(level_);
    pic_.end_of_interrupt(irq);
    return Begin::deferred;
  }
  return Begin::service;
}

int Hal::take_pending(ke::Irql level) {
  int best = -1;
  for (unsigned irq = 0; irq < 16; ++irq) {
    if ((pending_ >> irq & 1) && ke::irql_of_irq(irq) > level &&
        (best < 0 || ke::irql_of_irq(irq) > ke::irql_of_irq(static_cast<unsigned>(best))))
      best = static_cast<int>(irq);
  }
  if (best >= 0) {
    pending_ &= static_cast<std::uint16_t>(~(1u << best));
  }
  return best;
}

}  // namespace hal
