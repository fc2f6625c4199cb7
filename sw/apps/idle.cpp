#include "sw/apps/idle.h"

#include "sw/hal/pit.h"
#include "util/log.h"

namespace apps {
namespace {
util::Logger& logger() {
  static util::Logger log("sw.idle");
  return log;
}
}  // namespace

IdleLoop::IdleLoop(hw::Processor& cpu, IdleParams params)
    : cpu_(cpu), params_(params), pic_(cpu, params.pic) {}

void IdleLoop::run(std::uint64_t max_ticks) {
  cpu_.set_trap_handler(this);
  pic_.initialize(params_.vector_base, static_cast<std::uint8_t>(params_.vector_base + 8));
  hal::pit_start_periodic(cpu_, params_.timer_port,
                          hal::pit_divisor(params_.timer_clock_hz, params_.tick_hz));
  pic_.enable_irq(params_.timer_irq);
  cpu_.enable_interrupts();
  while (max_ticks == 0 || counts_.ticks < max_ticks) cpu_.halt();
  cpu_.disable_interrupts();
}

void IdleLoop::interrupt(std::uint8_t vector) {
  const int irq = pic_.irq_of_vector(vector);
  if (irq < 0) {
    ++counts_.unexpected;
    logger().error("unexpected interrupt vector {:#04x}", vector);
    return;
  }
  if (pic_.is_spurious(static_cast<unsigned>(irq))) {
    ++counts_.spurious;
    logger().debug("spurious IRQ{}", irq);
    return;
  }
  if (static_cast<unsigned>(irq) == params_.timer_irq) {
    ++counts_.ticks;
    cpu_.consume(params_.tick_handler_cycles, 0.1);
  } else {
    ++counts_.unexpected;
    logger().warn("IRQ{} has no handler", irq);
  }
  pic_.end_of_interrupt(static_cast<unsigned>(irq));
}

void IdleLoop::bus_error(const hw::BusFault& fault) {
  ++counts_.bus_errors;
  logger().error("bus error at {} {:#x}: {}", fault.space == hw::Space::io ? "port" : "address",
                 fault.address, fault.reason);
}

}  // namespace apps
