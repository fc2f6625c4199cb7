#include "sw/hal/hal.h"

namespace hal {

Hal::Hal(hw::Processor& cpu, HalConfig config) : config_(config), pic_(cpu, config.pic) {
  rebuild_masks();
}

void Hal::initialize() {
  pic_.initialize(config_.vector_base, static_cast<std::uint8_t>(config_.vector_base + 8));
  if (config_.level_irqs != 0) pic_.set_level_triggered(config_.level_irqs);
  program(level_);
}

void Hal::set_level_triggered(unsigned irq) {
  if (irq >= 16 || level_triggered(irq)) return;
  config_.level_irqs = static_cast<std::uint16_t>(config_.level_irqs | 1u << irq);
  pic_.set_level_triggered(config_.level_irqs);
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

void Hal::enable_system_interrupt(unsigned irq) {
  enabled_ |= static_cast<std::uint16_t>(1u << irq);
  rebuild_masks();
  program(config_.mode == IrqlMode::eager ? level_ : pic_level_);
}

void Hal::disable_system_interrupt(unsigned irq) {
  enabled_ &= static_cast<std::uint16_t>(~(1u << irq));
  rebuild_masks();
  program(config_.mode == IrqlMode::eager ? level_ : pic_level_);
}

void Hal::irql_changed(ke::Irql now) {
  level_ = now;
  if (config_.mode == IrqlMode::eager) {
    program(now);
  } else if (now < pic_level_) {
    program(now);  // a deferral masked the PIC higher; open it back up to the real level
  }
}

Begin Hal::begin_system_interrupt(unsigned irq) {
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
