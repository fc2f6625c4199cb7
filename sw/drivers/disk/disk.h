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
//
// Plug and Play: AddDevice creates the FDO over the bus driver's PDO; IRP_MN_START_DEVICE
// brings the register window (an I/O or a memory range: the driver runs unchanged on either),
// the interrupt (connected from its translated vector and IRQL) and the DMA channel. On a
// surprise removal every queued and in-progress request completes with STATUS_NO_SUCH_DEVICE
// and new ones fail with STATUS_DELETE_PENDING.
#include <cstdint>
#include <string>

#include "sw/hal/window.h"
#include "sw/io/io_manager.h"
#include "sw/ke/kernel.h"

namespace drivers {

class DiskDriver : public io::PnpDevice {
 public:
  struct Params {
    unsigned unit = 0;  // N of \Device\HarddiskN
    std::string name;   // also linked as \??\<name> when not empty
    std::uint64_t sectors = 8192;
    bool dma = true;                      // false: PIO through DATA
    bool polling = false;                 // false: interrupt-driven
    std::uint16_t dma_port = 0xc00;       // the DMA controller's (its channel comes from START)
    unsigned dma_mode = 0;                // 0 burst, 1 cycle-stealing, 2 transparent
    unsigned poll_interval_cycles = 200;  // between two ALT_STATUS reads
    unsigned isr_cycles = 150, dpc_cycles = 300, start_io_cycles = 200, dispatch_cycles = 150;
  };
  struct Stats {
    std::uint64_t requests = 0, sectors = 0, errors = 0, interrupts = 0, polls = 0;
    // On PCI: the vendor and device IDs the driver read from its own configuration space at
    // START_DEVICE (IRP_MN_READ_CONFIG through its bus driver); 0 on a legacy bus.
    std::uint32_t pci_id = 0;
  };

  DiskDriver(io::IoManager& io, Params params);
  // DriverEntry: loads \Driver\Disk and fills its dispatch table. Once per boot.
  static io::DriverObject& driver_entry(io::IoManager& io);
  // AddDevice: creates this disk's device object and attaches it over `pdo`. False on failure.
  bool add_device(io::DriverObject& driver, io::DeviceObject& pdo);
  // PnP (io::PnpDevice): the resources from START_DEVICE; removal.
  io::Status start(const io::ResourceList& raw, const io::ResourceList& translated) override;
  void surprise_removal() override;
  void remove() override { surprise_removal(); }
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
