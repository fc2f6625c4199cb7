#pragma once
// The PCI bus driver (\Driver\PCI, in the shape of pci.sys): the function driver of the host
// bridge's node (*PNP0A03, found by the root enumerator) and the bus driver of every function
// it finds on bus 0 through configuration mechanism #1.
//   FDO  START_DEVICE: routes PIRQA (the bridge's own INTA#) to the IRQ the PnP manager
//        assigned and connects the hot-plug ISR there (shared, level-sensitive)
//        QUERY_DEVICE_RELATIONS (BusRelations): scans devices 1..31 (vendor ID != 0xFFFF), one
//        PDO per function, kept across scans; a function that vanished is left out
//   PDO  QUERY_ID: PCI\VEN_v&DEV_d&SUBSYS_s&REV_r and the shorter forms; compatible
//        PCI\VEN_v&CC_c, PCI\CC_c
//        QUERY_RESOURCE_REQUIREMENTS: BAR0 sized by writing all ones (an I/O or a memory
//        window inside the bridge's aperture, aligned to its size); INTA#: the IRQ its link is
//        routed to, or any IRQ the router reaches (shared, level); the ISA DMA channel wired
//        to the slot, from the firmware table (Params::dma)
//        START_DEVICE: programs BAR0, INTERRUPT_LINE and the link's route, then enables decode
//        REMOVE_DEVICE: disables decode; deletes the PDO once the function has left the bus
//   ISR  (hot-plug) reads and clears the bridge's hot-plug status; its DPC wakes the bus's
//        worker thread, which calls IoInvalidateDeviceRelations at PASSIVE_LEVEL
// Configuration cycles run at HIGH_LEVEL (the address/data pair must not be split by the
// hot-plug ISR, which uses it too), as pci.sys raises for its config-space lock.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sw/io/io_manager.h"
#include "sw/io/pnp.h"
#include "sw/ke/kernel.h"

namespace drivers {

class PciDriver {
 public:
  struct Params {
    std::uint16_t config_port = 0xcf8;
    std::uint64_t io_base = 0xc000, io_size = 0x4000;               // the bridge's I/O aperture
    std::uint64_t memory_base = 0xfe000000, memory_size = 1 << 24;  // its memory aperture
    std::vector<unsigned> irqs;                                     // the IRQs the router can drive
    std::map<unsigned, unsigned> dma;  // slot -> ISA DMA channel wired to it (firmware table)
    unsigned isr_cycles = 120, dpc_cycles = 100;
  };
  struct Stats {
    std::uint64_t config_reads = 0, config_writes = 0, scans = 0, hotplug_interrupts = 0;
    std::uint64_t functions = 0;
  };

  PciDriver(io::IoManager& io, io::PnpManager& pnp, Params params);
  ~PciDriver();
  // DriverEntry: \Driver\PCI with its AddDevice and IRP_MJ_PNP dispatch.
  io::DriverObject& driver_entry();
  const Stats& stats() const { return stats_; }
  io::DriverObject* driver() const { return driver_; }

  // Configuration-space access (bus 0, function 0), at HIGH_LEVEL.
  std::uint32_t read_config(unsigned slot, unsigned reg);
  void write_config(unsigned slot, unsigned reg, std::uint32_t value);

 private:
  struct Node;  // an FDO's or PDO's extension
  static io::Status dispatch_pnp(io::DeviceObject* d, io::Irp* irp);
  io::Status fdo_pnp(Node& n, io::Irp& irp);
  io::Status pdo_pnp(Node& n, io::Irp& irp);
  io::Status start_bus(Node& n, const io::ResourceList& translated);
  static bool isr(ke::Interrupt* interrupt, void* context);
  static void dpc(ke::Dpc* dpc, io::DeviceObject* d, io::Irp* irp, void* context);
  void route(unsigned link, unsigned irq);

  io::IoManager& io_;
  ke::Kernel& kernel_;
  io::PnpManager& pnp_;
  Params params_;
  io::DriverObject* driver_ = nullptr;
  std::vector<std::unique_ptr<Node>> nodes_;
  Node* fdo_ = nullptr;
  ke::Interrupt* interrupt_ = nullptr;
  ke::Event hotplug_;
  std::uint32_t pending_ = 0;
  bool worker_ = false;
  Stats stats_;
};

}  // namespace drivers
