#include "sw/apps/kernel_apps.h"

#include "util/event_log.h"

namespace apps {

// ---- the textbook nested interrupts

namespace {
drivers::OneShotDriver::Params with_isr_cycles(drivers::OneShotDriver::Params p, unsigned cycles) {
  p.isr_cycles = cycles;
  return p;
}
}  // namespace

// The low ISR works 20 us (2000 cycles at 100 MHz): long enough for the high device to get in.
NestedInterrupts::NestedInterrupts(ke::Kernel& kernel, drivers::OneShotDriver::Params low,
                                   drivers::OneShotDriver::Params high)
    : kernel_(kernel), low_(kernel, with_isr_cycles(low, 2000)), high_(kernel, high) {}

void NestedInterrupts::main() {
  hw::Processor& cpu = kernel_.cpu();
  low_.start();
  high_.start();
  // The low device fires at +100 us, the high one 5 us later, inside the low ISR.
  low_.arm(100'000);
  high_.arm(105'000);
  util::events().emit("app", "thread_running", {{"irql", kernel_.irql()}});
  std::uint64_t seen = kernel_.stats().dpcs_executed;
  for (int chunk = 0; chunk < 40; ++chunk) {
    cpu.consume(1000, 0.2);  // 10 us of the thread's own work
    if (kernel_.stats().dpcs_executed != seen) {
      seen = kernel_.stats().dpcs_executed;
      util::events().emit("app", "thread_resumed", {{"irql", kernel_.irql()}});
    }
  }
  cpu.power_off(0);
}

// ---- the default machine

SystemWorkload::SystemWorkload(ke::Kernel& kernel, Params params)
    : kernel_(kernel),
      params_(params),
      device_(kernel, params.device, [this] { kernel_.set_event(done_); }) {
  kernel_.initialize_event(done_, "device_done", ke::EventType::synchronization, false);
}

void SystemWorkload::main() {
  hw::Processor& cpu = kernel_.cpu();
  device_.start();
  // A compute thread at the same priority as this one: the clock's quanta share the CPU.
  kernel_.create_thread("compute", 8, [this, &cpu] {
    for (;;) {
      cpu.consume(5000, 0.3);
      ++counts_.compute_chunks;
    }
  });
  // This thread, above it, serves the device: arm, wait for the DPC's event, work, repeat.
  kernel_.set_priority_thread(*kernel_.current_thread(), 12);
  while (params_.rounds == 0 || counts_.rounds < params_.rounds) {
    device_.arm(params_.period_ns);
    // The timeout is a safety net (10 periods); a healthy device never hits it.
    const auto status = kernel_.wait_for_single_object(done_, 10ull * params_.period_ns * 1000);
    if (status == ke::Status::timeout) ++counts_.timeouts;
    ++counts_.rounds;
    cpu.consume(2000, 0.2);
  }
  cpu.power_off(0);
}

// ---- interrupts returning to the same thread

DeviceLoop::DeviceLoop(ke::Kernel& kernel, drivers::OneShotDriver::Params device,
                       std::uint32_t period_ns)
    : kernel_(kernel),
      period_ns_(period_ns),
      device_(kernel, device, [this] { device_.arm(period_ns_); }) {}

void DeviceLoop::main() {
  device_.start();
  device_.arm(period_ns_);
  for (;;) kernel_.cpu().consume(100'000'000);  // 1 s of work per call: interrupts land inside
}

// ---- bug checks on purpose

const std::vector<std::string>& Misbehave::kinds() {
  static const std::vector<std::string> k = {
      "wait-at-dispatch", "lower-irql-upward",    "raise-irql-downward", "dpc-changes-irql",
      "wait-in-dpc",      "unexpected-interrupt", "spin-lock-twice"};
  return k;
}

Misbehave::Misbehave(ke::Kernel& kernel, std::string kind, drivers::OneShotDriver::Params device)
    : kernel_(kernel), kind_(std::move(kind)), device_(kernel, device, [this] {
        if (kind_ == "dpc-changes-irql") kernel_.raise_irql(ke::irql_of_irq(device_.params().irq));
        if (kind_ == "wait-in-dpc") {
          ke::Event never;
          kernel_.initialize_event(never, "never", ke::EventType::notification, false);
          kernel_.wait_for_single_object(never, std::nullopt);
        }
      }) {}

void Misbehave::main() {
  hw::Processor& cpu = kernel_.cpu();
  cpu.consume(10'000);  // let the machine run a little first
  if (kind_ == "wait-at-dispatch") {
    ke::Event e;
    kernel_.initialize_event(e, "e", ke::EventType::notification, false);
    kernel_.raise_irql(ke::kDispatchLevel);
    kernel_.wait_for_single_object(e, 1'000'000'000);
  } else if (kind_ == "lower-irql-upward") {
    kernel_.lower_irql(ke::kDispatchLevel);
  } else if (kind_ == "raise-irql-downward") {
    kernel_.raise_irql(ke::kDispatchLevel);
    kernel_.raise_irql(ke::kPassiveLevel);
  } else if (kind_ == "spin-lock-twice") {
    ke::SpinLock lock;
    kernel_.acquire_spin_lock(lock);
    kernel_.acquire_spin_lock_at_dpc_level(lock);
  } else if (kind_ == "unexpected-interrupt") {
    // A driver that unmasks its IRQ on the PIC itself instead of connecting an interrupt: the
    // HAL masks every IRQ with nothing connected, so this is how an unexpected vector happens.
    kernel_.hal().pic().enable_irq(device_.params().irq);
    device_.arm(1000);
  } else {
    device_.start();
    device_.arm(1000);
  }
  cpu.consume(1'000'000);
}

}  // namespace apps
