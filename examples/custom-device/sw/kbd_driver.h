#pragma once
// The keyboard's driver (\Driver\Kbd; \Device\KeyboardN per instance, linked as \??\<name>),
// in the NT shape, written only against iocosim's software stack (no SystemC):
//   DriverEntry  fills the dispatch table: CREATE/CLOSE succeed, READ is dispatch_read
//   AddDevice    creates the device object (buffered I/O) and attaches it over the PDO
//   START        (IRP_MN_START_DEVICE, through io::IoManager::dispatch_pnp) maps the register
//                window it was given, connects the ISR to the translated interrupt, enables
//                the controller's interrupt
//   dispatch     READ: bytes already in the ring complete the IRP at once; otherwise it is
//                marked pending (cancelable) until the DPC has bytes for it
//   ISR          reads STATUS (not ours: returns false), takes DATA into the ring (which
//                lowers the line), queues the DPC
//   DPC          completes the pending read with what the ring holds
#include <cstdint>
#include <deque>
#include <string>

#include "sw/hal/window.h"
#include "sw/io/io_manager.h"
#include "sw/ke/kernel.h"

namespace kbd {

class KeyboardDriver : public io::PnpDevice {
 public:
  struct Params {
    unsigned unit = 0;  // N of \Device\KeyboardN
    std::string name;   // linked as \??\<name>
    unsigned isr_cycles = 60, dpc_cycles = 120;
  };
  struct Stats {
    std::uint64_t bytes = 0, interrupts = 0, completed = 0, cancelled = 0, ring_overflows = 0;
  };

  KeyboardDriver(io::IoManager& io, Params params);
  static io::DriverObject& driver_entry(io::IoManager& io);
  bool add_device(io::DriverObject& driver, io::DeviceObject& pdo);
  io::Status start(const io::ResourceList& raw, const io::ResourceList& translated) override;
  void remove() override;
  io::DeviceObject* device() const { return device_; }
  const Stats& stats() const { return stats_; }

 private:
  static io::Status dispatch_read(io::DeviceObject* d, io::Irp* irp);
  static void cancel_read(io::DeviceObject* d, io::Irp* irp);
  static bool isr(ke::Interrupt* interrupt, void* context);
  static void dpc(ke::Dpc* dpc, io::DeviceObject* d, io::Irp* irp, void* context);
  // Moves ring bytes into the IRP's system buffer; the caller holds off the ISR.
  std::uint32_t take(io::Irp& irp);

  io::IoManager& io_;
  ke::Kernel& kernel_;
  Params params_;
  hal::RegisterWindow regs_;  // DATA, STATUS, CONTROL
  io::DeviceObject* device_ = nullptr;
  ke::Interrupt* interrupt_ = nullptr;
  ke::Irql device_irql_ = 0;
  std::deque<std::uint8_t> ring_;
  io::Irp* pending_ = nullptr;
  Stats stats_;
};

}  // namespace kbd
