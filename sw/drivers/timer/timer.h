#pragma once
// A timer driver over the one-shot device (\Driver\Timer, \Device\Timer0): IOCTL_TIMER_WAIT
// with a 32-bit nanosecond delay pends until the device fires. Requests queue through
// IoStartPacket; StartIo arms the device; the ISR acknowledges it and queues the DPC; the DPC
// completes the request and starts the next one. The smallest whole IRP-driven driver.
#include <cstdint>
#include <string>

#include "sw/hal/window.h"
#include "sw/io/io_manager.h"
#include "sw/ke/kernel.h"

namespace drivers {

constexpr std::uint32_t kIoctlTimerWait = 0x00220001;  // CTL_CODE(FILE_DEVICE_UNKNOWN, 0, ...)

class TimerDriver : public io::PnpDevice {
 public:
  struct Params {
    unsigned unit = 0;  // \Device\TimerN
    std::string name;   // also linked as \??\<name> when not empty
  };
  struct Stats {
    std::uint64_t waits = 0, interrupts = 0;
  };

  TimerDriver(io::IoManager& io, Params params);
  // DriverEntry: loads \Driver\Timer and fills its dispatch table. Once per boot.
  static io::DriverObject& driver_entry(io::IoManager& io);
  // AddDevice: this device's object, attached over `pdo`. False on failure.
  bool add_device(io::DriverObject& driver, io::DeviceObject& pdo);
  // PnP: START_DEVICE's window and interrupt; removal fails the waits.
  io::Status start(const io::ResourceList& raw, const io::ResourceList& translated) override;
  void surprise_removal() override;
  void remove() override { surprise_removal(); }
  const Stats& stats() const { return stats_; }
  io::DeviceObject* device() const { return device_; }

 private:
  static io::Status dispatch_ioctl(io::DeviceObject* d, io::Irp* irp);
  static void start_io(io::DeviceObject* d, io::Irp* irp);
  static bool isr(ke::Interrupt* interrupt, void* context);
  static void dpc(ke::Dpc* dpc, io::DeviceObject* d, io::Irp* irp, void* context);  // DpcForIsr

  io::IoManager& io_;
  ke::Kernel& kernel_;
  Params params_;
  hal::RegisterWindow regs_;
  io::DeviceObject* device_ = nullptr;
  ke::Interrupt* interrupt_ = nullptr;
  Stats stats_;
};

}  // namespace drivers
