#include "sw/drivers/oneshot/oneshot.h"

namespace drivers {
namespace {
constexpr std::uint16_t kDelay = 0, kStatus = 4, kAck = 5;
constexpr std::uint8_t kPending = 1u << 0, kAckPending = 1u << 0;
}  // namespace

OneShotDriver::OneShotDriver(ke::Kernel& kernel, Params params, std::function<void()> on_dpc)
    : kernel_(kernel), params_(std::move(params)), on_dpc_(std::move(on_dpc)) {
  kernel_.initialize_interrupt(interrupt_, params_.name, &OneShotDriver::isr, this, params_.irq,
                               ke::InterruptMode::latched, false);
  kernel_.initialize_dpc(dpc_, params_.name, &OneShotDriver::dpc, this);
  interrupt_.owner = dpc_.owner = params_.driver;
}

bool OneShotDriver::start() {
  return kernel_.connect_interrupt(interrupt_);
}

void OneShotDriver::arm(std::uint32_t ns) {
  kernel_.cpu().outl(static_cast<std::uint16_t>(params_.port + kDelay), ns);
}

bool OneShotDriver::isr(ke::Interrupt*, void* context) {
  auto& d = *static_cast<OneShotDriver*>(context);
  hw::Processor& cpu = d.kernel_.cpu();
  if (!(cpu.inb(static_cast<std::uint16_t>(d.params_.port + kStatus)) & kPending))
    return false;  // not ours
  cpu.outb(static_cast<std::uint16_t>(d.params_.port + kAck), kAckPending);
  ++d.interrupts_;
  cpu.consume(d.params_.isr_cycles, 0.1);
  d.kernel_.insert_queue_dpc(d.dpc_, nullptr, nullptr);
  return true;
}

void OneShotDriver::dpc(ke::Dpc*, void* context, void*, void*) {
  auto& d = *static_cast<OneShotDriver*>(context);
  ++d.dpcs_;
  d.kernel_.cpu().consume(d.params_.dpc_cycles, 0.1);
  if (d.on_dpc_) d.on_dpc_();
}

}  // namespace drivers
