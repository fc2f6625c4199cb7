#pragma once
// The serial device's driver (\Driver\Serial, \Device\Serial0, linked as \??\COM1), buffered
// I/O. Interrupt-driven: the ISR drains the RX FIFO into a receive ring (so characters are not
// lost to overrun while reads are not posted) and queues the DPC; the DPC satisfies the pending
// read from the ring and refills the TX FIFO from the transmit ring, completing the write when
// its last byte is in the FIFO. A read completes as soon as at least one character is there
// (serial semantics); one that finds none pends, cancelable. Polling: the dispatch routines
// spin on STATUS at PASSIVE_LEVEL. Register layout: docs/models.md.
#include <cstdint>
#include <deque>
#include <string>

#include "sw/hal/window.h"
#include "sw/io/io_manager.h"
#include "sw/ke/kernel.h"

namespace drivers {

class SerialDriver : public io::PnpDevice {
 public:
  struct Params {
    unsigned unit = 0;  // \Device\SerialN, linked as \??\COM<N+1>
    std::string name;   // also linked as \??\<name> when not empty
    bool polling = false;
    std::size_t ring = 1024;  // bytes in each software ring
    unsigned poll_interval_cycles = 200;
    unsigned isr_cycles = 80, dpc_cycles = 150;
  };
  struct Stats {
    std::uint64_t rx = 0, tx = 0, interrupts = 0, polls = 0, ring_overflows = 0, cancelled = 0;
  };

  SerialDriver(io::IoManager& io, Params params);
  // DriverEntry: loads \Driver\Serial and fills its dispatch table. Once per boot.
  static io::DriverObject& driver_entry(io::IoManager& io);
  // AddDevice: this port's device object, attached over `pdo`. False on failure.
  bool add_device(io::DriverObject& driver, io::DeviceObject& pdo);
  // PnP: START_DEVICE's window and interrupt; removal fails the pending read and write.
  io::Status start(const io::ResourceList& raw, const io::ResourceList& translated) override;
  void surprise_removal() override;
  void remove() override { surprise_removal(); }
  const Stats& stats() const { return stats_; }
  io::DeviceObject* device() const { return device_; }

 private:
  static io::Status dispatch_read(io::DeviceObject* d, io::Irp* irp);
  static io::Status dispatch_write(io::DeviceObject* d, io::Irp* irp);
  static void cancel_read(io::DeviceObject* d, io::Irp* irp);
  static bool isr(ke::Interrupt* interrupt, void* context);
  static void dpc(ke::Dpc* dpc, io::DeviceObject* d, io::Irp* irp, void* context);  // DpcForIsr

  // With lock_ held (DISPATCH_LEVEL). Moves ring bytes into the pending read's buffer: the
  // read to complete once lock_ is released, or null.
  io::Irp* satisfy_read();
  // With lock_ held: TX ring -> FIFO while it has room; the drained write to complete, or null.
  io::Irp* fill_tx();
  // Ring bytes into `buffer`, under the interrupt's spin lock (the ISR fills the ring on
  // whichever processor it runs).
  std::uint32_t take(std::uint64_t buffer, std::uint32_t length);

  io::IoManager& io_;
  ke::Kernel& kernel_;
  Params params_;
  hal::RegisterWindow regs_;
  io::DeviceObject* device_ = nullptr;
  ke::Interrupt* interrupt_ = nullptr;
  // The device's spin lock: the pending IRPs and the transmit ring, which the dispatch routines,
  // the DPC and the cancel routine touch, each possibly on another processor.
  ke::SpinLock lock_;
  std::deque<std::uint8_t> rx_;       // the ISR's: guarded by the interrupt's spin lock
  std::deque<std::uint8_t> tx_;       // lock_
  io::Irp* pending_read_ = nullptr;   // lock_
  io::Irp* pending_write_ = nullptr;  // lock_
  Stats stats_;
};

}  // namespace drivers
