#pragma once
// The block device's driver (\Driver\Disk; one device object per disk, \Device\HarddiskN,
// linked as \??\PhysicalDriveN and \??\<instance name>), in the shape of a Windows storage
// port driver of the PIO/8237 era. One DriverObject serves every disk; this class is one
// device's extension (its registers, its interrupt, its statistics):
//   dispatch   IRP_MJ_READ/WRITE: checks the range, marks the IRP pending, IoStartPacket keyed
//              by LBA (StartIo serves them in an elevator sweep)
//   StartIo    programs the controller (and, for DMA, the DMA channel over the IRP's MDL, which
//              is the caller's buffer: direct I/O) at DISPATCH_LEVEL
//   ISR        reads STATUS (which acknowledges the device), saves it, queues the DPC
//   DPC        PIO: moves one sector between DATA and the buffer; on DONE or ERROR completes
//              the IRP and starts the next packet
// With `polling`, there is no interrupt: the dispatch routine runs the whole transfer itself at
// PASSIVE_LEVEL, polling ALT_STATUS (serialized by a synchronization event), and completes the
// IRP before returning. Register layouts: docs/models.md.
#include <cstdint>
#include <string>

#include "sw/hal/window.h"
#include "sw/io/io_manager.h"
#include "sw/ke/kernel.h"

namespace drivers {

class DiskDriver {
 public:
  struct Params {
    unsigned unit = 0;                // N of \Device\HarddiskN
    std::string name;                 // also linked as \??\<name> when not empty
    hw::Space space = hw::Space::io;  // where the controller's registers are
    std::uint64_t base = 0x1f0;
    unsigned irq = 14;
    std::uint64_t sectors = 8192;
    bool dma = true;       // false: PIO through DATA
    bool polling = false;  // false: interrupt-driven
    std::uint16_t dma_port = 0xc00;
    unsigned dma_channel = 1;
    unsigned dma_mode = 0;                // 0 burst, 1 cycle-stealing, 2 transparent
    unsigned poll_interval_cycles = 200;  // between two ALT_STATUS reads
    unsigned isr_cycles = 150, dpc_cycles = 300, start_io_cycles = 200, dispatch_cycles = 150;
  };
  struct Stats {
    std::uint64_t requests = 0, sectors = 0, errors = 0, interrupts = 0, polls = 0;
  };

  DiskDriver(io::IoManager& io, Params params);
  // DriverEntry: loads \Driver\Disk and fills its dispatch table. Once per boot.
  static io::DriverObject& driver_entry(io::IoManager& io);
  // AddDevice + START: creates this disk's device object and connects its interrupt. False on
  // failure.
  bool add_device(io::DriverObject& driver);
  const Stats& stats() const { return stats_; }
  const Params& params() const { return params_; }
  io::DeviceObject* device() const { return device_; }

 private:
  static io::Status dispatch_rw(io::DeviceObject* d, io::Irp* irp);
  static void start_io(io::DeviceObject* d, io::Irp* irp);
  static bool isr(ke::Interrupt* interrupt, void* context);
  static void dpc(ke::Dpc* dpc, io::DeviceObject* d, io::Irp* irp, void* context);  // DpcForIsr

  // Programs the controller (and the DMA channel) for the IRP's current location.
  void program(io::Irp& irp, bool interrupts);
  // PIO: one sector between DATA and the buffer at `address`.
  void pio_sector(bool write, std::uint64_t address);
  void finish(io::Irp& irp, std::uint8_t status);
  io::Status polled_transfer(io::Irp& irp);

  io::IoManager& io_;
  ke::Kernel& kernel_;
  Params params_;
  hal::RegisterWindow regs_, dma_regs_;  // the controller's; its DMA channel's
  io::DeviceObject* device_ = nullptr;
  ke::Interrupt* interrupt_ = nullptr;
  ke::Event lock_;  // polling mode: one transfer at a time
  std::uint8_t saved_status_ = 0;
  std::uint32_t sectors_done_ = 0;  // of the current PIO request
  Stats stats_;
};

}  // namespace drivers
