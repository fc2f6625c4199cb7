#pragma once
// Driver for the one-shot interrupt source (hw/devices/oneshot.h): the ISR checks the device
// is the one interrupting, acknowledges it and queues the DPC; the DPC does the deferred work
// and tells its client. The shape every interrupt-driven driver here follows.
#include <cstdint>
#include <functional>
#include <string>

#include "sw/ke/kernel.h"

namespace drivers {

class OneShotDriver {
 public:
  struct Params {
    std::string name = "oneshot";
    std::uint16_t port = 0x300;
    unsigned irq = 5;
    unsigned isr_cycles = 300;  // the ISR's own work beyond its port I/O
    unsigned dpc_cycles = 500;
    // The driver its ISR and DPC belong to in reports and bug checks ("" = unnamed, the kernel
    // scenarios' own).
    std::string driver;
  };

  OneShotDriver(ke::Kernel& kernel, Params params, std::function<void()> on_dpc = {});
  OneShotDriver(const OneShotDriver&) = delete;
  OneShotDriver& operator=(const OneShotDriver&) = delete;

  // IoConnectInterrupt for this device. False if the IRQ cannot be connected.
  bool start();
  // Fires the device `ns` nanoseconds from now.
  void arm(std::uint32_t ns);
  const Params& params() const { return params_; }
  std::uint64_t interrupts() const { return interrupts_; }
  std::uint64_t dpcs() const { return dpcs_; }

 private:
  static bool isr(ke::Interrupt* interrupt, void* context);
  static void dpc(ke::Dpc* dpc, void* context, void* arg1, void* arg2);

  ke::Kernel& kernel_;
  Params params_;
  std::function<void()> on_dpc_;
  ke::Interrupt interrupt_;
  ke::Dpc dpc_;
  std::uint64_t interrupts_ = 0, dpcs_ = 0;
};

}  // namespace drivers
