#pragma once
// Workloads that run on the kernel, each started as the system thread by Kernel::run():
//   NestedInterrupts - the textbook sequence of Windows Internals ch. 8 (a higher-priority
//                      interrupt preempts a lower ISR; both DPCs run in queue order when IRQL
//                      falls to DISPATCH_LEVEL; the thread resumes at PASSIVE_LEVEL).
//   SystemWorkload   - the default machine: a compute thread, and a device thread woken by its
//                      device's DPC (device line -> ISR -> DPC -> event -> thread), round after
//                      round; the clock drives quanta and timeouts.
//   Misbehave        - a driver that breaks one IRQL rule on purpose, to show the bug check.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sw/drivers/oneshot/oneshot.h"
#include "sw/ke/kernel.h"

namespace apps {

class NestedInterrupts {
 public:
  // `low` and `high`: two one-shot devices, the high one on the higher-priority IRQ.
  NestedInterrupts(ke::Kernel& kernel, drivers::OneShotDriver::Params low,
                   drivers::OneShotDriver::Params high);
  void main();

 private:
  ke::Kernel& kernel_;
  drivers::OneShotDriver low_, high_;
};

class SystemWorkload {
 public:
  struct Params {
    drivers::OneShotDriver::Params device;
    std::uint32_t period_ns = 500'000;  // between device interrupts
    std::uint64_t rounds = 0;           // 0 = until the simulation ends
  };
  struct Counts {
    std::uint64_t rounds = 0, timeouts = 0, compute_chunks = 0;
  };

  SystemWorkload(ke::Kernel& kernel, Params params);
  void main();
  const Counts& counts() const { return counts_; }
  const drivers::OneShotDriver& device() const { return device_; }

 private:
  ke::Kernel& kernel_;
  Params params_;
  drivers::OneShotDriver device_;
  ke::Event done_;
  Counts counts_;
};

// A thread computes while its device interrupts it every `period`: each interrupt takes the full
// path (device line, PIC, INTA, ISR, EOI, DPC that re-arms the device) and returns to the thread.
class DeviceLoop {
 public:
  DeviceLoop(ke::Kernel& kernel, drivers::OneShotDriver::Params device, std::uint32_t period_ns);
  void main();
  const drivers::OneShotDriver& device() const { return device_; }

 private:
  ke::Kernel& kernel_;
  std::uint32_t period_ns_;
  drivers::OneShotDriver device_;
};

class Misbehave {
 public:
  static const std::vector<std::string>& kinds();
  // `kind` is one of kinds(); `device` is used by the kinds that need an interrupt.
  Misbehave(ke::Kernel& kernel, std::string kind, drivers::OneShotDriver::Params device);
  void main();

 private:
  ke::Kernel& kernel_;
  std::string kind_;
  drivers::OneShotDriver device_;
};

}  // namespace apps
